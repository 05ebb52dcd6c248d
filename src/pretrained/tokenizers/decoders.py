"""Decoders: turn tokens back into text (mirrors ``tokenizers.decoders``).

>>> WordPiece().decode(["un", "##aff", "##able", "!"])
'unaffable!'
"""

from __future__ import annotations

from typing import Any

from ._bytes import CHAR_TO_BYTE
from ._registry import Regex, build, compile_pattern, pattern_from_dict, pattern_to_dict


class Decoder:
    """Base class: ``decode_chain(tokens) -> tokens``; ``decode`` joins the result."""

    type_name = ""

    def decode_chain(self, tokens: list[str]) -> list[str]:
        raise NotImplementedError

    def decode(self, tokens: list[str]) -> str:
        return "".join(self.decode_chain(list(tokens)))

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Decoder:
        return cls()

    def __repr__(self) -> str:
        fields = {k: v for k, v in self.to_dict().items() if k != "type"}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in fields.items())})"


_CLEANUPS = [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
             (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")]  # fmt: skip


def cleanup(text: str) -> str:
    """Undo the spaces tokenization puts before punctuation and English contractions."""
    for a, b in _CLEANUPS:
        text = text.replace(a, b)
    return text


class WordPiece(Decoder):
    """Glue ``##`` continuations to the previous token, put spaces between words."""

    type_name = "WordPiece"

    def __init__(self, prefix: str = "##", cleanup: bool = True) -> None:
        self.prefix = prefix
        self.cleanup = cleanup

    def decode_chain(self, tokens: list[str]) -> list[str]:
        out = []
        for i, tok in enumerate(tokens):
            if i:
                tok = tok.replace(self.prefix, "", 1) if tok.startswith(self.prefix) else " " + tok
            out.append(cleanup(tok) if self.cleanup else tok)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name, "prefix": self.prefix, "cleanup": self.cleanup}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WordPiece:
        return cls(data.get("prefix", "##"), data.get("cleanup", True))


class ByteLevel(Decoder):
    """Map GPT-2's printable chars back to bytes, decode UTF-8 (invalid bytes become U+FFFD)."""

    type_name = "ByteLevel"

    def __init__(
        self, add_prefix_space: bool = True, trim_offsets: bool = True, use_regex: bool = True
    ) -> None:
        self.add_prefix_space = add_prefix_space
        self.trim_offsets = trim_offsets
        self.use_regex = use_regex

    def decode_chain(self, tokens: list[str]) -> list[str]:
        data = bytearray()
        for tok in tokens:
            mapped = [CHAR_TO_BYTE.get(c) for c in tok]
            # as tokenizers: a token with any char outside the byte alphabet is taken as plain UTF-8 text
            data += tok.encode() if None in mapped else bytes(mapped)
        return [data.decode("utf-8", errors="replace")]

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
            data.get("add_prefix_space", True), data.get("trim_offsets", True), data.get("use_regex", True)
        )


class Metaspace(Decoder):
    """Turn the replacement char back into spaces (dropping the one prepended to the first token)."""

    type_name = "Metaspace"

    def __init__(
        self, replacement: str = "\u2581", prepend_scheme: str = "always", split: bool = True
    ) -> None:
        self.replacement = replacement
        self.prepend_scheme = prepend_scheme
        self.split = split

    def decode_chain(self, tokens: list[str]) -> list[str]:
        out = []
        for i, tok in enumerate(tokens):
            if i == 0 and self.prepend_scheme != "never":  # the reference drops every one in the first token
                out.append(tok.replace(self.replacement, ""))
            else:
                out.append(tok.replace(self.replacement, " "))
        return out

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
        if scheme is None:
            scheme = "always" if data.get("add_prefix_space", True) else "never"
        return cls(data.get("replacement", "\u2581"), scheme, data.get("split", True))


def _byte_token(tok: str) -> int | None:
    if len(tok) == 6 and tok.startswith("<0x") and tok.endswith(">"):
        try:
            return int(tok[3:5], 16)
        except ValueError:
            return None
    return None


class ByteFallback(Decoder):
    """Turn runs of ``<0xNN>`` tokens back into the characters their bytes spell."""

    type_name = "ByteFallback"

    def decode_chain(self, tokens: list[str]) -> list[str]:
        out: list[str] = []
        pending = bytearray()

        def flush() -> None:
            if pending:
                try:
                    out.append(pending.decode("utf-8"))
                except UnicodeDecodeError:
                    out.extend("\ufffd" for _ in pending)
                pending.clear()

        for tok in tokens:
            b = _byte_token(tok)
            if b is None:
                flush()
                out.append(tok)
            else:
                pending.append(b)
        flush()
        return out


class Fuse(Decoder):
    """Join all tokens into one."""

    type_name = "Fuse"

    def decode_chain(self, tokens: list[str]) -> list[str]:
        return ["".join(tokens)]


class Strip(Decoder):
    """Remove up to ``start`` leading and ``stop`` trailing ``content`` chars from each token."""

    type_name = "Strip"

    def __init__(self, content: str = " ", left: int = 0, right: int = 0) -> None:
        self.content = content
        self.start = left
        self.stop = right

    def decode_chain(self, tokens: list[str]) -> list[str]:
        out = []
        for tok in tokens:
            a = 0
            while a < self.start and a < len(tok) and tok[a] == self.content:
                a += 1
            b = len(tok)
            while len(tok) - b < self.stop and b > a and tok[b - 1] == self.content:
                b -= 1
            out.append(tok[a:b])
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name, "content": self.content, "start": self.start, "stop": self.stop}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Strip:
        return cls(data.get("content", " "), data.get("start", 0), data.get("stop", 0))


class Replace(Decoder):
    """Replace a pattern by ``content`` in each token."""

    type_name = "Replace"

    def __init__(self, pattern: str | Regex, content: str) -> None:
        self.kind, self.pattern = (
            ("regex", pattern.pattern) if isinstance(pattern, Regex) else ("string", pattern)
        )
        self.content = content
        self._re = compile_pattern(self.kind, self.pattern)

    def decode_chain(self, tokens: list[str]) -> list[str]:
        if self.kind == "string" and self.pattern:  # (an empty String matches everywhere, as an empty regex)
            return [t.replace(self.pattern, self.content) for t in tokens]
        # an empty token stays empty (the reference finds no match in an empty string)
        return [self._re.sub(lambda _: self.content, t) if t else t for t in tokens]

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "pattern": pattern_to_dict(self.kind, self.pattern),
            "content": self.content,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Replace:
        kind, text = pattern_from_dict(data["pattern"], "Replace decoder")
        return cls(Regex(text) if kind == "regex" else text, data["content"])


class BPEDecoder(Decoder):
    """Turn the end-of-word ``suffix`` into spaces (none after the last token)."""

    type_name = "BPEDecoder"

    def __init__(self, suffix: str = "</w>") -> None:
        self.suffix = suffix

    def decode_chain(self, tokens: list[str]) -> list[str]:
        n = len(tokens)
        return [t.replace(self.suffix, "" if i == n - 1 else " ") for i, t in enumerate(tokens)]

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name, "suffix": self.suffix}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BPEDecoder:
        return cls(data.get("suffix", "</w>"))


class CTC(Decoder):
    """CTC output: collapse repeats, drop the pad token, word delimiter -> space."""

    type_name = "CTC"

    def __init__(
        self, pad_token: str = "<pad>", word_delimiter_token: str = "|", cleanup: bool = True
    ) -> None:
        self.pad_token = pad_token
        self.word_delimiter_token = word_delimiter_token
        self.cleanup = cleanup

    def decode_chain(self, tokens: list[str]) -> list[str]:
        out = []
        prev = None
        for tok in tokens:
            if tok == prev:
                continue
            prev = tok
            tok = tok.replace(self.pad_token, "") if self.pad_token else tok
            if self.cleanup:
                tok = cleanup(tok).replace(self.word_delimiter_token, " ")
            if tok:
                out.append(tok)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "pad_token": self.pad_token,
            "word_delimiter_token": self.word_delimiter_token,
            "cleanup": self.cleanup,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CTC:
        return cls(
            data.get("pad_token", "<pad>"), data.get("word_delimiter_token", "|"), data.get("cleanup", True)
        )


class Sequence(Decoder):
    """Chain decoders (each one's output tokens feed the next)."""

    type_name = "Sequence"

    def __init__(self, decoders: list[Decoder]) -> None:
        self.decoders = list(decoders)

    def decode_chain(self, tokens: list[str]) -> list[str]:
        for d in self.decoders:
            tokens = d.decode_chain(tokens)
        return tokens

    def __getitem__(self, i: int) -> Decoder:
        return self.decoders[i]

    def __len__(self) -> int:
        return len(self.decoders)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name, "decoders": [d.to_dict() for d in self.decoders]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Sequence:
        return cls([from_dict(d) for d in data["decoders"]])


DECODERS: dict[str, Any] = {
    "WordPiece": WordPiece,
    "ByteLevel": ByteLevel,
    "Metaspace": Metaspace,
    "ByteFallback": ByteFallback,
    "Fuse": Fuse,
    "Strip": Strip,
    "Replace": Replace,
    "BPEDecoder": BPEDecoder,
    "CTC": CTC,
    "Sequence": Sequence,
}


def from_dict(data: dict[str, Any] | None) -> Decoder | None:
    """Build a decoder from its tokenizer.json dict (None stays None)."""
    return build("decoder", DECODERS, data)
