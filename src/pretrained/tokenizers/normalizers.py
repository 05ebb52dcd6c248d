"""Normalizers: edit a NormalizedString in place, keeping alignments (mirrors ``tokenizers.normalizers``).

>>> BertNormalizer().normalize_str("Héllo\\tWORLD")
'hello world'
"""

from __future__ import annotations

import unicodedata
from typing import Any

from ._bytes import ASCII_TO_BYTE_CHAR
from ._registry import LazyRegex, Regex, build, compile_pattern, pattern_from_dict, pattern_to_dict
from ._unicode_tables import BERT_MN, BERT_REMOVE, MARKS
from .normalized import WHITESPACE, NormalizedString, is_unchanged_by


class Normalizer:
    """Base class: subclasses implement ``normalize(NormalizedString)`` and ``to_dict``."""

    type_name = ""

    def normalize(self, ns: NormalizedString) -> None:
        raise NotImplementedError

    def fast_normalize(self, text: str) -> tuple[str, int] | None:
        """``(normalized, k)`` when the normalized text is ``k`` prepended chars (aligned with the first
        original char, as ``prepend`` aligns them) then one char per original char; None when the
        general path with alignments is needed. Lets the Tokenizer skip the NormalizedString.

        >>> Lowercase().fast_normalize("AB")
        ('ab', 0)
        """
        return None

    def normalize_str(self, sequence: str) -> str:
        """The normalized text (alignments dropped).

        >>> Lowercase().normalize_str("ABC")
        'abc'
        """
        ns = NormalizedString(sequence)
        self.normalize(ns)
        return ns.normalized

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Normalizer:
        return cls()

    def __repr__(self) -> str:
        fields = {k: v for k, v in self.to_dict().items() if k != "type"}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in fields.items())})"


# chars removed by BertNormalizer(clean_text): NUL, U+FFFD and "other" categories but \t \n \r
_BERT_REMOVE = LazyRegex(f"[{BERT_REMOVE}]")
_BERT_REMOVE_ASCII = LazyRegex("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # its ASCII part
_WS_TO_SPACE = {ord(c): " " for c in WHITESPACE if c != " "}
_CJK = LazyRegex(
    "[\u4e00-\u9fff\u3400-\u4dbf\U00020000-\U0002a6df\U0002a700-\U0002b73f"
    "\U0002b740-\U0002b81f\U0002b920-\U0002ceaf\uf900-\ufaff\U0002f800-\U0002fa1f]"
)
_MN = LazyRegex(f"[{BERT_MN}]")  # non-spacing marks (BertNormalizer strip_accents)
_MARK = LazyRegex(f"[{MARKS}]")  # all combining marks (StripAccents)


class BertNormalizer(Normalizer):
    """Clean control chars, space out CJK ideographs, strip accents, lowercase (BERT's BasicTokenizer).

    >>> BertNormalizer(lowercase=False).normalize_str("a\\u4e2db")
    'a \\u4e2d b'
    """

    type_name = "BertNormalizer"

    def __init__(
        self,
        clean_text: bool = True,
        handle_chinese_chars: bool = True,
        strip_accents: bool | None = None,
        lowercase: bool = True,
    ) -> None:
        self.clean_text = clean_text
        self.handle_chinese_chars = handle_chinese_chars
        self.strip_accents = strip_accents
        self.lowercase = lowercase

    def normalize(self, ns: NormalizedString) -> None:
        if self.clean_text:
            ns.remove_chars(_BERT_REMOVE)
            ns.set_same_length(ns.normalized.translate(_WS_TO_SPACE))
        if self.handle_chinese_chars and not ns.normalized.isascii() and _CJK.search(ns.normalized):
            ns.expand([f" {c} " if _CJK.match(c) else c for c in ns.normalized])
        strip = self.strip_accents if self.strip_accents is not None else self.lowercase
        if strip and not ns.normalized.isascii():
            ns.nfd()
            ns.remove_chars(_MN)
        if self.lowercase:
            ns.lowercase()

    def fast_normalize(self, text: str) -> tuple[str, int] | None:
        if not text.isascii():
            return self._fast_non_ascii(text)
        if self.clean_text:
            if _BERT_REMOVE_ASCII.search(text):
                return None
            text = text.translate(_WS_TO_SPACE)
        return (text.lower() if self.lowercase else text), 0

    def _fast_non_ascii(self, text: str) -> tuple[str, int] | None:
        """Char by char when every char normalizes alone to one starter char ("É" -> "e"); CJK spacing,
        dropped chars and marks left standing take the general path."""
        key = (self.clean_text, self.handle_chinese_chars, self.strip_accents, self.lowercase)
        cached = self.__dict__.get("_char_maps")
        if cached is None or cached[0] != key:
            cached = self._char_maps = (key, {}, {})  # char -> its one char (or None); translate table
        one, table = cached[1], cached[2]
        chars = set(text)
        for c in chars.difference(one):
            r = self.normalize_str(c)
            ok = len(r) == 1 and not unicodedata.combining(c) and not unicodedata.combining(r)
            one[c] = r if ok else None
            if ok and r != c:
                table[ord(c)] = r
        if None in map(one.__getitem__, chars):
            return None
        return text.translate(table), 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "clean_text": self.clean_text,
            "handle_chinese_chars": self.handle_chinese_chars,
            "strip_accents": self.strip_accents,
            "lowercase": self.lowercase,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BertNormalizer:
        return cls(
            data.get("clean_text", True),
            data.get("handle_chinese_chars", True),
            data.get("strip_accents"),
            data.get("lowercase", True),
        )


class _Unicode(Normalizer):
    form = ""

    def normalize(self, ns: NormalizedString) -> None:
        ns.unicode_normalize(self.form)

    def fast_normalize(self, text: str) -> tuple[str, int] | None:
        return (text, 0) if is_unchanged_by(self.form, text) else None


class NFD(_Unicode):
    """Unicode canonical decomposition.

    >>> NFD().normalize_str("é") == "e\\u0301"
    True
    """

    type_name = form = "NFD"


class NFKD(_Unicode):
    type_name = form = "NFKD"


class NFC(_Unicode):
    type_name = form = "NFC"


class NFKC(_Unicode):
    type_name = form = "NFKC"


class Lowercase(Normalizer):
    type_name = "Lowercase"

    def normalize(self, ns: NormalizedString) -> None:
        ns.lowercase()

    def fast_normalize(self, text: str) -> tuple[str, int] | None:
        return (text.lower(), 0) if text.isascii() else None


class StripAccents(Normalizer):
    """Remove combining marks (Mn, Mc, Me); use after NFD to strip accents."""

    type_name = "StripAccents"

    def normalize(self, ns: NormalizedString) -> None:
        if not ns.normalized.isascii():
            ns.remove_chars(_MARK)

    def fast_normalize(self, text: str) -> tuple[str, int] | None:
        return (text, 0) if text.isascii() or not _MARK.search(text) else None


class Strip(Normalizer):
    """Remove leading and/or trailing whitespace.

    >>> Strip().normalize_str("  a  ")
    'a'
    """

    type_name = "Strip"

    def __init__(self, left: bool = True, right: bool = True) -> None:
        self.left = left
        self.right = right

    def normalize(self, ns: NormalizedString) -> None:
        ns.strip(self.left, self.right)

    def fast_normalize(self, text: str) -> tuple[str, int] | None:
        if (self.left and text[:1] in WHITESPACE) or (self.right and text[-1:] in WHITESPACE):
            return None
        return text, 0

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name, "strip_left": self.left, "strip_right": self.right}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Strip:
        return cls(data.get("strip_left", True), data.get("strip_right", True))


class Replace(Normalizer):
    """Replace a string or ``Regex`` pattern by ``content``.

    >>> Replace(" ", "\\u2581").normalize_str("a b")
    'a\\u2581b'
    """

    type_name = "Replace"

    def __init__(self, pattern: str | Regex, content: str) -> None:
        self.kind, self.pattern = (
            ("regex", pattern.pattern) if isinstance(pattern, Regex) else ("string", pattern)
        )
        self.content = content
        self._re = compile_pattern(self.kind, self.pattern)

    def normalize(self, ns: NormalizedString) -> None:
        if self.kind == "string" and self.pattern:
            ns.replace(self.pattern, self.content)
        else:  # (an empty String matches between every two chars, as an empty regex: the reference does so)
            ns.replace(self._re, self.content)

    def fast_normalize(self, text: str) -> tuple[str, int] | None:
        if self.kind == "string" and self.pattern:
            if self.pattern not in text:
                return text, 0
            if len(self.pattern) == 1 and len(self.content) == 1:
                return text.replace(self.pattern, self.content), 0
            return None
        return (text, 0) if self._re.search(text) is None else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "pattern": pattern_to_dict(self.kind, self.pattern),
            "content": self.content,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Replace:
        kind, text = pattern_from_dict(data["pattern"], "Replace normalizer")
        return cls(Regex(text) if kind == "regex" else text, data["content"])


class Prepend(Normalizer):
    """Put a string in front of the text (if not empty).

    >>> Prepend("_").normalize_str("a")
    '_a'
    """

    type_name = "Prepend"

    def __init__(self, prepend: str) -> None:
        self.prepend = prepend

    def normalize(self, ns: NormalizedString) -> None:
        ns.prepend(self.prepend)

    def fast_normalize(self, text: str) -> tuple[str, int] | None:
        if not text or not self.prepend:
            return text, 0
        return self.prepend + text, len(self.prepend)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name, "prepend": self.prepend}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Prepend:
        return cls(data["prepend"])


class Sequence(Normalizer):
    """Run normalizers in order."""

    type_name = "Sequence"

    def __init__(self, normalizers: list[Normalizer]) -> None:
        self.normalizers = list(normalizers)

    def normalize(self, ns: NormalizedString) -> None:
        for n in self.normalizers:
            n.normalize(ns)

    def fast_normalize(self, text: str) -> tuple[str, int] | None:
        k = 0
        for n in self.normalizers:
            out = n.fast_normalize(text)
            if out is None:
                return None
            text, k = out[0], k + out[1]
        return text, k

    def __getitem__(self, i: int) -> Normalizer:
        return self.normalizers[i]

    def __len__(self) -> int:
        return len(self.normalizers)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name, "normalizers": [n.to_dict() for n in self.normalizers]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Sequence:
        return cls([from_dict(d) for d in data["normalizers"]])


class ByteLevel(Normalizer):
    """Map every byte of the UTF-8 text to a printable char (GPT-2's byte-to-unicode table)."""

    type_name = "ByteLevel"

    def normalize(self, ns: NormalizedString) -> None:
        from .pre_tokenizers import byte_level_transform

        byte_level_transform(ns)

    def fast_normalize(self, text: str) -> tuple[str, int] | None:
        return (text.translate(ASCII_TO_BYTE_CHAR), 0) if text.isascii() else None


_NMT_REMOVE = LazyRegex("[\x01-\x08\x0b\x0e-\x1f\x7f\x8f\x9f]")
_NMT_SPACES = {
    ord(c): " " for c in "\t\n\x0c\r\u1680\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u2581\ufeff\ufffd"
}


class Nmt(Normalizer):
    """SentencePiece's nmt rules: drop ASCII control chars, map odd whitespace to a space."""

    type_name = "Nmt"

    def normalize(self, ns: NormalizedString) -> None:
        ns.remove_chars(_NMT_REMOVE)
        ns.set_same_length(ns.normalized.translate(_NMT_SPACES))

    def fast_normalize(self, text: str) -> tuple[str, int] | None:
        return None if _NMT_REMOVE.search(text) else (text.translate(_NMT_SPACES), 0)


def _precompiled(data: dict[str, Any]) -> Normalizer:
    from .precompiled import Precompiled

    return Precompiled.from_dict(data)


class _PrecompiledEntry:
    from_dict = staticmethod(_precompiled)


NORMALIZERS: dict[str, Any] = {
    "BertNormalizer": BertNormalizer,
    "NFD": NFD,
    "NFKD": NFKD,
    "NFC": NFC,
    "NFKC": NFKC,
    "Lowercase": Lowercase,
    "StripAccents": StripAccents,
    "Strip": Strip,
    "Replace": Replace,
    "Prepend": Prepend,
    "Sequence": Sequence,
    "ByteLevel": ByteLevel,
    "Precompiled": _PrecompiledEntry,
    "Nmt": Nmt,
}


def from_dict(data: dict[str, Any] | None) -> Normalizer | None:
    """Build a normalizer from its tokenizer.json dict (None stays None)."""
    return build("normalizer", NORMALIZERS, data)
