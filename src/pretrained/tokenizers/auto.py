"""``AutoTokenizer``: load a tokenizer folder (or cached repo) the way transformers does.

The folder's ``tokenizer_config.json`` names a tokenizer class (``BertTokenizer``, ``LlamaTokenizerFast``,
...); each class differs only in defaults and a few fix-ups, kept here as data (:data:`CLASS_SPECS`).
Without ``tokenizer.json`` the tokenizer is built from legacy files (``vocab.txt``, ``vocab.json`` +
``merges.txt``, ``tokenizer.model``, ``spiece.model``, ``sentencepiece.bpe.model``, ...) by :mod:`.legacy`.

>>> from pretrained import AutoTokenizer  # doctest: +SKIP
>>> tok = AutoTokenizer.from_pretrained("bert-base-uncased")  # doctest: +SKIP
>>> type(tok).__name__  # doctest: +SKIP
'BertTokenizerFast'
"""

from __future__ import annotations

import importlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from .code_llama import CodeLlamaInfilling
from .language_codes import LANGUAGE_CODE_CLASSES, LanguageCodes
from .legacy import CONVENTIONS, VOCAB_FILES, convert_legacy
from .special_tokens import SPECIAL_TOKENS_ATTRIBUTES, added_token
from .tokenization import (
    ADDED_TOKENS_FILE,
    CHAT_TEMPLATE_DIR,
    CHAT_TEMPLATE_FILE,
    SPECIAL_TOKENS_MAP_FILE,
    TOKENIZER_CONFIG_FILE,
    TOKENIZER_FILE,
    PreTrainedTokenizer,
)
from .tokenizer_classes import CLASS_SPECS, MODEL_TYPE_TO_TOKENIZER, SLOW_SPECS

log = logging.getLogger(__name__)

# classes transformers has only as slow tokenizers (no tokenizer.json): class name -> our module that loads them
OWN_LOADERS: dict[str, str] = {"MarianTokenizer": ".marian"}
_CLASS_CACHE: dict[str, type] = {}


def tokenizer_class_for(name: str | None) -> type[PreTrainedTokenizer]:
    """The ``PreTrainedTokenizer`` subclass for a transformers tokenizer class name (``"BertTokenizerFast"``).

    Unknown names get the generic class, with a warning.

    >>> tokenizer_class_for("BertTokenizer").__name__
    'BertTokenizerFast'
    """
    base = (name or "PreTrainedTokenizer").removesuffix("Fast")
    if base not in CLASS_SPECS:
        log.warning(
            "tokenizer class %r is not one we know; loading it as a generic PreTrainedTokenizerFast. Ids come from "
            "tokenizer.json, but class-specific defaults (special tokens, model inputs) may differ.",
            name,
        )
        base = "PreTrainedTokenizer"
    if base not in _CLASS_CACHE:
        spec = CLASS_SPECS[base]
        attrs = {
            "model_input_names": list(spec.get("inputs", PreTrainedTokenizer.model_input_names)),
            "padding_side": spec.get("padding_side", "right"),
            "tokenizer_class_name": base,
            "class_defaults": dict(spec.get("defaults", {})),
            "class_fixups": tuple(spec.get("fixups", ())),
            "class_pad_token_type_id": spec.get("pad_token_type_id", 0),
            "__module__": __name__,
        }
        bases: tuple[type, ...] = (PreTrainedTokenizer,)
        if base in LANGUAGE_CODE_CLASSES:
            bases = (LanguageCodes, PreTrainedTokenizer)
            attrs["language_spec"] = LANGUAGE_CODE_CLASSES[base]
        if base == "CodeLlamaTokenizer":
            bases = (CodeLlamaInfilling, PreTrainedTokenizer)
        _CLASS_CACHE[base] = (
            PreTrainedTokenizer if base == "PreTrainedTokenizer" else type(f"{base}Fast", bases, attrs)
        )
    return _CLASS_CACHE[base]


def __getattr__(name: str) -> type[PreTrainedTokenizer]:
    """``pretrained.tokenizers.auto.BertTokenizerFast`` & co, so tokenizers pickle by class name."""
    if name.endswith("Fast") and name.removesuffix("Fast") in CLASS_SPECS:
        return tokenizer_class_for(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _find(name_or_path: str | os.PathLike, filename: str, **where: Any) -> Path | None:
    """A file of the model if it exists (local folder or HF cache snapshot), else None."""
    from ..hub import resolve_file

    return resolve_file(name_or_path, filename, required=False, **where)


def _read_json(path: Path | None) -> Any:
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e}); the file is corrupt or truncated") from None


def _convert_saved_tokens(obj: Any) -> Any:
    """transformers' ``convert_added_tokens(save=False)``: ``{"__type": "AddedToken", ...}`` -> AddedToken."""
    if isinstance(obj, dict) and obj.get("__type") == "AddedToken":
        return added_token(obj)
    if isinstance(obj, (list, tuple)):
        return [_convert_saved_tokens(o) for o in obj]
    if isinstance(obj, dict):
        return {k: _convert_saved_tokens(v) for k, v in obj.items()}
    return obj


def _class_name(name_or_path: Any, config: dict, where: dict, requested: str | None) -> str | None:
    if requested is not None:
        return requested
    if config.get("tokenizer_class"):
        return config["tokenizer_class"]
    model_config = _read_json(_find(name_or_path, "config.json", **where)) or {}
    if model_config.get("tokenizer_class"):
        return model_config["tokenizer_class"]
    return MODEL_TYPE_TO_TOKENIZER.get(model_config.get("model_type"))


def _chat_templates(name_or_path: Any, where: dict) -> dict[str, str]:
    templates = {}
    path = _find(name_or_path, CHAT_TEMPLATE_FILE, **where)
    if path is not None:
        templates["default"] = path.read_text(encoding="utf-8")
    from ..hub import resolve_dir

    root = resolve_dir(name_or_path, revision=where["revision"], cache_dir=where["cache_dir"])
    folder = root / where.get("subfolder", "") / CHAT_TEMPLATE_DIR
    if folder.is_dir():
        for file in sorted(folder.glob("*.jinja")):
            templates[file.name.removesuffix(".jinja")] = file.read_text(encoding="utf-8")
    return templates


def _special_tokens(
    init_kwargs: dict, user_kwargs: dict, files: dict[str, Path | None], tokenizer_json: dict | None
):
    """Collect added tokens and special tokens as transformers' ``_from_pretrained`` does."""
    decoder: dict[int, Any] = {}
    if "added_tokens_decoder" in init_kwargs:
        for idx, token in init_kwargs["added_tokens_decoder"].items():
            token = added_token(token)
            if not hasattr(token, "content"):
                raise TypeError(
                    f"added_tokens_decoder[{idx}] in tokenizer_config.json must be a dict, got {token!r}"
                )
            decoder[int(idx)] = token
    else:
        for key, value in (_read_json(files["special_tokens_map_file"]) or {}).items():
            if key in user_kwargs and user_kwargs[key]:
                continue
            if isinstance(value, dict):
                value = added_token({**value, "special": True})
            elif key == "additional_special_tokens" and isinstance(value, list):
                merged = list(init_kwargs.pop("additional_special_tokens", None) or [])
                for token in value:
                    token = added_token({**token, "special": True}) if isinstance(token, dict) else token
                    if token not in merged:
                        merged.append(token)
                value = merged
            init_kwargs[key] = value
        if files["added_tokens_file"] is not None:
            specials = {str(v) for k in SPECIAL_TOKENS_ATTRIBUTES for v in _as_list(init_kwargs.get(k))}
            for content, index in (_read_json(files["added_tokens_file"]) or {}).items():
                special = content in specials
                decoder[index] = added_token(
                    {
                        "content": content,
                        "rstrip": False,
                        "lstrip": False,
                        "normalized": not special,
                        "special": special,
                    }
                )
        for token in (tokenizer_json or {}).get("added_tokens", []):
            decoder[token["id"]] = added_token(token)
    init_kwargs["added_tokens_decoder"] = decoder
    init_kwargs.update(
        _convert_saved_tokens({k: v for k, v in init_kwargs.items() if k != "added_tokens_decoder"})
    )
    by_content = {str(t): t for t in decoder.values()}
    for key in SPECIAL_TOKENS_ATTRIBUTES:
        value = init_kwargs.get(key)
        if by_content and value is not None and key != "additional_special_tokens":
            init_kwargs[key] = by_content.get(str(value), value)


def _as_list(value: Any) -> list:
    return [] if value is None else list(value) if isinstance(value, (list, tuple)) else [value]


def _legacy_files(name_or_path: Any, cls: type, has_json: bool, options: dict, where: dict) -> dict | None:
    """The legacy vocabulary files to convert, or None to use tokenizer.json (the rules of transformers)."""
    convention = CONVENTIONS.get(cls.tokenizer_class_name)
    files = {k: _find(name_or_path, f, **where) for k, f in VOCAB_FILES.get(convention, {}).items()}
    have_legacy = convention is not None and all(p is not None for p in files.values())
    spm = convention in ("llama", "t5")
    from_slow = options.get("from_slow", False) or (spm and options.get("add_prefix_space") is not None)
    if has_json and not (from_slow and have_legacy):
        return None
    if have_legacy:
        return files
    wanted = ", ".join(sorted(set(VOCAB_FILES.get(convention, {}).values())))
    raise FileNotFoundError(
        f"Can't load tokenizer for {str(name_or_path)!r}: no {TOKENIZER_FILE} in "
        f"{Path(name_or_path) / where.get('subfolder', '')}"
        + (f", and no {wanted} for {cls.tokenizer_class_name}" if convention else "")
        + ". Pass a folder holding tokenizer.json, or the legacy vocabulary files of one of the tokenizer classes "
        + ", ".join(sorted(CONVENTIONS))
        + " (named by tokenizer_class in tokenizer_config.json)."
    )


def _check_slow_src_lang(class_name: str, src_lang: Any) -> None:
    """The slow MBartTokenizer (built to convert legacy files) looks its ``src_lang`` up in its language codes."""
    spec = LANGUAGE_CODE_CLASSES.get(class_name)
    if (
        class_name == "MBartTokenizer"
        and spec is not None
        and src_lang is not None
        and src_lang not in spec.codes
    ):
        raise KeyError(
            f"src_lang={src_lang!r} is not a language code of {class_name}; use one of {', '.join(spec.codes)}"
        )


def _added_token_ids(init_kwargs: dict, files: dict[str, Path | None]) -> dict[str, int]:
    """content -> id of the tokens added beside the vocabulary (added_tokens_decoder, added_tokens.json)."""
    ids = {str(content): int(i) for content, i in (_read_json(files["added_tokens_file"]) or {}).items()}
    for i, token in (init_kwargs.get("added_tokens_decoder") or {}).items():
        content = token.get("content") if isinstance(token, dict) else getattr(token, "content", None)
        if content is not None:
            ids[str(content)] = int(i)
    return ids


def _slow_tokens(init_kwargs: dict, defaults: dict, wrap: dict[str, dict]) -> None:
    """The special tokens as the slow tokenizer hands them over: wrapped in AddedToken, ``normalized`` fixed."""
    for key in SPECIAL_TOKENS_ATTRIBUTES[:-1]:
        value = init_kwargs.get(key, added_token(defaults.get(key)))
        if key not in init_kwargs and key in wrap and value is not None:
            value = str(value)  # the class's default token, wrapped by the slow class as a string would be
        if isinstance(value, str) and key in wrap:
            flags = wrap[key]
            normalized = flags.get("normalized", not flags.get("special", False))
            init_kwargs[key] = added_token({"content": value, **flags, "normalized": normalized})
        elif value is not None and not isinstance(value, str):
            value.normalized = value.normalized  # the slow tokenizer deep-copies its tokens, fixing the flag
            init_kwargs[key] = value


def load_tokenizer(
    name_or_path: str | os.PathLike,
    *,
    tokenizer_class: str | None = None,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    subfolder: str = "",
    **kwargs: Any,
) -> PreTrainedTokenizer:
    """Load a tokenizer from a folder or cached repo id; ``tokenizer_class=None`` picks it from the config.

    >>> tok = load_tokenizer("path/to/bert")  # doctest: +SKIP
    """
    for key in ("use_fast", "trust_remote_code", "token", "local_files_only", "force_download", "_from_auto"):
        kwargs.pop(key, None)
    from ..hub import resolve_dir

    if kwargs.get("gguf_file") is not None:
        folder = resolve_dir(name_or_path, revision=revision, cache_dir=cache_dir) / subfolder
        return load_gguf_tokenizer(folder, kwargs.pop("gguf_file"), **kwargs)

    resolve_dir(
        name_or_path, revision=revision, cache_dir=cache_dir
    )  # a clear error when the name is unknown
    where = {"revision": revision, "cache_dir": cache_dir, "subfolder": subfolder}
    names = {
        "tokenizer_config_file": TOKENIZER_CONFIG_FILE,
        "special_tokens_map_file": SPECIAL_TOKENS_MAP_FILE,
        "added_tokens_file": ADDED_TOKENS_FILE,
        "tokenizer_file": TOKENIZER_FILE,
    }
    files = {key: _find(name_or_path, filename, **where) for key, filename in names.items()}
    init_kwargs = _read_json(files["tokenizer_config_file"]) or {}
    if not isinstance(init_kwargs, dict):
        raise ValueError(f"{files['tokenizer_config_file']}: expected a JSON object")
    tokenizer_type = kwargs.pop("tokenizer_type", None)
    if tokenizer_type is not None:
        if tokenizer_type not in MODEL_TYPE_TO_TOKENIZER:
            raise ValueError(
                f"tokenizer_type={tokenizer_type!r} is not a model type we map to a tokenizer; use one of "
                f"{', '.join(sorted(MODEL_TYPE_TO_TOKENIZER))}"
            )
        tokenizer_class = tokenizer_class or MODEL_TYPE_TO_TOKENIZER[tokenizer_type]
    class_name = _class_name(name_or_path, init_kwargs, where, tokenizer_class)
    base = (class_name or "").removesuffix("Fast")
    if base in OWN_LOADERS:
        own = getattr(importlib.import_module(OWN_LOADERS[base], __package__), base)
        return own.from_pretrained(
            name_or_path, revision=revision, cache_dir=cache_dir, subfolder=subfolder, **kwargs
        )
    cls = tokenizer_class_for(class_name)
    for key in ("tokenizer_class", "init_inputs", "auto_map"):
        init_kwargs.pop(key, None)
    templates = _chat_templates(name_or_path, where)
    if templates:
        init_kwargs["chat_template"] = templates["default"] if list(templates) == ["default"] else templates
    init_kwargs.update(kwargs)
    file_json = _read_json(files["tokenizer_file"])
    if file_json is not None and not isinstance(file_json, dict):
        raise ValueError(f"{files['tokenizer_file']}: expected a JSON object (a tokenizers serialization)")
    options = {**cls.class_defaults, **init_kwargs}
    legacy = _legacy_files(name_or_path, cls, file_json is not None, options, where)
    slow = SLOW_SPECS.get(cls.tokenizer_class_name, {})
    if legacy is not None:
        # the slow class takes add_prefix_space from the fast class's kwargs (None: no prefix) when
        # tokenizer.json is there (from_slow), else from the config, and only then its own default (True)
        prefix_given = file_json is not None or "add_prefix_space" in init_kwargs
        prefix = {"add_prefix_space": bool(init_kwargs.get("add_prefix_space"))} if prefix_given else {}
        given = dict(init_kwargs)
        if (
            "added_tokens_decoder" not in given
        ):  # special_tokens_map.json is read then; the slow class gets it
            for key, value in (_read_json(files["special_tokens_map_file"]) or {}).items():
                if not (key in kwargs and kwargs[key]) and key != "additional_special_tokens":
                    given[key] = value
        # the slow class transformers builds to convert hands its own init kwargs on (saved with the tokenizer)
        init_kwargs = {**slow.get("defaults", {}), **slow.get("init", {}), **init_kwargs}
        if "legacy" in slow.get("init", {}) and init_kwargs.get("legacy") is None:
            init_kwargs["legacy"] = True  # the slow class resolves legacy=None to True
        # the settings of the slow class: its defaults override the fast class's, the config overrides both
        given = {k: added_token(v) if isinstance(v, dict) and "content" in v else v for k, v in given.items()}
        options = _convert_saved_tokens(
            {
                **cls.class_defaults,
                **slow.get("defaults", {}),
                **slow.get("unset", {}),
                **slow.get("convert", {}),
                **given,
                **prefix,
            }
        )
        options["added_token_ids"] = _added_token_ids(given, files)
        _check_slow_src_lang(cls.tokenizer_class_name, options.get("src_lang"))
        log.info("no tokenizer.json for %s; converting %s", name_or_path, [p.name for p in legacy.values()])
        tokenizer_json = convert_legacy(CONVENTIONS[cls.tokenizer_class_name], legacy, options)
    else:
        tokenizer_json = file_json
    _special_tokens(init_kwargs, kwargs, files, file_json)
    if legacy is not None:
        for key, value in slow.get("unset", {}).items():
            init_kwargs.setdefault(key, value)
        _slow_tokens(init_kwargs, cls.class_defaults, slow.get("wrap", {}))
    init_kwargs["name_or_path"] = str(name_or_path)
    for key in ("tokenizer_file", "vocab_file", "merges_file", "special_tokens_map_file", "from_slow"):
        init_kwargs.pop(key, None)
    tok = cls(tokenizer_json=tokenizer_json, **init_kwargs)
    convention = CONVENTIONS.get(cls.tokenizer_class_name)
    vocab_files = {k: _find(name_or_path, f, **where) for k, f in VOCAB_FILES.get(convention, {}).items()}
    tok.vocab_files = {k: p for k, p in vocab_files.items() if p is not None}  # copied by save_pretrained
    return tok


def load_gguf_tokenizer(
    folder: str | os.PathLike, gguf_file: str | os.PathLike, **kwargs: Any
) -> PreTrainedTokenizer:
    """The tokenizer stored in a llama.cpp file (``gguf_file`` inside ``folder``), as transformers builds it.

    >>> tok = load_gguf_tokenizer("models/", "SmolLM2-135M-Instruct.Q4_1.gguf")  # doctest: +SKIP
    """
    from ..gguf import gguf_tokenizer, read_gguf
    from ..modeling import find_gguf

    path = find_gguf(Path(folder), gguf_file)
    with read_gguf(path) as f:
        tokenizer_json, config = gguf_tokenizer(f)
    cls = tokenizer_class_for(kwargs.pop("tokenizer_class", None) or config.pop("tokenizer_class"))
    config.pop("tokenizer_class", None)
    init_kwargs = {**config, **kwargs}
    no_files = {"special_tokens_map_file": None, "added_tokens_file": None}
    _special_tokens(init_kwargs, kwargs, no_files, tokenizer_json)
    init_kwargs["name_or_path"] = str(folder)
    return cls(tokenizer_json=tokenizer_json, **init_kwargs)


class AutoTokenizer:
    """Load the right tokenizer for a checkpoint folder or cached repo id.

    >>> tok = AutoTokenizer.from_pretrained("path/to/model")  # doctest: +SKIP
    >>> tok("Hello world")["input_ids"]  # doctest: +SKIP
    """

    def __init__(self) -> None:
        raise OSError(
            "AutoTokenizer is designed to be instantiated using AutoTokenizer.from_pretrained(path)"
        )

    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: str | os.PathLike,
        *inputs: Any,
        revision: str | None = None,
        **kwargs: Any,
    ) -> PreTrainedTokenizer:
        """Read tokenizer_config.json (and config.json) to pick the tokenizer class, then load it."""
        return load_tokenizer(pretrained_model_name_or_path, revision=revision, **kwargs)
