"""NormalizedString: a string being normalized, with the alignment of every char to the original.

Everything here counts in *characters* (Python str indices). The reference library counts in UTF-8
bytes, but every alignment it keeps covers whole original characters, so the two views give the same
offsets once converted to chars, which is what its Python API returns.

>>> ns = NormalizedString("Héllo")
>>> ns.lowercase()
>>> ns.normalized, ns.offsets_of(1, 2)
('héllo', (1, 2))
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

import regex

from ._registry import LazyRegex
from ._unicode_tables import LOWER_EXCEPTIONS, NORMALIZE_EXCEPTIONS

Span = tuple[int, int]
# one (char, change) per output char: 0 replaces a char, 1 inserts one, -n replaces one and drops n more
Change = tuple[str, int]

_EXCEPTION_CHARS = "".join(regex.escape(c) for form in NORMALIZE_EXCEPTIONS.values() for c in form)
_HAS_EXCEPTION = LazyRegex(f"[{_EXCEPTION_CHARS}]" if _EXCEPTION_CHARS else "(?!)")
SPLIT_BEHAVIORS = ("removed", "isolated", "merged_with_previous", "merged_with_next", "contiguous")


class NormalizedString:
    """The original text, its normalized form, and for each normalized char the original span.

    ``align`` holds those spans in *absolute* coordinates of the whole input (so slicing is a list
    slice); ``alignments`` gives them relative to this piece, like the reference. ``align is None``
    means identity (char i comes from original char i): the fast path for text that normalization
    leaves the same length, e.g. ASCII lowercasing.

    >>> ns = NormalizedString("a b")
    >>> ns.replace(" ", "__")
    >>> ns.normalized, ns.alignments
    ('a__b', [(0, 1), (1, 2), (1, 2), (2, 3)])
    """

    __slots__ = ("original", "normalized", "align", "shift")

    def __init__(self, sequence: str = "", *, shift: int = 0) -> None:
        self.original = sequence
        self.normalized = sequence
        self.align: list[Span] | None = None
        self.shift = shift

    def __repr__(self) -> str:
        return f"NormalizedString(original={self.original!r}, normalized={self.normalized!r})"

    def __len__(self) -> int:
        return len(self.normalized)

    @property
    def alignments(self) -> list[Span]:
        """Original span of each normalized char, relative to this piece's original text."""
        if self.align is None:
            return [(i, i + 1) for i in range(len(self.normalized))]
        k = self.shift
        return [(a - k, b - k) for a, b in self.align]

    def _absolute(self) -> list[Span]:
        if self.align is None:
            k = self.shift
            return [(i + k, i + k + 1) for i in range(len(self.normalized))]
        return self.align

    def offsets_original(self) -> Span:
        """Span of this piece in the whole original text."""
        return (self.shift, self.shift + len(self.original))

    # -- offsets ---------------------------------------------------------------------------------
    def offsets_of(self, start: int, end: int) -> Span | None:
        """Original span (relative to this piece's original) of normalized chars ``[start, end)``."""
        if start == end:
            return (start, end)
        if start > end:
            return None
        if self.align is None:
            return (start, end) if end <= len(self.normalized) else None
        if end > len(self.align):
            return None
        return (self.align[start][0] - self.shift, self.align[end - 1][1] - self.shift)

    def original_to_normalized(self, start: int, end: int) -> Span | None:
        """Normalized range covering original chars ``[start, end)`` (reference semantics)."""
        if start == end:
            return (start, end)
        if start > end:
            return None
        if self.align is None:
            return (start, end)
        first = last = None
        for i, (a, b) in enumerate(self.alignments):
            if end < b:
                break
            if first is None and start <= a and a != b:
                first = i
            last = i + 1
        if first is not None and last is not None:
            return (first, last)
        if first is not None:
            return (first, first)
        if last is not None:
            return (last, last)
        return None

    # -- slicing ---------------------------------------------------------------------------------
    def slice(self, start: int, end: int) -> NormalizedString:
        """The piece for normalized chars ``[start, end)``, keeping its place in the original."""
        out = NormalizedString.__new__(NormalizedString)
        if self.align is None:
            out.normalized = self.normalized[start:end]
            out.original = self.original[start:end]
            out.align = None
            out.shift = self.shift + start
            return out
        if start == end:  # the reference reads the normalized range as an original one here
            ostart, oend = self.shift + start, self.shift + end
        else:
            ostart, oend = self.align[start][0], self.align[end - 1][1]
        out.original = self.original[ostart - self.shift : oend - self.shift]
        out.normalized = self.normalized[start:end]
        out.align = self.align[start:end]
        out.shift = ostart
        return out

    # -- the one primitive every transformation goes through ------------------------------------
    def transform_range(self, start: int, end: int, dest: Iterable[Change], initial_offset: int) -> None:
        """Replace normalized chars ``[start, end)`` by ``dest``, updating alignments.

        A new char (change 1) shares the alignment of the char before it; a replacing char keeps
        the alignment of the char it replaces (the first one, when it also drops following chars).
        """
        if not isinstance(dest, list):
            dest = list(dest)
        if initial_offset == 0 and len(dest) == end - start and all(ch == 0 for _, ch in dest):
            # char-for-char replacement: every char keeps its alignment
            self.normalized = self.normalized[:start] + "".join(c for c, _ in dest) + self.normalized[end:]
            return
        old = self._absolute()
        n_old = len(old)
        offset = start + initial_offset
        chars: list[str] = []
        align: list[Span] = []
        for c, change in dest:
            if change > 0:
                span = old[offset - 1] if offset >= 1 else (self.shift, self.shift)
            else:
                span = old[offset] if offset < n_old else (old[-1] if old else (self.shift, self.shift))
                offset += 1 - change
            chars.append(c)
            align.append(span)
        self.normalized = self.normalized[:start] + "".join(chars) + self.normalized[end:]
        self.align = old[:start] + align + old[end:]

    def transform(self, dest: Iterable[Change], initial_offset: int = 0) -> None:
        self.transform_range(0, len(self.normalized), dest, initial_offset)

    # -- transformations ---------------------------------------------------------------------------
    def set_same_length(self, new: str) -> None:
        """Replace the normalized text by one of equal length, char for char (alignments kept)."""
        self.normalized = new

    def map(self, func: Callable[[str], str]) -> None:
        self.normalized = "".join(func(c) for c in self.normalized)

    def for_each(self, func: Callable[[str], Any]) -> None:
        """Call ``func`` on every normalized char."""
        for c in self.normalized:
            func(c)

    def expand(self, pieces: list[str]) -> None:
        """Replace char i by ``pieces[i]`` (one or more chars; the first replaces, the rest insert)."""
        if all(len(p) == 1 for p in pieces):
            self.normalized = "".join(pieces)
            return
        dest: list[Change] = []
        lead = 0
        for p in pieces:
            if p:
                dest.append((p[0], 0))
                dest.extend((c, 1) for c in p[1:])
            elif dest:  # a dropped char: the last replacing char also removes it
                k = max(i for i, (_, ch) in enumerate(dest) if ch <= 0)
                dest[k] = (dest[k][0], dest[k][1] - 1)
            else:
                lead += 1
        self.transform(dest, lead)

    def lowercase(self) -> None:
        s = self.normalized
        if s.isascii():
            self.normalized = s.lower()
        else:
            self.expand([LOWER_EXCEPTIONS[c] if c in LOWER_EXCEPTIONS else c.lower() for c in s])

    def uppercase(self) -> None:
        s = self.normalized
        if s.isascii():
            self.normalized = s.upper()
        else:
            self.expand([c.upper() for c in s])

    def filter(self, keep: Callable[[str], bool]) -> None:
        s = self.normalized
        flags = [keep(c) for c in s]
        if all(flags):
            return
        dest: list[Change] = []
        lead = 0
        for c, k in zip(s, flags):
            if k:
                dest.append((c, 0))
            elif dest:
                dest[-1] = (dest[-1][0], dest[-1][1] - 1)
            else:
                lead += 1
        self.transform(dest, lead)

    def remove_chars(self, pattern: regex.Pattern) -> None:
        """Filter out every char matched by a one-char regex class (fast path for ``filter``)."""
        if pattern.search(self.normalized) is None:
            return
        self.filter(lambda c: pattern.match(c) is None)

    def unicode_normalize(self, form: str) -> None:
        s = self.normalized
        if is_unchanged_by(form, s):
            return
        if form in ("NFD", "NFKD"):
            dest = decompose(s, form)
        else:
            dest = compose(decompose(s, "NFD" if form == "NFC" else "NFKD", form))
        self.transform(dest, 0)

    def nfd(self) -> None:
        self.unicode_normalize("NFD")

    def nfkd(self) -> None:
        self.unicode_normalize("NFKD")

    def nfc(self) -> None:
        self.unicode_normalize("NFC")

    def nfkc(self) -> None:
        self.unicode_normalize("NFKC")

    def prepend(self, s: str) -> None:
        if not self.normalized or not s:
            return
        first = self.normalized[0]
        dest = [(s[0], 0)] + [(c, 1) for c in s[1:]] + [(first, 1)]
        self.transform_range(0, 1, dest, 0)

    def append(self, s: str) -> None:
        if not self.normalized or not s:
            return
        n = len(self.normalized)
        dest = [(self.normalized[-1], 0)] + [(c, 1) for c in s]
        self.transform_range(n - 1, n, dest, 0)

    def replace(self, pattern: Any, content: str) -> None:
        """Replace every match of ``pattern`` (str or compiled regex) by ``content``."""
        if isinstance(pattern, str):
            if not pattern or pattern not in self.normalized:
                return
            if len(pattern) == 1 and len(content) == 1:
                self.normalized = self.normalized.replace(pattern, content)
                return
        matches = [m for m in find_matches(pattern, self.normalized) if m[1]]
        if not matches:
            return
        offset = 0
        for (start, end), _ in matches:
            start, end = max(start + offset, 0), max(end + offset, 0)
            self.transform_range(start, end, [(c, 1) for c in content], end - start)
            offset += len(content) - (end - start)

    def strip(self, left: bool = True, right: bool = True) -> None:
        s = self.normalized
        lead = len(s) - len(_lstrip_ws(s)) if left else 0
        trail = len(s) - len(_rstrip_ws(s)) if right else 0
        if not lead and not trail:
            return
        if lead == len(s):
            self.transform([], len(s))
            return
        last = len(s) - trail - 1
        dest = [(c, -trail if i == last else 0) for i, c in enumerate(s[lead : len(s) - trail], lead)]
        self.transform(dest, lead)

    def lstrip(self) -> None:
        self.strip(True, False)

    def rstrip(self) -> None:
        self.strip(False, True)

    def clear(self) -> int:
        n = len(self.normalized)
        self.transform([], n)
        return n

    # -- splitting -------------------------------------------------------------------------------
    def split(self, pattern: Any, behavior: str) -> list[NormalizedString]:
        """Split on ``pattern`` (str, compiled regex or char predicate), like the reference."""
        spans = split_spans(find_matches(pattern, self.normalized), behavior)
        return [self.slice(s, e) for s, e in spans]


_WS = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
WHITESPACE = frozenset(_WS)  # Unicode White_Space, what Rust's char::is_whitespace tests


def _lstrip_ws(s: str) -> str:
    return s.lstrip(_WS)


def _rstrip_ws(s: str) -> str:
    return s.rstrip(_WS)


def is_unchanged_by(form: str, text: str) -> bool:
    """Whether Unicode normalization ``form`` (with the reference's exceptions) leaves ``text`` as it is."""
    return text.isascii() or (unicodedata.is_normalized(form, text) and not _HAS_EXCEPTION.search(text))


def find_matches(pattern: Any, text: str) -> list[tuple[Span, bool]]:
    """Cover ``text`` with (span, is_match) pieces, as the reference's Pattern::find_matches."""
    if not text:
        return [((0, 0), False)]
    if isinstance(pattern, str):
        if not pattern:
            return [((0, len(text)), False)]
        pattern = regex.compile(regex.escape(pattern))
    out: list[tuple[Span, bool]] = []
    prev = 0
    if callable(pattern) and not hasattr(pattern, "finditer"):
        for i, c in enumerate(text):
            if pattern(c):
                if prev < i:
                    out.append(((prev, i), False))
                out.append(((i, i + 1), True))
                prev = i + 1
    else:
        last_empty = True
        for m in pattern.finditer(text):
            s, e = m.span()
            if s == e and s == prev and not last_empty:
                continue  # Oniguruma never matches empty right after a non-empty match
            last_empty = s == e
            if prev != s:
                out.append(((prev, s), False))
            out.append(((s, e), True))
            prev = e
    if prev != len(text):
        out.append(((prev, len(text)), False))
    return out


def split_spans(matches: list[tuple[Span, bool]], behavior: str) -> list[Span]:
    """Apply a split behavior to find_matches output; returns the spans kept."""
    if behavior == "isolated":
        return [span for span, _ in matches]
    if behavior == "removed":
        return [span for span, is_match in matches if not is_match]
    acc: list[list[int]] = []
    prev = False
    if behavior == "contiguous":
        for (s, e), is_match in matches:
            if is_match == prev and acc:
                acc[-1][1] = e
            else:
                acc.append([s, e])
            prev = is_match
    elif behavior == "merged_with_previous":
        for (s, e), is_match in matches:
            if is_match and not prev and acc:
                acc[-1][1] = e
            else:
                acc.append([s, e])
            prev = is_match
    elif behavior == "merged_with_next":
        for (s, e), is_match in reversed(matches):
            if is_match and not prev and acc:
                acc[-1][0] = s
            else:
                acc.append([s, e])
            prev = is_match
        acc.reverse()
    else:
        raise ValueError(f"unknown split behavior {behavior!r}; use one of {', '.join(SPLIT_BEHAVIORS)}")
    return [(s, e) for s, e in acc]


# -- Unicode normalization with per-char changes (what unicode-normalization-alignments yields) ----
# marks newer than the reference's Unicode tables: it gives them combining class 0, so canonical ordering
# never moves them (probed from the reference, as code point ranges)
_REF_CCC_ZERO_RANGES = (
    (0x7FD, 0x7FD),
    (0x898, 0x89F),
    (0x8CA, 0x8D3),
    (0x9FE, 0x9FE),
    (0xC3C, 0xC3C),
    (0xD3B, 0xD3C),
    (0xEBA, 0xEBA),
    (0x1715, 0x1715),
    (0x1ABF, 0x1ACE),
    (0x1DF6, 0x1DFA),
    (0xA82C, 0xA82C),
    (0x10D24, 0x10D27),
    (0x10EAB, 0x10EAC),
    (0x10F46, 0x10F50),
    (0x10F82, 0x10F85),
    (0x11070, 0x11070),
    (0x1133B, 0x1133B),
    (0x1145E, 0x1145E),
    (0x11839, 0x1183A),
    (0x1193D, 0x1193E),
    (0x11943, 0x11943),
    (0x119E0, 0x119E0),
    (0x11A34, 0x11A34),
    (0x11A47, 0x11A47),
    (0x11A99, 0x11A99),
    (0x11D42, 0x11D42),
    (0x11D44, 0x11D45),
    (0x11D97, 0x11D97),
    (0x16FF0, 0x16FF1),
    (0x1E130, 0x1E136),
    (0x1E2AE, 0x1E2AE),
    (0x1E2EC, 0x1E2EF),
)
_REF_CCC_ZERO = frozenset(chr(c) for a, b in _REF_CCC_ZERO_RANGES for c in range(a, b + 1))


def combining_class(c: str) -> int:
    """The canonical combining class of ``c`` as the reference's tables have it.

    >>> combining_class("\u0301"), combining_class("\u1df6")
    (230, 0)
    """
    return 0 if c in _REF_CCC_ZERO else unicodedata.combining(c)


def decompose(s: str, form: str, target: str | None = None) -> list[Change]:
    """Per-char decomposition (with the reference's exceptions), then canonical ordering."""
    exceptions = NORMALIZE_EXCEPTIONS.get(target or form, {})
    own = NORMALIZE_EXCEPTIONS.get(form, {})
    out: list[Change] = []
    for c in s:
        d = exceptions[c] if c in exceptions else own[c] if c in own else unicodedata.normalize(form, c)
        if not d:
            continue
        out.append((d[0], 0))
        out.extend((x, 1) for x in d[1:])
    # canonical ordering: stable sort of each run of non-starters by combining class
    i, n = 0, len(out)
    while i < n:
        if combining_class(out[i][0]) == 0:
            i += 1
            continue
        j = i
        while j < n and combining_class(out[j][0]) != 0:
            j += 1
        if j - i > 1:
            out[i:j] = sorted(out[i:j], key=lambda x: combining_class(x[0]))
        i = j
    return out


def compose(dec: list[Change]) -> list[Change]:
    """Canonical composition of a decomposed (char, change) list.

    A char absorbed into the preceding starter disappears; the starter takes over what it consumed.
    """
    out: list[Change] = []
    starter = -1  # index in out of the last starter
    last_ccc = -1  # combining class of the last char kept after the starter (-1: none)
    for c, change in dec:
        ccc = combining_class(c)
        if starter >= 0 and (last_ccc == -1 or (last_ccc != 0 and last_ccc < ccc)):
            sc, sch = out[starter]
            comp = unicodedata.normalize("NFC", sc + c)
            if len(comp) == 1:
                out[starter] = (comp, sch + change - 1)
                continue
        if ccc == 0:
            starter = len(out)
            last_ccc = -1
        else:
            last_ccc = ccc
        out.append((c, change))
    return out
