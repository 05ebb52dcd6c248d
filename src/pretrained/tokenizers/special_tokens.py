"""Special-token attributes (``pad_token``, ``pad_token_id``, ...) and adding tokens, as in transformers.

>>> tok.pad_token = tok.eos_token  # doctest: +SKIP
>>> tok.add_special_tokens({"additional_special_tokens": ["<tool>"]})  # doctest: +SKIP
1
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

SPECIAL_TOKENS_ATTRIBUTES = [
    "bos_token",
    "eos_token",
    "unk_token",
    "sep_token",
    "pad_token",
    "cls_token",
    "mask_token",
    "additional_special_tokens",
]

ADDED_TOKEN_FIELDS = ("content", "single_word", "lstrip", "rstrip", "normalized", "special")


def engine_classes() -> tuple[type, type]:
    """(Tokenizer, AddedToken) of our engine, imported on first use so ``import pretrained`` stays fast."""
    from .added_vocab import AddedToken
    from .tokenizer import Tokenizer

    return Tokenizer, AddedToken


def added_token(obj: Any) -> Any:
    """A saved token (``{"content": ..., "__type": "AddedToken"}``) -> ``AddedToken``; str and tokens unchanged."""
    if isinstance(obj, dict):
        _, AddedToken = engine_classes()
        fields = {k: v for k, v in obj.items() if k in ADDED_TOKEN_FIELDS}
        if "content" not in fields:
            raise ValueError(f"a saved added token needs a 'content' field, got {obj!r}")
        return AddedToken(**fields)
    return obj


def added_token_state(token: Any) -> dict:
    """``AddedToken`` -> the dict transformers writes (content and the five flags)."""
    return {k: getattr(token, k) for k in ADDED_TOKEN_FIELDS}


def _is_token(value: Any) -> bool:
    return isinstance(value, str) or hasattr(value, "content")


class _SpecialToken:
    """Descriptor for ``tok.bos_token`` & co: the string form of the stored str or AddedToken."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type) -> Any:
        if obj is None:
            return self
        value = obj._special_tokens_map.get(self.name)
        return None if value is None else str(value)

    def __set__(self, obj: Any, value: Any) -> None:
        if value is not None and not _is_token(value):
            raise ValueError(f"Cannot set a non-string value as the {self.name}: {value!r}")
        obj._special_tokens_map[self.name] = value


class _SpecialTokenId:
    """Descriptor for ``tok.bos_token_id`` & co: reads and writes through the vocabulary."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type) -> Any:
        if obj is None:
            return self
        token = getattr(obj, self.name)
        return None if token is None else obj.convert_tokens_to_ids(token)

    def __set__(self, obj: Any, value: int | None) -> None:
        setattr(obj, self.name, None if value is None else obj.convert_ids_to_tokens(value))


class SpecialTokensMixin:
    """The special-token part of transformers' tokenizer API."""

    SPECIAL_TOKENS_ATTRIBUTES = list(SPECIAL_TOKENS_ATTRIBUTES)
    _special_tokens_map: dict[str, Any]

    bos_token = _SpecialToken("bos_token")
    eos_token = _SpecialToken("eos_token")
    unk_token = _SpecialToken("unk_token")
    sep_token = _SpecialToken("sep_token")
    pad_token = _SpecialToken("pad_token")
    cls_token = _SpecialToken("cls_token")
    mask_token = _SpecialToken("mask_token")
    bos_token_id = _SpecialTokenId("bos_token")
    eos_token_id = _SpecialTokenId("eos_token")
    unk_token_id = _SpecialTokenId("unk_token")
    sep_token_id = _SpecialTokenId("sep_token")
    pad_token_id = _SpecialTokenId("pad_token")
    cls_token_id = _SpecialTokenId("cls_token")
    mask_token_id = _SpecialTokenId("mask_token")

    def _init_special_tokens(self, kwargs: dict) -> None:
        self._special_tokens_map = dict.fromkeys(SPECIAL_TOKENS_ATTRIBUTES)
        self._special_tokens_map["additional_special_tokens"] = []
        for key in SPECIAL_TOKENS_ATTRIBUTES:
            value = added_token(kwargs.pop(key, None))
            if value is None:
                continue
            if key == "additional_special_tokens":
                if not isinstance(value, (list, tuple)):
                    raise TypeError(
                        f"additional_special_tokens must be a list or tuple, got {type(value).__name__}"
                    )
                value = [added_token(t) for t in value]
                bad = [t for t in value if not _is_token(t)]
                if bad:
                    raise TypeError(
                        f"additional_special_tokens holds non-token values {bad!r}; use str or AddedToken"
                    )
                self.additional_special_tokens = value
            elif _is_token(value):
                setattr(self, key, value)
            else:
                raise TypeError(
                    f"Special token {key} has to be either str or AddedToken but got: {type(value)}"
                )

    def _set_model_specific_special_tokens(self, special_tokens: dict) -> None:
        """Extra named special tokens (``image_token``...) readable as ``tok.image_token`` / ``tok.image_token_id``."""
        if not isinstance(special_tokens, dict):
            raise TypeError(
                f"extra_special_tokens must be a dict of name -> token, got {type(special_tokens).__name__}"
            )
        self.SPECIAL_TOKENS_ATTRIBUTES = self.SPECIAL_TOKENS_ATTRIBUTES + list(special_tokens)
        for key, value in special_tokens.items():
            value = added_token(value)
            if not _is_token(value):
                raise TypeError(
                    f"Special token {key} has to be either str or AddedToken but got: {type(value)}"
                )
            self._special_tokens_map[key] = value

    def _extra_special_name(self, key: str) -> tuple[str, bool] | None:
        stm = self.__dict__.get("_special_tokens_map")
        if stm is None:
            return None
        if key in stm:
            return key, False
        base = key[:-4] if key.endswith("_ids") else key[:-3] if key.endswith("_id") else None
        return (base, True) if base is not None and base in stm else None

    def __getattr__(self, key: str) -> Any:
        found = self._extra_special_name(key)
        if found is None:
            raise AttributeError(f"{type(self).__name__} has no attribute {key}")
        name, is_id = found
        value = self._special_tokens_map[name]
        if is_id:
            return None if value is None else self.convert_tokens_to_ids(str(value))
        return None if value is None else str(value)

    def __setattr__(self, key: str, value: Any) -> None:
        found = None if hasattr(type(self), key) else self._extra_special_name(key)
        if found is None:
            object.__setattr__(self, key, value)
            return
        name, is_id = found
        if is_id and value is not None:
            value = self.convert_ids_to_tokens(value)
        if value is not None and not _is_token(value):
            raise ValueError(f"Cannot set a non-string value as the {name}")
        self._special_tokens_map[name] = value

    @property
    def additional_special_tokens(self) -> list[str]:
        return [str(t) for t in self._special_tokens_map["additional_special_tokens"] or []]

    @additional_special_tokens.setter
    def additional_special_tokens(self, value: list | None) -> None:
        if value is not None and not isinstance(value, (list, tuple)):
            raise ValueError(f"additional_special_tokens must be a list, got {type(value).__name__}")
        self._special_tokens_map["additional_special_tokens"] = list(value) if value is not None else None

    @property
    def additional_special_tokens_ids(self) -> list[int]:
        return [self.convert_tokens_to_ids(t) for t in self.additional_special_tokens]

    @additional_special_tokens_ids.setter
    def additional_special_tokens_ids(self, values: list[int]) -> None:
        self.additional_special_tokens = [self.convert_ids_to_tokens(v) for v in values]

    @property
    def pad_token_type_id(self) -> int:
        return self._pad_token_type_id

    @property
    def special_tokens_map(self) -> dict[str, Any]:
        """Attribute name -> token string (or list of strings) for every special token that is set."""
        out = {}
        for attr in self.SPECIAL_TOKENS_ATTRIBUTES:
            value = self._special_tokens_map.get(attr)
            if value:
                out[attr] = [str(t) for t in value] if attr == "additional_special_tokens" else str(value)
        return out

    @property
    def special_tokens_map_extended(self) -> dict[str, Any]:
        """Like :attr:`special_tokens_map`, keeping ``AddedToken`` objects."""
        return {
            a: self._special_tokens_map[a]
            for a in self.SPECIAL_TOKENS_ATTRIBUTES
            if self._special_tokens_map.get(a)
        }

    @property
    def all_special_tokens_extended(self) -> list[Any]:
        out: list[Any] = []
        seen: set[str] = set()
        for value in self.special_tokens_map_extended.values():
            # as the reference: a token repeated inside one list (additional tokens) stays repeated
            tokens = [
                t for t in (value if isinstance(value, (list, tuple)) else [value]) if str(t) not in seen
            ]
            seen.update(map(str, tokens))
            out.extend(tokens)
        return out

    @property
    def all_special_tokens(self) -> list[str]:
        """Every distinct special token string."""
        return [str(t) for t in self.all_special_tokens_extended]

    @property
    def all_special_ids(self) -> list[int]:
        """Ids of :attr:`all_special_tokens`."""
        return self.convert_tokens_to_ids(self.all_special_tokens)

    def add_special_tokens(
        self, special_tokens_dict: dict, replace_additional_special_tokens: bool = True
    ) -> int:
        """Set special-token attributes and add the tokens to the vocabulary; returns how many are new.

        >>> tok.add_special_tokens({"pad_token": "[PAD]"})  # doctest: +SKIP
        1
        """
        if not special_tokens_dict:
            return 0
        _, AddedToken = engine_classes()
        added = []
        for key, value in special_tokens_dict.items():
            if key not in self.SPECIAL_TOKENS_ATTRIBUTES:
                raise ValueError(
                    f"Key {key} is not a special token; use one of {self.SPECIAL_TOKENS_ATTRIBUTES}"
                )
            if key == "additional_special_tokens":
                if not isinstance(value, (list, tuple)) or not all(_is_token(t) for t in value):
                    raise ValueError(
                        f"Tokens {value} for key {key} should all be str or AddedToken instances"
                    )
                to_add = []
                for token in value:
                    if isinstance(token, str):
                        token = AddedToken(token, rstrip=False, lstrip=False, normalized=False, special=True)
                    if not replace_additional_special_tokens and str(token) in self.additional_special_tokens:
                        continue
                    to_add.append(token)
                if replace_additional_special_tokens and to_add:
                    self._special_tokens_map[key] = list(to_add)
                else:
                    self._special_tokens_map[key].extend(to_add)
                added += to_add
            else:
                if not _is_token(value):
                    raise ValueError(f"Token {value} for key {key} should be a str or an AddedToken instance")
                if isinstance(value, str):
                    value = AddedToken(value, rstrip=False, lstrip=False, normalized=False, special=True)
                self._special_tokens_map[key] = value
                if value not in added:
                    added.append(value)
        return self.add_tokens(added, special_tokens=True)

    def sanitize_special_tokens(self) -> int:
        """Deprecated in transformers (kept for old code): adds the special tokens again; returns how many are new.

        >>> tok.sanitize_special_tokens()  # doctest: +SKIP
        0
        """
        return self.add_tokens(self.all_special_tokens_extended, special_tokens=True)

    def add_tokens(self, new_tokens: Any, special_tokens: bool = False) -> int:
        """Add tokens (str or ``AddedToken``) that are never split; returns how many are new.

        >>> tok.add_tokens(["new_tok1", "my_new-tok2"])  # doctest: +SKIP
        2
        """
        if not new_tokens:
            return 0
        if not isinstance(new_tokens, (list, tuple)):
            new_tokens = [new_tokens]
        bad = [t for t in new_tokens if not _is_token(t)]
        if bad:
            raise TypeError(f"add_tokens() takes str or AddedToken values, got {bad!r}")
        return self._add_tokens(list(new_tokens), special_tokens=special_tokens)
