"""BPE: byte-pair encoding with ranked merges (GPT-2, RoBERTa, Llama, Mistral...).

>>> bpe = BPE({"a": 0, "b": 1, "ab": 2}, [("a", "b")])
>>> [t.value for t in bpe.tokenize("abab")]
['ab', 'ab']
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from itertools import accumulate
from typing import Any

from .._registry import TokenizerFileError
from .base import ENTRY_CAPACITY, ByteSpan, Entry, Model, RawToken, WordCache, check_vocab
from .bpe_merges import apply_merges, merge_ranks

log = logging.getLogger(__name__)

# words longer than this are cut where no merge can cross (see BPE._tokenize_long)
_SPLIT_FROM = 24
_BYTE_TOKENS = [f"<0x{b:02X}>" for b in range(256)]


class BPE(Model):
    """Mirrors ``tokenizers.models.BPE`` (dropout is kept for saving but not applied).

    >>> BPE({"<unk>": 0, "a": 1}, [], unk_token="<unk>").tokenize("ab")
    [Token(id=1, value='a', offsets=(0, 1)), Token(id=0, value='<unk>', offsets=(1, 2))]
    """

    type_name = "BPE"

    def __init__(
        self,
        vocab: dict[str, int] | None = None,
        merges: list[Any] | None = None,
        cache_capacity: int | None = None,
        dropout: float | None = None,
        unk_token: str | None = None,
        continuing_subword_prefix: str | None = None,
        end_of_word_suffix: str | None = None,
        fuse_unk: bool | None = None,
        byte_fallback: bool = False,
        ignore_merges: bool = False,
    ) -> None:
        self.vocab = dict(check_vocab(vocab or {}, "BPE"))
        self.vocab_r = {i: t for t, i in self.vocab.items()}
        self.merges = _parse_merges(merges or [])
        if dropout is not None and not 0.0 <= dropout <= 1.0:
            raise ValueError(f"BPE dropout must be between 0 and 1, got {dropout}")
        if dropout:
            log.warning("BPE dropout=%s is not applied: this implementation is deterministic", dropout)
        self.dropout = dropout
        self.unk_token = unk_token
        self.continuing_subword_prefix = continuing_subword_prefix
        self.end_of_word_suffix = end_of_word_suffix
        self.fuse_unk = bool(fuse_unk)
        self.byte_fallback = byte_fallback
        self.ignore_merges = ignore_merges
        self._ranks = self._build_ranks()
        # adjacent char pairs inside vocab tokens, built on first use: lets long words be cut safely
        self._bigrams: set[str] | None = None
        self._boundary_cut: tuple[str, set[str]] | None = None
        self._cache = WordCache(cache_capacity or 10_000)

    def _build_ranks(self) -> dict[tuple[int, int], int]:
        """The merges over token ids; every token must be in the vocab."""
        cut = len(self.continuing_subword_prefix or "")
        triples: list[tuple[int, int, int]] = []
        get = self.vocab.get
        for rank, (a, b) in enumerate(self.merges):
            ia, ib, new_id = get(a), get(b), get(a + b[cut:])
            if ia is None or ib is None or new_id is None:
                missing = a if ia is None else b if ib is None else a + b[cut:]
                what = "merged token" if ia is not None and ib is not None else "token"
                raise TokenizerFileError(
                    f"BPE merge #{rank} {a!r} + {b!r}: {what} {missing!r} is not in the vocab; "
                    "the vocab and merges do not belong together (use the merges of this vocab)"
                )
            triples.append((ia, ib, new_id))
        return merge_ranks(triples)

    @classmethod
    def read_file(cls, vocab: str, merges: str) -> tuple[dict[str, int], list[tuple[str, str]]]:
        """Read a ``vocab.json`` and a ``merges.txt``."""
        with open(vocab, encoding="utf-8") as f:
            vocab_dict = json.load(f)
        pairs: list[tuple[str, str]] = []
        with open(merges, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.rstrip("\r\n")
                if (n == 1 and line.startswith("#version")) or not line:
                    continue
                parts = line.split(" ")
                if len(parts) != 2:
                    raise TokenizerFileError(
                        f"{merges}:{n}: a merge line must be two tokens separated by a space"
                    )
                pairs.append((parts[0], parts[1]))
        return vocab_dict, pairs

    @classmethod
    def from_file(cls, vocab: str, merges: str, **kwargs: Any) -> BPE:
        v, m = cls.read_file(vocab, merges)
        return cls(v, m, **kwargs)

    # -- tokenization ------------------------------------------------------------------------------
    settings = ("unk_token", "continuing_subword_prefix", "end_of_word_suffix", "fuse_unk", "byte_fallback",
                "ignore_merges")  # fmt: skip

    @property
    def split_from(self) -> int:  # type: ignore[override]
        """Words longer than this are cut where no merge can cross (see ``_pieces``)."""
        if self.continuing_subword_prefix or self.end_of_word_suffix or self.ignore_merges:
            return 1 << 62
        return _SPLIT_FROM

    def _tokenize(self, sequence: str) -> list[RawToken]:
        cache = self._cache.data
        out = cache.get(sequence)
        if out is not None:
            return out
        out = self._tokenize_uncached(sequence)
        if len(sequence) < 256:
            self._cache.put(sequence, out)
        return out

    def _tokenize_uncached(self, sequence: str) -> list[RawToken]:
        if not sequence:
            return []
        if self.ignore_merges:
            tid = self.vocab.get(sequence)
            if tid is not None:
                return [(tid, sequence, (0, len(sequence)))]
        if len(sequence) > _SPLIT_FROM and not self.continuing_subword_prefix and not self.end_of_word_suffix:
            return self._tokenize_long(sequence)
        return self._bpe(sequence)

    @property
    def overruns_words(self) -> bool:
        """Whether tokens can end past their word: byte-fallback tokens of a prefix or suffix count their
        bytes too (as in the reference), so a word's tokens span more bytes than the word."""
        return self.byte_fallback and bool(self.continuing_subword_prefix or self.end_of_word_suffix)

    def _drops_chars(self, word: str) -> bool:
        """Whether ``word`` has a char with no token and no unk: it is dropped, and the offsets of the tokens
        after it count the word's kept bytes only (as the reference), which cutting the word would change."""
        return self.unk_token is None and not self.vocab.keys() >= set(word)

    def _bpe(self, word: str) -> list[RawToken]:
        return list(zip(*self._merged(word)))

    def _entry(self, word: str) -> Entry:
        if len(word) > _SPLIT_FROM or self.ignore_merges:
            return super()._entry(word)
        # "▁word," -> "▁word" + ",": parts seen before cost no merging (letters and digits rarely cut)
        if (
            len(word) > 2
            and not word[1:].isalnum()
            and self.split_from == _SPLIT_FROM
            and not self._drops_chars(word)
        ):
            parts = self._cuts(word)
            if len(parts) > 1:
                return self._joined(parts)
        return self._merged(word)

    def _joined(self, parts: list[str]) -> Entry:
        """The entry of the word ``parts`` cut, from the parts' (cached) entries."""
        cache = self._word_entries(None)
        ids: list[int] = []
        tokens: list[str] = []
        offsets: list[tuple[int, int]] = []
        pos = 0
        for part in parts:
            entry = cache.get(part)
            if entry is None:
                entry = self._merged(part)
                if len(cache) >= ENTRY_CAPACITY:
                    cache.clear()
                cache[part] = entry
            ids += entry[0]
            tokens += entry[1]
            offsets += [(pos + a, pos + b) for a, b in entry[2]]
            pos += len(part)
        return tuple(ids), tuple(tokens), tuple(offsets)

    def _merged(self, word: str) -> Entry:
        """The merged symbols of ``word``: ids, token strings and char offsets."""
        ids: list[int | None] | list[int] = list(map(self.vocab.get, word))
        if None in ids or self.continuing_subword_prefix or self.end_of_word_suffix:
            ids, lens = self._initial_symbols(word)  # lens in UTF-8 bytes
            ids, lens = apply_merges(self._ranks, ids, lens)  # type: ignore[assignment]
            tokens = tuple(map(self.vocab_r.__getitem__, ids))
            if not word.isascii():
                return tuple(ids), tokens, tuple(_char_offsets(word, lens))  # type: ignore[arg-type]
        else:  # every char is a token: a token's length is its length in chars
            if len(ids) > 1:
                ids, _ = apply_merges(self._ranks, ids, None)  # type: ignore[arg-type]
            tokens = tuple(map(self.vocab_r.__getitem__, ids))
            lens = list(map(len, tokens))
        ends = list(accumulate(lens))  # type: ignore[arg-type]
        return tuple(ids), tokens, tuple(zip([0, *ends[:-1]], ends))  # type: ignore[return-value]

    def _tokenize_long(self, word: str) -> list[RawToken]:
        out: list[RawToken] = []
        pieces = self._pieces(word)
        for part, start in zip(pieces, accumulate(map(len, pieces), initial=0)):
            out.extend(_shifted(self._part(part), start))
        return out

    def _pieces(self, word: str) -> list[str]:
        """Cut a long word where no merge can ever join the two sides.

        Between chars a and b that are both tokens of their own, a merged token spanning the cut would
        contain "ab"; when no vocab token does, the cut changes nothing. Cuts are made first before the
        boundary char most tokens start with ("▁", "Ġ"), then anywhere in pieces still long.
        """
        if self._bigrams is None:
            self._build_cut_tables()
        pieces = [word]
        if self._drops_chars(word):
            return pieces
        if self._boundary_cut is not None:
            b, safe = self._boundary_cut
            parts = word.split(b)
            if len(parts) > 1:
                pieces = [parts[0]] if parts[0] else []
                for part in parts[1:]:
                    if pieces and pieces[-1][-1] not in safe:  # no cut: glue to the previous piece
                        pieces[-1] += b + part
                    else:
                        pieces.append(b + part)
        if max(map(len, pieces)) <= _SPLIT_FROM:
            return pieces
        out: list[str] = []
        for piece in pieces:
            out += self._cuts(piece) if len(piece) > _SPLIT_FROM else [piece]
        return out

    def _cuts(self, word: str) -> list[str]:
        """``word`` cut between every two chars that no merge can join (see ``_pieces``)."""
        if self._bigrams is None:
            self._build_cut_tables()
        vocab, bigrams = self.vocab, self._bigrams
        out: list[str] = []
        start = 0
        for i, (a, b) in enumerate(zip(word, word[1:]), 1):
            if a + b not in bigrams and a in vocab and b in vocab:  # type: ignore[operator]
                out.append(word[start:i])
                start = i
        out.append(word[start:])
        return out

    def _build_cut_tables(self) -> None:
        self._bigrams = {t[i : i + 2] for t in self.vocab for i in range(len(t) - 1)}
        self._boundary_cut = _boundary_cut(self.vocab, self._bigrams)

    def _part(self, part: str) -> list[RawToken]:
        cache = self._cache.data
        toks = cache.get(part)
        if toks is None:
            toks = self._bpe(part)
            if len(part) < 256:
                self._cache.put(part, toks)
        return toks

    def _initial_symbols(self, word: str) -> tuple[list[int], list[int]]:
        """One symbol per char (with prefix/suffix), byte fallback or unk; lens in UTF-8 bytes."""
        vocab, prefix, suffix = self.vocab, self.continuing_subword_prefix, self.end_of_word_suffix
        ids: list[int] = []
        lens: list[int] = []
        unk: list[int] | None = None  # [id, byte len] of a pending unknown
        last = len(word) - 1
        for i, c in enumerate(word):
            s = c
            if i and prefix:
                s = prefix + s
            if i == last and suffix:
                s = s + suffix
            n = 1 if c < "\x80" else len(c.encode())
            tid = vocab.get(s)
            if tid is not None:
                if unk is not None:
                    ids.append(unk[0])
                    lens.append(unk[1])
                    unk = None
                ids.append(tid)
                lens.append(n)
                continue
            if self.byte_fallback:
                byte_ids = [vocab.get(_BYTE_TOKENS[b]) for b in s.encode()]
                if None not in byte_ids:
                    ids.extend(byte_ids)  # type: ignore[arg-type]
                    lens.extend([1] * len(byte_ids))
                    continue
            if self.unk_token is not None:
                if unk is not None and self.fuse_unk:
                    unk[1] += n
                    continue
                if unk is not None:
                    ids.append(unk[0])
                    lens.append(unk[1])
                unk_id = vocab.get(self.unk_token)
                if unk_id is None:
                    raise TokenizerFileError(
                        f"BPE: unk_token {self.unk_token!r} is not in the vocabulary; add it or change unk_token"
                    )
                unk = [unk_id, n]
        if unk is not None:
            ids.append(unk[0])
            lens.append(unk[1])
        return ids, lens

    # -- serialization -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "dropout": self.dropout,
            "unk_token": self.unk_token,
            "continuing_subword_prefix": self.continuing_subword_prefix,
            "end_of_word_suffix": self.end_of_word_suffix,
            "fuse_unk": self.fuse_unk,
            "byte_fallback": self.byte_fallback,
            "ignore_merges": self.ignore_merges,
            "vocab": self.ordered_vocab(),
            "merges": [[a, b] for a, b in self.merges],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BPE:
        return cls(
            data.get("vocab", {}),
            data.get("merges", []),
            dropout=data.get("dropout"),
            unk_token=data.get("unk_token"),
            continuing_subword_prefix=data.get("continuing_subword_prefix"),
            end_of_word_suffix=data.get("end_of_word_suffix"),
            fuse_unk=data.get("fuse_unk", False),
            byte_fallback=data.get("byte_fallback", False),
            ignore_merges=data.get("ignore_merges", False),
        )

    def save(self, folder: str, prefix: str | None = None) -> list[str]:
        paths = super().save(folder, prefix)
        path = os.path.join(folder, f"{prefix}-merges.txt" if prefix else "merges.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write("#version: 0.2\n")
            f.writelines(f"{a} {b}\n" for a, b in self.merges)
        return [*paths, path]


def _parse_merges(merges: list[Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for index, merge in enumerate(merges):
        kind = type(merge)
        if kind is str:
            parts = merge.split(" ")
            if len(parts) == 2:
                out.append((parts[0], parts[1]))
                continue
        elif (
            (kind is list or kind is tuple)
            and len(merge) == 2
            and type(merge[0]) is str
            and type(merge[1]) is str
        ):
            out.append((merge[0], merge[1]))
            continue
        raise TokenizerFileError(
            f"BPE merge #{index} {merge!r} must be 'left right' (one space) or a [left, right] pair of strings"
        )
    return out


def _shifted(tokens: list[RawToken], shift: int) -> list[RawToken]:
    if not shift:
        return tokens
    return [(t, v, (a + shift, b + shift)) for t, v, (a, b) in tokens]


def _boundary_cut(vocab: dict[str, int], bigrams: set[str]) -> tuple[str, set[str]] | None:
    """The boundary char b (the first char of most tokens) and the chars a after which a word can be cut
    before b: a and b are tokens and no token contains "ab"."""
    firsts = Counter(t[0] for t in vocab if len(t) > 1)
    if not firsts:
        return None
    b = firsts.most_common(1)[0][0]
    safe = {a for a in vocab if len(a) == 1 and a + b not in bigrams}
    return (b, safe) if b in vocab and safe else None


def _char_offsets(word: str, lens: list[int]) -> list[tuple[int, int]]:
    """Char offsets of symbols ``lens`` UTF-8 bytes long (a byte-fallback token spans its whole char).

    When tokens end past the word (byte-fallback bytes of a prefix or suffix count too), every token keeps
    its byte offsets, as a ``ByteSpan``: the reference maps those past the end through the original's bytes.
    """
    char_of: list[int] = []  # byte index -> char index
    for ci, c in enumerate(word):
        char_of.extend([ci] * len(c.encode()))
    if sum(lens) > len(char_of):
        return [ByteSpan((a - n, a)) for n, a in zip(lens, accumulate(lens))]
    out: list[tuple[int, int]] = []
    pos = 0
    for n in lens:
        out.append((char_of[pos], char_of[pos + n - 1] + 1))
        pos += n
    return out
