"""Pre-tokenizers: split text into words before the model runs (mirrors ``tokenizers.pre_tokenizers``).

>>> BertPreTokenizer().pre_tokenize_str("Hi, you!")
[('Hi', (0, 2)), (',', (2, 3)), ('you', (4, 7)), ('!', (7, 8))]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import accumulate
from typing import Any

import regex

from ._bytes import ASCII_TO_BYTE_CHAR, BYTE_TO_CHAR
from ._registry import (
    LazyRegex,
    Regex,
    TokenizerFileError,
    build,
    compile_pattern,
    pattern_from_dict,
    pattern_to_dict,
)
from ._unicode_tables import BERT_PUNCT, NUMERIC, RUST_WORD
from .normalized import SPLIT_BEHAVIORS, WHITESPACE, NormalizedString, find_matches, split_spans
from .pretokenized import PreTokenizedString

Token = tuple[int, str, tuple[int, int]]
FastSplit = tuple[Iterable[tuple[str, int]], int, "dict[int, str] | None"]


class _LazyRe:
    """A stdlib ``re`` pattern compiled on first use: several times faster than ``regex`` on the big
    explicit char classes below (same matches: they use no property escapes)."""

    __slots__ = ("_pattern", "_compiled")

    def __init__(self, pattern: str) -> None:
        self._pattern = pattern
        self._compiled: re.Pattern | None = None

    def get(self) -> re.Pattern:
        if self._compiled is None:
            self._compiled = re.compile(self._pattern)
        return self._compiled

    def finditer(self, text: str) -> Iterator[re.Match]:
        return self.get().finditer(text)


class PreTokenizer:
    """Base class: subclasses implement ``split_one(NormalizedString) -> list[NormalizedString]``."""

    type_name = ""

    def split_one(self, ns: NormalizedString) -> list[NormalizedString]:
        raise NotImplementedError

    def pre_tokenize(self, pts: PreTokenizedString) -> None:
        pts.split_plain(self.split_one)

    def fast_split(self, text: str, shift: int = 0) -> FastSplit | None:
        """``(words, k, table)``: the words as (word, start) pairs when they are substrings of ``text``
        with ``k`` chars prepended (aligned like the reference's prepend), each word to be mapped through
        the str.translate ``table`` before the model (None: as it is; ASCII_TO_BYTE_CHAR: GPT-2's
        byte-level chars, of the UTF-8 bytes of non-ASCII words); None when the general path is needed.
        Lets the Tokenizer skip per-word objects.

        >>> words, k, table = WhitespaceSplit().fast_split("a bc")
        >>> list(words), k, table
        ([('a', 0), ('bc', 2)], 0, None)
        """
        return None

    def pre_tokenize_str(self, sequence: str) -> list[tuple[str, tuple[int, int]]]:
        pts = PreTokenizedString(sequence)
        self.pre_tokenize(pts)
        return [(s[0], s[1]) for s in pts.get_splits()]

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PreTokenizer:
        return cls()

    def __repr__(self) -> str:
        fields = {k: v for k, v in self.to_dict().items() if k != "type"}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in fields.items())})"


_WS_CLASS = "".join(sorted(WHITESPACE)).replace("\\", "\\\\")
_PUNCT_CLASS = BERT_PUNCT  # ASCII punctuation + Unicode P*, as the reference's tables have it
_BERT_WORDS = _LazyRe(rf"[^{_WS_CLASS}{_PUNCT_CLASS}]+|[{_PUNCT_CLASS}]")
_BERT_WORDS_ASCII = _LazyRe(r"[^\t-\r !-/:-@\[-`{-~]+|[!-/:-@\[-`{-~]")  # the same on ASCII text
_WS_CHAR = _LazyRe(f"[{_WS_CLASS}]")
_NON_WS_RUN = _LazyRe(f"[^{_WS_CLASS}]+")
_PUNCT_CHAR = LazyRegex(f"[{_PUNCT_CLASS}]")
_NUMERIC_CHAR = LazyRegex(f"[{NUMERIC}]")
# the reference's Whitespace is the regex crate's \w+|[^\w\s]+
_WHITESPACE_WORDS = _LazyRe(f"[{RUST_WORD}]+|[^{RUST_WORD}{_WS_CLASS}]+")


def _slices(ns: NormalizedString, spans: list[tuple[int, int]]) -> list[NormalizedString]:
    return [ns.slice(s, e) for s, e in spans]


def _split_words(text: str, pattern: Any, behavior: str, invert: bool = False) -> FastSplit:
    """``fast_split`` of what ``NormalizedString.split(pattern, behavior)`` keeps (empty pieces dropped)."""
    matches = find_matches(pattern, text)
    if invert:
        matches = [(span, not m) for span, m in matches]
    return [(text[a:b], a) for a, b in split_spans(matches, behavior) if b > a], 0, None


class BertPreTokenizer(PreTokenizer):
    """Split on whitespace (dropped) and on each punctuation char (kept alone)."""

    type_name = "BertPreTokenizer"

    def split_one(self, ns: NormalizedString) -> list[NormalizedString]:
        return _slices(ns, [m.span() for m in _BERT_WORDS.finditer(ns.normalized)])

    def fast_split(self, text: str, shift: int = 0) -> FastSplit | None:
        words = _BERT_WORDS_ASCII if text.isascii() else _BERT_WORDS
        return [(m.group(), m.start()) for m in words.get().finditer(text)], 0, None


class Whitespace(PreTokenizer):
    """Keep runs of word chars and runs of other non-space chars (regex ``\\w+|[^\\w\\s]+``)."""

    type_name = "Whitespace"

    def split_one(self, ns: NormalizedString) -> list[NormalizedString]:
        return _slices(ns, [m.span() for m in _WHITESPACE_WORDS.finditer(ns.normalized)])

    def fast_split(self, text: str, shift: int = 0) -> FastSplit | None:
        return [(m.group(), m.start()) for m in _WHITESPACE_WORDS.get().finditer(text)], 0, None


class WhitespaceSplit(PreTokenizer):
    """Split on whitespace only."""

    type_name = "WhitespaceSplit"

    def split_one(self, ns: NormalizedString) -> list[NormalizedString]:
        return ns.split(_WS_CHAR, "removed")

    def fast_split(self, text: str, shift: int = 0) -> FastSplit | None:
        return [(m.group(), m.start()) for m in _NON_WS_RUN.get().finditer(text)], 0, None


def _behavior_from_json(value: Any) -> str:
    names = {"Removed": "removed", "Isolated": "isolated", "MergedWithPrevious": "merged_with_previous",
             "MergedWithNext": "merged_with_next", "Contiguous": "contiguous"}  # fmt: skip
    if value in names:
        return names[value]
    if value in SPLIT_BEHAVIORS:
        return value
    raise TokenizerFileError(
        f"tokenizer.json: unknown split behavior {value!r}; use one of {', '.join(names)}"
    )


def _behavior_to_json(value: str) -> str:
    return "".join(p.capitalize() for p in value.split("_"))


class Punctuation(PreTokenizer):
    """Split on punctuation chars with the given behavior."""

    type_name = "Punctuation"

    def __init__(self, behavior: str = "isolated") -> None:
        self.behavior = _behavior_from_json(behavior)

    def split_one(self, ns: NormalizedString) -> list[NormalizedString]:
        return ns.split(_PUNCT_CHAR, self.behavior)

    def fast_split(self, text: str, shift: int = 0) -> FastSplit | None:
        return _split_words(text, _PUNCT_CHAR, self.behavior)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name, "behavior": _behavior_to_json(self.behavior)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Punctuation:
        return cls(data.get("behavior", "Isolated"))


class Digits(PreTokenizer):
    """Split digits from the rest, one by one if ``individual_digits``."""

    type_name = "Digits"

    def __init__(self, individual_digits: bool = False) -> None:
        self.individual_digits = individual_digits

    def split_one(self, ns: NormalizedString) -> list[NormalizedString]:
        if self.individual_digits:
            return ns.split(_NUMERIC_CHAR, "isolated")
        return ns.split(_NUMERIC_CHAR, "contiguous")

    def fast_split(self, text: str, shift: int = 0) -> FastSplit | None:
        return _split_words(text, _NUMERIC_CHAR, "isolated" if self.individual_digits else "contiguous")

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name, "individual_digits": self.individual_digits}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Digits:
        return cls(data.get("individual_digits", False))


class CharDelimiterSplit(PreTokenizer):
    """Split on one delimiter char, dropping it."""

    type_name = "CharDelimiterSplit"

    def __init__(self, delimiter: str) -> None:
        if len(delimiter) != 1:
            raise ValueError(f"CharDelimiterSplit delimiter must be one char, got {delimiter!r}")
        self.delimiter = delimiter
        self._re = regex.compile(regex.escape(delimiter))

    def split_one(self, ns: NormalizedString) -> list[NormalizedString]:
        return ns.split(self._re, "removed")

    def fast_split(self, text: str, shift: int = 0) -> FastSplit | None:
        return _split_words(text, self._re, "removed")

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name, "delimiter": self.delimiter}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CharDelimiterSplit:
        return cls(data["delimiter"])


class _Invert:
    """A pattern whose matches and gaps are swapped."""

    def __init__(self, pattern: regex.Pattern) -> None:
        self.pattern = pattern


class Split(PreTokenizer):
    """Split on a string or ``Regex`` pattern with a behavior; ``invert`` splits on the gaps instead.

    >>> Split(" ", "merged_with_next").pre_tokenize_str("a b")
    [('a', (0, 1)), (' b', (1, 3))]
    """

    type_name = "Split"

    def __init__(self, pattern: str | Regex, behavior: str, invert: bool = False) -> None:
        self.kind, self.pattern = (
            ("regex", pattern.pattern) if isinstance(pattern, Regex) else ("string", pattern)
        )
        self.behavior = _behavior_from_json(behavior)
        self.invert = invert
        self._re = compile_pattern(self.kind, self.pattern)  # an empty String matches everywhere (reference)

    def split_one(self, ns: NormalizedString) -> list[NormalizedString]:
        matches = find_matches(self._re, ns.normalized)
        if self.invert:
            matches = [(span, not m) for span, m in matches]
        return [ns.slice(s, e) for s, e in split_spans(matches, self.behavior)]

    def fast_split(self, text: str, shift: int = 0) -> FastSplit | None:
        return _split_words(text, self._re, self.behavior, self.invert)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "pattern": pattern_to_dict(self.kind, self.pattern),
            "behavior": _behavior_to_json(self.behavior),
            "invert": self.invert,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Split:
        kind, text = pattern_from_dict(data["pattern"], "Split pre-tokenizer")
        return cls(Regex(text) if kind == "regex" else text, data["behavior"], data.get("invert", False))


class Sequence(PreTokenizer):
    """Apply pre-tokenizers one after the other."""

    type_name = "Sequence"

    def __init__(self, pretokenizers: list[PreTokenizer]) -> None:
        self.pretokenizers = list(pretokenizers)

    def pre_tokenize(self, pts: PreTokenizedString) -> None:
        for p in self.pretokenizers:
            p.pre_tokenize(pts)

    def fast_split(self, text: str, shift: int = 0) -> FastSplit | None:
        """Pre-tokenizers that only cut, in turn, optionally ending with the byte map of a regex-less
        ByteLevel (Llama 3, Qwen2: a Split regex then ByteLevel)."""
        if any(type(p).fast_split is PreTokenizer.fast_split for p in self.pretokenizers):
            return None
        words: list[tuple[str, int]] = [(text, 0)] if text else []
        table = None
        for p in self.pretokenizers:
            if table is not None:
                return None  # nothing may follow the byte map
            if type(p) is ByteLevel and not p.use_regex and not p.add_prefix_space:
                table = ASCII_TO_BYTE_CHAR
                continue
            out: list[tuple[str, int]] = []
            for word, start in words:
                split = p.fast_split(word, shift + start)
                if split is None or split[1] or split[2] is not None:
                    return None  # prepends or maps chars: the general path aligns that
                out += [(piece, start + at) for piece, at in split[0]]
            words = out
        return words, 0, table

    def __getitem__(self, i: int) -> PreTokenizer:
        return self.pretokenizers[i]

    def __len__(self) -> int:
        return len(self.pretokenizers)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name, "pretokenizers": [p.to_dict() for p in self.pretokenizers]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Sequence:
        return cls([from_dict(d) for d in data["pretokenizers"]])


# GPT-2's pre-tokenization regex
_GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
_GPT2_RE: list[Any] = []  # compiled on first use
_GPT2_ASCII: list[re.Pattern] = []


def _gpt2_ascii_pattern() -> re.Pattern:
    """The GPT-2 pattern for ASCII text, as a stdlib ``re`` pattern with the classes spelled out."""
    ascii_chars = [chr(i) for i in range(128)]

    def chars(prop: str) -> str:
        return "".join(re.escape(c) for c in ascii_chars if regex.match(prop, c))

    L, N, S = chars(r"\p{L}"), chars(r"\p{N}"), chars(r"\s")
    return re.compile(rf"'s|'t|'re|'ve|'m|'ll|'d| ?[{L}]+| ?[{N}]+| ?[^{S}{L}{N}]+|[{S}]+(?![^{S}])|[{S}]+")


def byte_level_transform(ns: NormalizedString) -> None:
    """Replace each char by the printable chars of its UTF-8 bytes (first replaces, rest insert)."""
    s = ns.normalized
    if s.isascii():
        ns.set_same_length(s.translate(ASCII_TO_BYTE_CHAR))
    else:
        ns.expand(
            [
                c.translate(ASCII_TO_BYTE_CHAR)
                if c < "\x80"
                else "".join(BYTE_TO_CHAR[b] for b in c.encode())
                for c in s
            ]
        )


class ByteLevel(PreTokenizer):
    """GPT-2 byte-level: optional prefix space, the GPT-2 regex split, then bytes mapped to printable chars.

    >>> ByteLevel(add_prefix_space=False).pre_tokenize_str("Hi you")
    [('Hi', (0, 2)), ('\u0120you', (2, 6))]
    """

    type_name = "ByteLevel"

    def __init__(
        self, add_prefix_space: bool = True, use_regex: bool = True, trim_offsets: bool = True
    ) -> None:
        self.add_prefix_space = add_prefix_space
        self.use_regex = use_regex
        self.trim_offsets = trim_offsets

    @staticmethod
    def alphabet() -> list[str]:
        """The 256 chars byte-level tokens are made of (for BpeTrainer's initial_alphabet)."""
        return sorted(BYTE_TO_CHAR.values())

    def split_one(self, ns: NormalizedString) -> list[NormalizedString]:
        if self.add_prefix_space and not ns.normalized.startswith(" "):
            ns.prepend(" ")
        if self.use_regex:
            if not _GPT2_RE:
                _GPT2_RE.append(compile_pattern("regex", _GPT2_PATTERN))
            return _slices(ns, [m.span() for m in _GPT2_RE[0].finditer(ns.normalized)])
        return [ns]

    def pre_tokenize(self, pts: PreTokenizedString) -> None:
        pts.split_plain(self.split_one)
        pts.normalize(byte_level_transform)

    def fast_split(self, text: str, shift: int = 0) -> FastSplit | None:
        k = 0
        if self.add_prefix_space and text and not text.startswith(" "):
            text, k = " " + text, 1
        if not self.use_regex:
            return ([(text, 0)] if text else []), k, ASCII_TO_BYTE_CHAR
        if not text.isascii():
            if not _GPT2_RE:
                _GPT2_RE.append(compile_pattern("regex", _GPT2_PATTERN))
            return [(m.group(), m.start()) for m in _GPT2_RE[0].finditer(text)], k, ASCII_TO_BYTE_CHAR
        if not _GPT2_ASCII:
            _GPT2_ASCII.append(_gpt2_ascii_pattern())
        words = _GPT2_ASCII[0].findall(text)
        # the pattern matches every char, so the words tile the text
        return zip(words, accumulate(map(len, words), initial=0)), k, ASCII_TO_BYTE_CHAR

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "add_prefix_space": self.add_prefix_space,
            "trim_offsets": self.trim_offsets,
            "use_regex": self.use_regex,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ByteLevel:
        return cls(
            data.get("add_prefix_space", True), data.get("use_regex", True), data.get("trim_offsets", True)
        )


PREPEND_SCHEMES = ("always", "first", "never")


class Metaspace(PreTokenizer):
    """SentencePiece-style: spaces become ``replacement`` (default U+2581), optionally prepended, then split.

    >>> Metaspace().pre_tokenize_str("Hey you")
    [('\u2581Hey', (0, 3)), ('\u2581you', (3, 7))]
    """

    type_name = "Metaspace"

    def __init__(
        self, replacement: str = "\u2581", prepend_scheme: str = "always", split: bool = True
    ) -> None:
        if len(replacement) != 1:
            raise ValueError(f"Metaspace replacement must be one char, got {replacement!r}")
        if prepend_scheme not in PREPEND_SCHEMES:
            raise ValueError(
                f"Metaspace prepend_scheme must be one of {PREPEND_SCHEMES}, got {prepend_scheme!r}"
            )
        self.replacement = replacement
        self.prepend_scheme = prepend_scheme
        self.split = split
        self._re = regex.compile(regex.escape(replacement))

    def fast_split(self, text: str, shift: int = 0) -> FastSplit | None:
        r = self.replacement
        text = text.replace(" ", r)
        k = 0
        if text and not text.startswith(r):
            if self.prepend_scheme == "always" or (self.prepend_scheme == "first" and shift == 0):
                text, k = r + text, 1
        if not self.split:
            return ([(text, 0)] if text else []), k, None
        # merged_with_next: each piece is one replacement char and what follows up to the next one
        parts = text.split(r)
        words = [parts[0]] if parts[0] else []
        words += [r + p for p in parts[1:]]
        return zip(words, accumulate(map(len, words), initial=0)), k, None

    def split_one(self, ns: NormalizedString) -> list[NormalizedString]:
        ns.replace(" ", self.replacement)
        if not ns.normalized.startswith(self.replacement):
            # "first": only where the text's first char comes from the original's first (the reference
            # reads the original offset of the normalized text, so a stripped or removed start means no prepend)
            first = ns.align[0][0] if ns.align else ns.shift
            if self.prepend_scheme == "always" or (self.prepend_scheme == "first" and first == 0):
                ns.prepend(self.replacement)
        if self.split:
            return ns.split(self._re, "merged_with_next")
        return [ns]

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "replacement": self.replacement,
            "prepend_scheme": self.prepend_scheme,
            "split": self.split,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Metaspace:
        scheme = data.get("prepend_scheme")
        if scheme is None:  # files written before prepend_scheme existed
            scheme = "always" if data.get("add_prefix_space", True) else "never"
        return cls(data.get("replacement", "\u2581"), scheme, data.get("split", True))


class FixedLength(PreTokenizer):
    """Cut the text into pieces of ``length`` chars.

    >>> FixedLength(2).pre_tokenize_str("abcde")
    [('ab', (0, 2)), ('cd', (2, 4)), ('e', (4, 5))]
    """

    type_name = "FixedLength"

    def __init__(self, length: int = 5) -> None:
        if length < 1:
            raise ValueError(f"FixedLength length must be at least 1, got {length}")
        self.length = length

    def split_one(self, ns: NormalizedString) -> list[NormalizedString]:
        n, k = len(ns.normalized), self.length
        return [ns.slice(i, min(i + k, n)) for i in range(0, n, k)]

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name, "length": self.length}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FixedLength:
        return cls(data.get("length", 5))


def _unicode_scripts(data: dict[str, Any]) -> PreTokenizer:
    from .unicode_scripts import UnicodeScripts

    return UnicodeScripts.from_dict(data)


class _UnicodeScriptsEntry:
    from_dict = staticmethod(_unicode_scripts)


PRE_TOKENIZERS: dict[str, Any] = {
    "BertPreTokenizer": BertPreTokenizer,
    "Whitespace": Whitespace,
    "WhitespaceSplit": WhitespaceSplit,
    "Punctuation": Punctuation,
    "Digits": Digits,
    "CharDelimiterSplit": CharDelimiterSplit,
    "Split": Split,
    "Sequence": Sequence,
    "ByteLevel": ByteLevel,
    "Metaspace": Metaspace,
    "UnicodeScripts": _UnicodeScriptsEntry,
    "FixedLength": FixedLength,
}


def from_dict(data: dict[str, Any] | None) -> PreTokenizer | None:
    """Build a pre-tokenizer from its tokenizer.json dict (None stays None)."""
    return build("pre_tokenizer", PRE_TOKENIZERS, data)
