"""Encoding: the output of a Tokenizer (ids, offsets, masks, ...), with truncation, padding and merging.

>>> e = Encoding.from_tokens([(7, "hi", (0, 2))], type_id=0)
>>> e.ids, e.attention_mask
([7], [1])
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence

Span = tuple[int, int]


class Encoding:
    """Token ids and everything aligned with them; mirrors ``tokenizers.Encoding``.

    >>> e = Encoding.from_tokens([(1, "a", (0, 1)), (2, "b", (2, 3))], type_id=0, word_ids=[0, 1])
    >>> e.pad(4, direction="left")
    >>> e.ids, e.attention_mask
    ([0, 0, 1, 2], [0, 0, 1, 1])
    """

    __slots__ = (
        "ids",
        "type_ids",
        "tokens",
        "word_ids",
        "_offsets",
        "special_tokens_mask",
        "attention_mask",
        "overflowing",
        "sequence_ranges",
    )

    def __init__(
        self,
        ids: list[int] | None = None,
        type_ids: list[int] | None = None,
        tokens: list[str] | None = None,
        word_ids: list[int | None] | None = None,
        offsets: list[Span] | LazyOffsets | None = None,
        special_tokens_mask: list[int] | None = None,
        attention_mask: list[int] | None = None,
        overflowing: list[Encoding] | None = None,
        sequence_ranges: dict[int, tuple[int, int]] | None = None,
    ) -> None:
        self.ids = ids if ids is not None else []
        n = len(self.ids)
        self.type_ids = type_ids if type_ids is not None else [0] * n
        self.tokens = tokens if tokens is not None else [""] * n
        self.word_ids = word_ids if word_ids is not None else [None] * n
        self._offsets = offsets if offsets is not None else [(0, 0)] * n
        self.special_tokens_mask = special_tokens_mask if special_tokens_mask is not None else [0] * n
        self.attention_mask = attention_mask if attention_mask is not None else [1] * n
        self.overflowing = overflowing if overflowing is not None else []
        self.sequence_ranges = sequence_ranges if sequence_ranges is not None else {}

    @classmethod
    def from_tokens(
        cls, tokens: list[tuple[int, str, Span]], type_id: int = 0, word_ids: list[int | None] | None = None
    ) -> Encoding:
        n = len(tokens)
        return cls(
            [t[0] for t in tokens],
            [type_id] * n,
            [t[1] for t in tokens],
            word_ids if word_ids is not None else [None] * n,
            [t[2] for t in tokens],
            [0] * n,
            [1] * n,
        )

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return (
            f"Encoding(num_tokens={len(self.ids)}, attributes=[ids, type_ids, tokens, offsets, "
            "attention_mask, special_tokens_mask, overflowing])"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Encoding):
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in _FIELDS)

    def copy(self) -> Encoding:
        return copy.deepcopy(self)

    # -- views -------------------------------------------------------------------------------------
    @property
    def offsets(self) -> list[Span]:
        """Each token's (start, end) chars in the original text; (0, 0) for added special tokens."""
        offsets = self._offsets
        if offsets.__class__ is LazyOffsets:  # the fast path defers them to the first read
            offsets = self._offsets = offsets.build()  # type: ignore[union-attr]
        return offsets  # type: ignore[return-value]

    @offsets.setter
    def offsets(self, value: list[Span]) -> None:
        self._offsets = value

    @property
    def words(self) -> list[int | None]:
        return self.word_ids

    @property
    def n_sequences(self) -> int:
        return len(self.sequence_ranges) or 1

    def set_sequence_id(self, sequence_id: int) -> None:
        self.sequence_ranges[sequence_id] = (0, len(self.ids))

    def _sequence_range(self, sequence_id: int) -> tuple[int, int]:
        return self.sequence_ranges.get(sequence_id, (0, len(self.ids)))

    @property
    def sequence_ids(self) -> list[int | None]:
        out: list[int | None] = [None] * len(self.ids)
        for seq_id in range(self.n_sequences):
            s, e = self._sequence_range(seq_id)
            out[s:e] = [seq_id] * (e - s)
        return out

    def token_to_sequence(self, token_index: int) -> int | None:
        if token_index > len(self.ids):
            return None
        if not self.sequence_ranges:
            return 0
        for seq_id, (s, e) in self.sequence_ranges.items():
            if s <= token_index < e:
                return seq_id
        return None

    def word_to_tokens(self, word_index: int, sequence_index: int = 0) -> tuple[int, int] | None:
        s, e = self._sequence_range(sequence_index)
        start = end = None
        for i, w in enumerate(self.word_ids[s:e]):
            if w is not None and w > word_index:
                break
            if w == word_index:
                if start is None:
                    start = i
                end = i + 1
        if start is None or end is None:
            return None
        return (s + start, s + end)

    def word_to_chars(self, word_index: int, sequence_index: int = 0) -> Span | None:
        toks = self.word_to_tokens(word_index, sequence_index)
        if toks is None or toks[1] == 0:
            return None
        return (self.offsets[toks[0]][0], self.offsets[toks[1] - 1][1])

    def token_to_chars(self, token_index: int) -> Span | None:
        if self.token_to_sequence(token_index) is None or not 0 <= token_index < len(self.offsets):
            return None
        return self.offsets[token_index]

    def token_to_word(self, token_index: int) -> int | None:
        if self.token_to_sequence(token_index) is None or not 0 <= token_index < len(self.word_ids):
            return None
        return self.word_ids[token_index]

    def char_to_token(self, char_pos: int, sequence_index: int = 0) -> int | None:
        s, e = self._sequence_range(sequence_index)
        for i, (a, b) in enumerate(self.offsets[s:e]):
            if a <= char_pos < b:
                return s + i
        return None

    def char_to_word(self, char_pos: int, sequence_index: int = 0) -> int | None:
        tok = self.char_to_token(char_pos, sequence_index)
        return None if tok is None else self.token_to_word(tok)

    # -- editing -----------------------------------------------------------------------------------
    def _part(self, start: int, stop: int) -> Encoding:
        return Encoding(
            self.ids[start:stop],
            self.type_ids[start:stop],
            self.tokens[start:stop],
            self.word_ids[start:stop],
            self.offsets[start:stop],
            self.special_tokens_mask[start:stop],
            self.attention_mask[start:stop],
        )

    def truncate(self, max_length: int, stride: int = 0, direction: str = "right") -> None:
        """Keep ``max_length`` tokens; the rest goes to ``overflowing`` windows overlapping by ``stride``."""
        n = len(self.ids)
        if max_length >= n:
            return
        if max_length == 0:
            whole = Encoding(
                self.ids,
                self.type_ids,
                self.tokens,
                self.word_ids,
                self.offsets,
                self.special_tokens_mask,
                self.attention_mask,
                self.overflowing,
                self.sequence_ranges,
            )
            self.__init__()  # type: ignore[misc]
            self.overflowing.append(whole)
            return
        if stride >= max_length:
            raise ValueError(
                f"truncation stride ({stride}) must be smaller than max_length ({max_length}); note that "
                "max_length already excludes the special tokens the post-processor adds. Lower the stride."
            )
        step = max_length - stride
        ranges: list[tuple[int, int]] = []
        if direction == "right":
            for start in range(0, n, step):
                stop = min(start + max_length, n)
                ranges.append((start, stop))
                if stop == n:
                    break
        elif direction == "left":
            for stop in range(n, 0, -step):
                start = max(stop - max_length, 0)
                ranges.append((start, stop))
                if start == 0:
                    break
        else:
            raise ValueError(f"truncation direction must be 'left' or 'right', got {direction!r}")
        parts = [self._part(s, e) for s, e in ranges]
        first = parts[0]
        first.overflowing = parts[1:]
        for k in self.__slots__:
            setattr(self, k, getattr(first, k))

    def merge_with(self, pair: Encoding, growing_offsets: bool = True) -> None:
        """Append ``pair`` in place, combining the overflowing parts like the reference."""
        overflowings: list[Encoding] = []
        for self_o in self.overflowing:
            n_enc = self_o.copy()
            n_enc.merge_with(pair.copy(), growing_offsets)
            overflowings.append(n_enc)
            for other_o in pair.overflowing:
                n_enc = self_o.copy()
                n_enc.merge_with(other_o.copy(), growing_offsets)
                overflowings.append(n_enc)
        for other_o in pair.overflowing:
            n_enc = self.copy()
            n_enc.merge_with(other_o.copy(), growing_offsets)
            overflowings.append(n_enc)

        n = len(self.ids)
        for seq_id, (s, e) in pair.sequence_ranges.items():
            self.sequence_ranges[seq_id] = (n + s, n + e)
        self.ids = self.ids + pair.ids
        self.type_ids = self.type_ids + pair.type_ids
        self.tokens = self.tokens + pair.tokens
        self.word_ids = self.word_ids + pair.word_ids
        shift = self.offsets[-1][1] if growing_offsets and self.offsets else 0
        if shift:
            self.offsets = self.offsets + [(a + shift, b + shift) for a, b in pair.offsets]
        else:
            self.offsets = self.offsets + pair.offsets
        self.special_tokens_mask = self.special_tokens_mask + pair.special_tokens_mask
        self.attention_mask = self.attention_mask + pair.attention_mask
        self.overflowing = overflowings

    @staticmethod
    def merge(encodings: Iterable[Encoding], growing_offsets: bool = True) -> Encoding:
        """Concatenate encodings into a new one.

        >>> a = Encoding.from_tokens([(1, "a", (0, 1))])
        >>> Encoding.merge([a, a], growing_offsets=True).offsets
        [(0, 1), (1, 2)]
        """
        out = Encoding()
        for enc in encodings:
            out.merge_with(enc, growing_offsets)
        return out

    def pad(
        self,
        length: int,
        direction: str = "right",
        pad_id: int = 0,
        pad_type_id: int = 0,
        pad_token: str = "[PAD]",
    ) -> None:
        """Pad (this and every overflowing part) up to ``length`` tokens."""
        for o in self.overflowing:
            o.pad(length, direction, pad_id, pad_type_id, pad_token)
        n = length - len(self.ids)
        if n <= 0:
            return
        if direction == "left":
            self.ids = [pad_id] * n + self.ids
            self.type_ids = [pad_type_id] * n + self.type_ids
            self.tokens = [pad_token] * n + self.tokens
            self.word_ids = [None] * n + self.word_ids
            self.attention_mask = [0] * n + self.attention_mask
            self.special_tokens_mask = [1] * n + self.special_tokens_mask
            self._offsets = padded_offsets(self._offsets, n, 0)
            self.sequence_ranges = {k: (s + n, e + n) for k, (s, e) in self.sequence_ranges.items()}
        elif direction == "right":
            self.ids = self.ids + [pad_id] * n
            self.type_ids = self.type_ids + [pad_type_id] * n
            self.tokens = self.tokens + [pad_token] * n
            self.word_ids = self.word_ids + [None] * n
            self.attention_mask = self.attention_mask + [0] * n
            self.special_tokens_mask = self.special_tokens_mask + [1] * n
            self._offsets = padded_offsets(self._offsets, 0, n)
        else:
            raise ValueError(f"padding direction must be 'left' or 'right', got {direction!r}")


_FIELDS = tuple(k.lstrip("_") for k in Encoding.__slots__)


class LazyOffsets:
    """Offsets built when first read: the fast path's cached per-word offsets (relative to the word) and
    each word's start, in a text with ``k`` prepended chars (which map to its first char), between ``lead``
    and ``trail`` (0, 0) spans of special tokens or padding. Most callers never read offsets.

    >>> LazyOffsets([[(0, 1), (1, 3)], [(0, 2)]], [0, 4], 0, lead=1).build()
    [(0, 0), (0, 1), (1, 3), (4, 6)]
    """

    __slots__ = ("word_offsets", "starts", "k", "lead", "trail")

    def __init__(
        self, word_offsets: list[Sequence[Span]], starts: list[int], k: int, lead: int = 0, trail: int = 0
    ) -> None:
        self.word_offsets = word_offsets
        self.starts = starts
        self.k = k
        self.lead = lead
        self.trail = trail

    def build(self) -> list[Span]:
        out: list[Span] = [(0, 0)] * self.lead
        k = self.k
        for offsets, start in zip(self.word_offsets, self.starts):
            base = start - k
            if base == 0:
                out += offsets
            elif base > 0:
                out += [(base + a, base + b) for a, b in offsets]
            else:  # starts among the prepended chars, which all map to the first original char
                out += [(max(base + a, 0), max(base + b - 1, 0) + 1) for a, b in offsets]
        out += [(0, 0)] * self.trail
        return out


def padded_offsets(offsets: list[Span] | LazyOffsets, lead: int, trail: int) -> list[Span] | LazyOffsets:
    """``offsets`` between ``lead`` and ``trail`` (0, 0) spans, still unbuilt if it was."""
    if offsets.__class__ is LazyOffsets:
        o: LazyOffsets = offsets  # type: ignore[assignment]
        return LazyOffsets(o.word_offsets, o.starts, o.k, o.lead + lead, o.trail + trail)
    return [(0, 0)] * lead + offsets + [(0, 0)] * trail  # type: ignore[operator]
