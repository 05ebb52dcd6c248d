"""PreTokenizedString: the text cut into splits, and the Encoding built from its tokenized splits.

>>> p = PreTokenizedString("ab cd")
>>> p.split_plain(lambda ns: ns.split(" ", "removed"))
>>> [s[0] for s in p.get_splits()]
['ab', 'cd']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .encoding import Encoding
from .models.base import ByteSpan
from .normalized import NormalizedString

Token = tuple[int, str, tuple[int, int]]


class PreTokenizedString:
    """The text cut into splits; each split is a NormalizedString, maybe already tokenized.

    >>> p = PreTokenizedString("a b")
    >>> p.split_plain(lambda ns: ns.split(" ", "removed"))
    >>> p.get_splits()
    [('a', (0, 1)), ('b', (2, 3))]
    """

    __slots__ = ("original", "splits")

    def __init__(self, sequence: str | NormalizedString) -> None:
        ns = sequence if isinstance(sequence, NormalizedString) else NormalizedString(sequence)
        self.original = ns.original
        # [NormalizedString, tokens or None]
        self.splits: list[list[Any]] = [[ns, None]]

    def split(self, func: Callable[[int, NormalizedString], list[NormalizedString]]) -> None:
        """Replace every untokenized split by the non-empty pieces ``func(i, split)`` returns."""
        out: list[list[Any]] = []
        for i, sp in enumerate(self.splits):
            if sp[1] is not None:
                out.append(sp)
                continue
            for piece in func(i, sp[0]):
                if isinstance(piece, NormalizedString):
                    if piece.normalized:
                        out.append([piece, None])
                elif piece[0].normalized:
                    out.append([piece[0], piece[1]])
        self.splits = out

    def split_plain(self, func: Callable[[NormalizedString], list[NormalizedString]]) -> None:
        """``split`` for functions that only return NormalizedStrings (the pre-tokenizers' fast path)."""
        out: list[list[Any]] = []
        for sp in self.splits:
            if sp[1] is not None:
                out.append(sp)
            else:
                out.extend([piece, None] for piece in func(sp[0]) if piece.normalized)
        self.splits = out

    def normalize(self, func: Callable[[NormalizedString], None]) -> None:
        for ns, tokens in self.splits:
            if tokens is None:
                func(ns)

    def tokenize(self, func: Callable[[str], list[Token]]) -> None:
        for sp in self.splits:
            if sp[1] is None:
                sp[1] = func(sp[0].normalized)

    def to_encoding(self, type_id: int = 0, word_idx: int | None = None) -> Any:
        """An Encoding of the splits (all must be tokenized already)."""
        if any(tokens is None for _, tokens in self.splits):
            raise ValueError("Split has not been tokenized, call `PreTokenizedString::tokenize` first")
        return into_encoding(self, None, type_id, word_idx)

    def get_splits(self, offset_referential: str = "original", offset_type: str = "char") -> list[Any]:
        out: list[Any] = []
        pos = 0
        for ns, tokens in self.splits:
            if offset_referential == "original":
                offsets = ns.offsets_original()
            else:
                offsets = (pos, pos + len(ns.normalized))
                pos += len(ns.normalized)
            out.append((ns.normalized, offsets) if tokens is None else (ns.normalized, offsets, tokens))
        return out


def into_encoding(pts: PreTokenizedString, tokenize: Any, type_id: int, word_idx: int | None) -> Encoding:
    """Tokenize every split and collect tokens with offsets in the original text (chars)."""
    ids: list[int] = []
    tokens: list[str] = []
    offsets: list[tuple[int, int]] = []
    words: list[int | None] = []
    unmapped = False
    for idx, (ns, toks) in enumerate(pts.splits):
        if toks is None:
            toks = tokenize(ns.normalized)
        shift, align = ns.shift, ns.align
        w = idx if word_idx is None else word_idx
        if len(toks) == 1 and align is None and toks[0][2][1] <= len(ns.normalized):
            tid, value, (s, e) = toks[0]
            ids.append(tid)
            tokens.append(value)
            offsets.append((shift + s, shift + e))
            words.append(w)
            continue
        for tid, value, span in toks:
            s, e = span
            if type(span) is ByteSpan:  # byte offsets (tokens past the word's end): chars for those inside
                char_of = [i for i, c in enumerate(ns.normalized) for _ in range(len(c.encode()))]
                if e <= len(char_of):
                    s, e = char_of[s], char_of[e - 1] + 1
            if align is None or s == e:
                a, b = shift + s, shift + e
            elif e <= len(align):
                a, b = align[s][0], align[e - 1][1]  # absolute already
            else:
                a, b = s, e
            if e > len(ns.normalized) and s != e:  # past the split (byte-fallback prefix or suffix bytes)
                # (a ByteSpan past the end still holds bytes; char offsets past it count one per byte)
                a, b = _unmapped(pts.original, ns.normalized, span)
                unmapped = True
            ids.append(tid)
            tokens.append(value)
            offsets.append((a, b))
            words.append(w)
    n_orig = len(pts.original)
    if offsets and offsets[-1][0] >= n_orig and not pts.original.isascii() and not unmapped:
        offsets = [_byte_offsets(pts.original, a, b) if a >= n_orig else (a, b) for a, b in offsets]
    n = len(ids)
    return Encoding(ids, [type_id] * n, tokens, words, offsets, [0] * n, [1] * n)


def _unmapped(original: str, word: str, span: tuple[int, int]) -> tuple[int, int]:
    """Offsets of a token that ends past its split, as the reference gives them.

    The reference cannot map such a token through the split's alignments, so it reads the token's UTF-8
    byte offsets within the split as byte offsets in the original text, then turns those into chars where
    the original has them. ``span`` is a ``ByteSpan`` (bytes) or counts the split's chars, then one per
    byte past its end (ASCII words).
    """
    if type(span) is ByteSpan:
        bs, be = span
    else:
        n_bytes = len(word.encode())
        bs, be = (len(word[:i].encode()) if i <= len(word) else n_bytes + i - len(word) for i in span)
    char_of = [i for i, c in enumerate(original) for _ in range(len(c.encode()))]  # byte -> char
    if bs >= len(char_of):
        return bs, be
    if be < len(char_of):
        return char_of[bs], char_of[be]
    last = char_of[be - 1] if be - 1 < len(char_of) else char_of[bs] + 1  # (the reference's fallback)
    return char_of[bs], last + 1


def _byte_offsets(text: str, a: int, b: int) -> tuple[int, int]:
    """The reference leaves offsets it cannot map to chars as UTF-8 byte offsets."""
    return (len(text[:a].encode()) + max(a - len(text), 0), len(text[:b].encode()) + max(b - len(text), 0))
