"""The Model interface shared by BPE, WordPiece, WordLevel and Unigram."""

from __future__ import annotations

import json
import os
from operator import attrgetter
from typing import Any, NamedTuple


class Token(NamedTuple):
    """One token: id, string value, and (start, end) char offsets inside the word."""

    id: int
    value: str
    offsets: tuple[int, int]


RawToken = tuple[int, str, tuple[int, int]]


class ByteSpan(tuple):  # type: ignore[type-arg]
    """Token offsets in UTF-8 bytes of the word, for a token that ends past its word (see ``BPE``)."""

    __slots__ = ()


# a word's tokens as the Tokenizer's fast path wants them: ids, values, offsets (chars inside the word);
# tuples of atoms, which the garbage collector stops tracking, so a full cache costs collections nothing
Entry = tuple[tuple[int, ...], tuple[str, ...], tuple[tuple[int, int], ...]]
ENTRY_CAPACITY = 50_000  # words per entry cache (cleared when full)


class Model:
    """Base class: ``tokenize(word) -> list[Token]`` plus vocabulary lookups and (de)serialization."""

    type_name = ""
    vocab: dict[str, int]
    vocab_r: dict[int, str]
    # the attributes that change how a word tokenizes: the word caches are emptied when one changes
    settings: tuple[str, ...] = ()
    # words longer than this are cut by ``_pieces`` before tokenizing (BPE); pieces share the word's index
    split_from = 1 << 62

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._settings_key = staticmethod(attrgetter("vocab", "type_name", *cls.settings))

    def tokenize(self, sequence: str) -> list[Token]:
        """Tokens (id, value, offsets) for one pre-tokenized word.

        Like the reference's ``Model.tokenize``, offsets here count UTF-8 bytes of ``sequence``
        (the Tokenizer itself reports char offsets).
        """
        raw = self._tokenize(sequence)
        if sequence.isascii():
            return [Token(*t) for t in raw]
        byte_at = [0]
        for c in sequence:
            byte_at.append(byte_at[-1] + len(c.encode()))
        return [Token(i, v, o if type(o) is ByteSpan else (byte_at[o[0]], byte_at[o[1]])) for i, v, o in raw]

    def _tokenize(self, sequence: str) -> list[RawToken]:
        """What ``tokenize`` returns, as plain tuples (the fast path the Tokenizer uses)."""
        raise NotImplementedError

    def _tokenize_uncached(self, sequence: str) -> list[RawToken]:
        """``_tokenize`` without filling the model's own cache (the entry caches keep the result)."""
        return self._tokenize(sequence)

    def _pieces(self, word: str) -> list[str]:
        """Pieces of ``word``, in order, whose tokens (shifted to their place) are the word's tokens."""
        return [word]

    def _entry(self, word: str) -> Entry:
        toks = self._tokenize_uncached(word)
        return tuple(zip(*toks)) if toks else ((), (), ())  # type: ignore[return-value]

    def _word_entries(self, table: dict[int, str] | None) -> dict[str, Entry]:
        """The cache word -> ``_entry(word.translate(table))`` (``table`` None: the word itself).

        Emptied, with the model's own cache, when the vocab object or one of ``settings`` changes.
        """
        key = self._settings_key(self)
        state = self.__dict__.get("_entry_state")
        if state is None or state[0][0] is not key[0] or state[0] != key:
            cache = getattr(self, "_cache", None)
            if cache is not None:
                cache.data.clear()
            state = self._entry_state = (key, {})
        caches = state[1]
        found = caches.get(id(table))
        if found is None or found[0] is not table:
            found = caches[id(table)] = (table, {})
        return found[1]

    def __getstate__(self) -> dict[str, Any]:
        """Pickle (and deepcopy) without the word caches: they refill on use."""
        state = dict(self.__dict__)
        state.pop("_entry_state", None)
        cache = state.get("_cache")
        if isinstance(cache, WordCache):
            state["_cache"] = WordCache(cache.capacity)
        return state

    def get_trainer(self) -> Any:
        """The trainer that fits this model type, with default settings."""
        from ..trainers import default_trainer

        return default_trainer(self)

    def token_to_id(self, token: str) -> int | None:
        return self.vocab.get(token)

    def id_to_token(self, id: int) -> str | None:
        return self.vocab_r.get(id)

    def get_vocab(self) -> dict[str, int]:
        return dict(self.vocab)

    def get_vocab_size(self) -> int:
        return len(self.vocab)

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def ordered_vocab(self) -> dict[str, int]:
        """The vocab sorted by id, as the reference writes it."""
        return {self.vocab_r[i]: i for i in sorted(self.vocab_r)}

    def save(self, folder: str, prefix: str | None = None) -> list[str]:
        """Write ``[prefix-]vocab.json`` (the whole model dict for formats without a vocab file)."""
        name = f"{prefix}-vocab.json" if prefix else "vocab.json"
        path = os.path.join(folder, name)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.ordered_vocab(), f, ensure_ascii=False)
        return [path]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(vocab_size={self.get_vocab_size()})"


class WordCache:
    """A bounded word -> tokens cache (cleared when full; words are short-lived in practice)."""

    __slots__ = ("data", "capacity")

    def __init__(self, capacity: int = 10_000) -> None:
        self.data: dict[str, list[RawToken]] = {}
        self.capacity = capacity

    def get(self, word: str) -> list[RawToken] | None:
        return self.data.get(word)

    def put(self, word: str, tokens: list[RawToken]) -> None:
        if len(self.data) >= self.capacity:
            self.data.clear()
        self.data[word] = tokens


def check_vocab(vocab: Any, model: str) -> dict[str, int]:
    """A {token: id} dict with int ids, or a clear error."""
    from .._registry import TokenizerFileError

    if not isinstance(vocab, dict):
        raise TokenizerFileError(
            f"tokenizer.json: {model} vocab must be an object {{token: id}}, got {type(vocab).__name__}"
        )
    for k, v in vocab.items():
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise TokenizerFileError(
                f"tokenizer.json: {model} vocab entry {k!r} has id {v!r}; ids must be non-negative integers"
            )
    return vocab
