"""SentencePiece's precompiled normalizer: a double-array trie of UTF-8 keys -> replacement strings.

The ``precompiled_charsmap`` blob is ``[u32 trie size][trie units: u32 ...][replacements: NUL-separated]``
(the darts-clone layout SentencePiece writes). Normalization walks the text grapheme by grapheme like
the reference, so offsets match too.

>>> Precompiled(b"").normalize_str("ａ")  # an empty map changes nothing
'ａ'
"""

from __future__ import annotations

import base64
import binascii
import struct
from typing import Any

from ._registry import LazyRegex, TokenizerFileError
from .normalized import Change, NormalizedString
from .normalizers import Normalizer

_GRAPHEME = LazyRegex(r"\X")
# chars that can join a grapheme with a neighbour; a text without any has one char per grapheme
_EXTENDER = LazyRegex(
    "[\r" + "".join(f"\\p{{Grapheme_Cluster_Break={k}}}" for k in
                     ("Extend", "ZWJ", "SpacingMark", "Prepend", "L", "V", "T", "LV", "LVT", "Regional_Indicator")) + "]"
)  # fmt: skip

# marks the regex module's (newer) Unicode joins to the char before, which the reference's grapheme
# tables leave unassigned: there they start a grapheme of their own (probed from the reference)
_NEWER_MARK = LazyRegex(
    "[\u05c8\u05c9\u0b53\u0b54\u1acf-\u1af0\U00010ecb-\U00010ecf\U00010ef0-\U00010efb\U00011b60-\U00011b67"
    "\U00011df0\U0001d127-\U0001d128\U0001d250-\U0001d252\U0001d25b-\U0001d25c\U0001d25f\U0001d280-\U0001d281"
    "\U0001e6e3\U0001e6e6\U0001e6ee-\U0001e6ef\U0001e6f5]"
)


def _graphemes(text: str) -> list[str]:
    """The text's graphemes as the reference cuts them.

    >>> _graphemes("a\u02e2\u1adf")
    ['a', 'ˢ', '\u1adf']
    """
    out: list[str] = []
    for g in _GRAPHEME.findall(text):
        start = 0
        if len(g) > 1:
            for m in _NEWER_MARK.finditer(g, 1):
                out.append(g[start : m.start()])
                start = m.start()
        out.append(g[start:])
    return out


class DoubleArray:
    """Read-only darts-clone double array over bytes."""

    __slots__ = ("units",)

    def __init__(self, units: tuple[int, ...]) -> None:
        self.units = units

    def prefix_values(self, key: bytes) -> tuple[list[int], bool]:
        """Values of every key that is a prefix of ``key``, and whether the walk used all of ``key``."""
        units = self.units
        out: list[int] = []
        if not units:
            return out, False
        unit = units[0]
        pos = (unit >> 10) << ((unit & 512) >> 6)
        for c in key:
            if c == 0:
                return out, False
            pos ^= c
            if pos >= len(units):
                return out, False
            unit = units[pos]
            if unit & 0x800000FF != c:
                return out, False
            pos ^= (unit >> 10) << ((unit & 512) >> 6)
            if (unit >> 8) & 1:
                out.append(units[pos] & 0x7FFFFFFF)
        return out, True


class Precompiled(Normalizer):
    """Mirrors ``tokenizers.normalizers.Precompiled`` (XLM-R, T5, ALBERT, mBART ... normalization)."""

    type_name = "Precompiled"

    def __init__(self, precompiled_charsmap: bytes) -> None:
        self.precompiled_charsmap = bytes(precompiled_charsmap)
        self.trie, self.replacements = _parse(self.precompiled_charsmap)
        self._grapheme_cache: dict[str, str | None] = {}
        self._may_change: dict[str, bool] = {}

    def transform(self, chunk: str) -> str | None:
        """The replacement of the shortest key that prefixes ``chunk``, or None."""
        cached = self._grapheme_cache.get(chunk, False)
        if cached is not False:
            return cached  # type: ignore[return-value]
        values, _ = self.trie.prefix_values(chunk.encode())
        out = None
        if values:
            start = values[0]
            end = self.replacements.find(b"\0", start)
            out = self.replacements[start : end if end >= 0 else len(self.replacements)].decode(
                "utf-8", "replace"
            )
        if len(self._grapheme_cache) > 100_000:
            self._grapheme_cache.clear()
        self._grapheme_cache[chunk] = out
        return out

    def _char_may_change(self, c: str) -> bool:
        hit = self._may_change.get(c)
        if hit is None:
            hit = self._may_change[c] = self.trie.prefix_values(c.encode())[1]
        return hit

    def _char_table(self, text: str) -> dict[int, str] | None:
        """A str.translate table that normalizes ``text`` ({} when nothing changes), when it has one char
        per grapheme and every change maps one char to one char; None otherwise."""
        if not self.trie.units:
            return {}
        changing = [c for c in set(text) if self._char_may_change(c)]
        if not changing:
            return {}
        if _EXTENDER.search(text) is not None:
            return None
        table = {c: r for c in changing if (r := self.transform(c)) is not None}
        if not all(len(r) == 1 for r in table.values()):
            return None
        return {ord(c): r for c, r in table.items()}

    def fast_normalize(self, text: str) -> tuple[str, int] | None:
        table = self._char_table(text)
        if table is None:
            return None
        return (text.translate(table) if table else text), 0

    def normalize(self, ns: NormalizedString) -> None:
        text = ns.normalized
        table = self._char_table(text)
        if table is not None:
            if table:
                ns.set_same_length(text.translate(table))
            return
        graphemes = list(text) if _EXTENDER.search(text) is None else _graphemes(text)
        dest: list[Change] = []
        modified = False
        for grapheme in graphemes:
            if len(grapheme.encode()) < 6:
                norm = self.transform(grapheme)
                if norm is not None:
                    modified = True
                    _push(dest, grapheme, norm)
                    continue
            for c in grapheme:
                norm = self.transform(c)
                if norm is not None:
                    modified = True
                    _push(dest, c, norm)
                else:
                    dest.append((c, 0))
        if modified:
            ns.transform(dest, 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "precompiled_charsmap": base64.b64encode(self.precompiled_charsmap).decode(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Precompiled:
        blob = data.get("precompiled_charsmap")
        if blob is None:
            return cls(b"")
        try:
            raw = base64.b64decode(blob, validate=True)
        except (binascii.Error, ValueError, TypeError) as e:
            raise TokenizerFileError(
                f"tokenizer.json: Precompiled normalizer precompiled_charsmap is not valid base64 ({e}); "
                "re-export the tokenizer from its SentencePiece model"
            ) from None
        return cls(raw)


def _push(dest: list[Change], old: str, new: str) -> None:
    """Record ``old`` -> ``new`` the way the reference does.

    New chars replace; when longer, the extra (last) ones count as inserted; when shorter, the last
    change recorded so far (possibly an earlier char's) absorbs the removal.
    """
    diff = len(new) - len(old)
    dest.extend((c, 0) for c in new)
    if diff > 0:
        for k in range(len(dest) - diff, len(dest)):
            dest[k] = (dest[k][0], 1)
    elif diff < 0 and dest:
        dest[-1] = (dest[-1][0], dest[-1][1] + diff)


def _parse(blob: bytes) -> tuple[DoubleArray, bytes]:
    if not blob:
        return DoubleArray(()), b""
    if len(blob) < 4:
        raise TokenizerFileError(
            "Precompiled normalizer: precompiled_charsmap is truncated (shorter than 4 bytes)"
        )
    (trie_size,) = struct.unpack_from("<I", blob, 0)
    n_units = trie_size // 4
    if 4 + n_units * 4 > len(blob):
        raise TokenizerFileError(
            f"Precompiled normalizer: precompiled_charsmap says its trie has {trie_size} bytes but the blob "
            f"has only {len(blob) - 4}; the file is truncated or corrupted"
        )
    units = struct.unpack_from(f"<{n_units}I", blob, 4)
    rest = blob[4 + n_units * 4 :]
    try:
        rest.decode("utf-8")
    except UnicodeDecodeError as e:
        raise TokenizerFileError(
            f"Precompiled normalizer: replacement strings are not valid UTF-8 ({e})"
        ) from None
    return DoubleArray(units), rest
