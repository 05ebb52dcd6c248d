"""The Tokenizer's fast path: whole-text normalization and splitting, then cached per-word tokens.

It covers the common pipelines (BERT, GPT-2 byte-level, SentencePiece-style Prepend/Replace or Metaspace)
whenever the normalizer maps the text char for char after some prepended chars, the pre-tokenizer only
cuts it, and no added token occurs. Then no NormalizedString, alignment list or per-word object is built:
words come as (word, start) pairs and each word's (ids, tokens, offsets) come from the model's entry
cache. Anything else returns None and the general path runs; both give the same Encoding.

>>> from pretrained.tokenizers import Tokenizer, models, pre_tokenizers
>>> tok = Tokenizer(models.WordLevel({"a": 0, "b": 1}, unk_token="a"))
>>> tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
>>> encode_fast(tok, "a b", 0, None).offsets
[(0, 1), (2, 3)]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import accumulate, count, repeat
from typing import Any

from ._bytes import ASCII_TO_BYTE_CHAR, BYTE_TO_CHAR
from .encoding import Encoding, LazyOffsets
from .models.base import ENTRY_CAPACITY, Entry, Model
from .normalizers import Normalizer
from .pre_tokenizers import PreTokenizer


def encode_fast(tok: Any, text: str, type_id: int, word_idx: int | None) -> Encoding | None:
    """The Encoding of ``text`` (before post-processing), or None when the general path is needed."""
    normalizer, pre = tok._normalizer, tok.pre_tokenizer
    if (pre is not None and type(pre).fast_split is PreTokenizer.fast_split) or (
        normalizer is not None and type(normalizer).fast_normalize is Normalizer.fast_normalize
    ):
        return None  # components that never take the fast path
    if normalizer is None:
        normalized, k = text, 0
    else:
        out = normalizer.fast_normalize(text)
        if out is None:
            return None
        normalized, k = out
    added = tok._added
    if added._raw.occurs_in(text) or added._norm.occurs_in(normalized):
        return None  # an added token: the general path splits around it
    model = tok._model
    if getattr(model, "overruns_words", False):
        return None  # token offsets past a word's end: the general path maps them as the reference does
    split_from = model.split_from
    table = None
    if pre is None:
        words: Iterable[tuple[str, int]] = [(normalized, 0)] if normalized else []
        if len(normalized) > split_from:  # one long word (Llama): its pieces, all word 0
            pieces = model._pieces(normalized)
            words = zip(pieces, accumulate(map(len, pieces), initial=0))
            word_idx = 0 if word_idx is None else word_idx
    else:
        split = pre.fast_split(normalized, 0)
        if split is None:
            return None
        words, k_pre, table = split
        k += k_pre
    return encode_words(model, words, k, table, type_id, word_idx, split_from)


def encode_words(
    model: Model,
    words: Iterable[tuple[str, int]],
    k: int,
    table: dict[int, str] | None,
    type_id: int,
    word_idx: int | None,
    split_from: int,
) -> Encoding:
    """Tokenize (word, start) pairs of a text that has ``k`` prepended chars (aligned with its first char);
    words longer than ``split_from`` go to the model in ``model._pieces``."""
    cache = model._word_entries(table)
    get = cache.get
    ids: list[int] = []
    tokens: list[str] = []
    word_ids: list[int | None] = []
    word_offsets: list[Sequence[tuple[int, int]]] = []  # offsets are built from these when first read
    starts: list[int] = []
    append_word, append_offsets, append_start = word_ids.append, word_offsets.append, starts.append
    for w, (word, start) in zip(count() if word_idx is None else repeat(word_idx), words):
        entry = get(word)
        if entry is None:
            if len(word) > split_from and table is None:
                pieces = model._pieces(word)
                for piece, at in zip(pieces, accumulate(map(len, pieces), initial=start)):
                    e_ids, e_tokens, e_offsets = _entry(model, cache, piece, None)
                    ids += e_ids
                    tokens += e_tokens
                    word_ids += [w] * len(e_ids)
                    append_offsets(e_offsets)
                    append_start(at)
                continue
            entry = _entry(model, cache, word, table)
        e_ids, e_tokens, e_offsets = entry
        ids += e_ids
        tokens += e_tokens
        if len(e_ids) == 1:  # most words
            append_word(w)
        else:
            word_ids += [w] * len(e_ids)
        append_offsets(e_offsets)
        append_start(start)
    n = len(ids)
    offsets = LazyOffsets(word_offsets, starts, k)
    return Encoding(ids, [type_id] * n, tokens, word_ids, offsets, [0] * n, [1] * n)


def _entry(model: Model, cache: dict[str, Entry], word: str, table: dict[int, str] | None) -> Entry:
    """The model's entry for ``word`` (mapped through ``table``), cached when the word is not too long."""
    entry = cache.get(word)
    if entry is None:
        if table is None:
            entry = model._entry(word)
        elif table is not ASCII_TO_BYTE_CHAR or word.isascii():
            entry = model._entry(word.translate(table))
        else:
            entry = _byte_level_entry(model, word)
        if len(word) < 256:
            if len(cache) >= ENTRY_CAPACITY:
                cache.clear()
            cache[word] = entry
    return entry


def _byte_level_entry(model: Model, word: str) -> Entry:
    """The entry of a non-ASCII word under GPT-2's byte-level map: one char per UTF-8 byte, so the
    offsets come back to the word's chars (a token holding part of a char spans all of it)."""
    ids, tokens, offsets = model._entry(word.encode().decode("latin-1").translate(LATIN1_TO_BYTE_CHAR))
    char_of = [i for i, c in enumerate(word) for _ in range(len(c.encode()))]  # byte index -> char index
    return ids, tokens, tuple((char_of[a], char_of[b - 1] + 1) for a, b in offsets)


LATIN1_TO_BYTE_CHAR = {b: BYTE_TO_CHAR[b] for b in range(256)}  # bytes read as Latin-1 -> GPT-2's chars

__all__ = ["encode_fast", "encode_words"]
