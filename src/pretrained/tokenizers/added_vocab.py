"""Added tokens: matched in the text before the model runs, like the reference's AddedVocabulary.

Non-normalized tokens are found in the raw text, normalized ones in the normalized text of what is left.

>>> t = AddedToken("[MASK]", special=True)
>>> t.content, t.normalized
('[MASK]', False)
"""

from __future__ import annotations

from typing import Any

import regex

from ._registry import LazyRegex
from ._unicode_tables import RUST_WORD
from .normalized import WHITESPACE, NormalizedString
from .pretokenized import PreTokenizedString

_WS = "".join(sorted(WHITESPACE))
# the reference's single_word test uses the regex crate's \w
_ENDS_WITH_WORD = LazyRegex(f"[{RUST_WORD}]\\Z")
_STARTS_WITH_WORD = LazyRegex(f"[{RUST_WORD}]")


class AddedToken:
    """A token added on top of the model vocabulary (mirrors ``tokenizers.AddedToken``).

    ``normalized`` defaults to ``not special``.

    >>> AddedToken("<eos>", rstrip=True).rstrip
    True
    """

    __slots__ = ("content", "single_word", "lstrip", "rstrip", "_normalized", "special")

    def __init__(
        self,
        content: str = "",
        single_word: bool = False,
        lstrip: bool = False,
        rstrip: bool = False,
        normalized: bool | None = None,
        special: bool = False,
    ) -> None:
        self.content = content
        self.single_word = single_word
        self.lstrip = lstrip
        self.rstrip = rstrip
        self._normalized = normalized
        self.special = special

    @property
    def normalized(self) -> bool:
        return (not self.special) if self._normalized is None else self._normalized

    @normalized.setter
    def normalized(self, value: bool) -> None:
        self._normalized = value

    def _key(self) -> tuple:
        return (self.content, self.single_word, self.lstrip, self.rstrip, self.normalized, self.special)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.content == other
        return isinstance(other, AddedToken) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self.content)

    def __str__(self) -> str:
        return self.content

    def __repr__(self) -> str:
        return (
            f'AddedToken("{self.content}", rstrip={self.rstrip}, lstrip={self.lstrip}, '
            f"single_word={self.single_word}, normalized={self.normalized}, special={self.special})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "single_word": self.single_word,
            "lstrip": self.lstrip,
            "rstrip": self.rstrip,
            "normalized": self.normalized,
            "special": self.special,
        }

    def __getstate__(self) -> dict[str, Any]:
        return self.to_dict()

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AddedToken:
        return cls(
            data["content"],
            data.get("single_word", False),
            data.get("lstrip", False),
            data.get("rstrip", False),
            data.get("normalized"),
            data.get("special", False),
        )


class _Matcher:
    """Leftmost-longest search for a set of strings (the reference uses Aho-Corasick)."""

    def __init__(self, patterns: list[tuple[str, int]]) -> None:
        self.ids: dict[str, int] = {}
        for text, tid in patterns:
            if text and text not in self.ids:
                self.ids[text] = tid
        words = sorted(self.ids, key=len, reverse=True)
        self.re = regex.compile("|".join(regex.escape(w) for w in words)) if words else None
        firsts = {w[0] for w in words}
        self._firsts = sorted(firsts) if len(firsts) <= 4 else None  # a cheap test before the regex

    def occurs_in(self, text: str) -> bool:
        """Whether any of the strings occurs in ``text``."""
        if self.re is None:
            return False
        if self._firsts is not None and not any(c in text for c in self._firsts):
            return False
        return self.re.search(text) is not None


class AddedVocabulary:
    """Added and special tokens: ids, lookup, and splitting text on them."""

    def __init__(self) -> None:
        self.map: dict[str, int] = {}
        self.map_r: dict[int, AddedToken] = {}
        self.added: list[AddedToken] = []
        self.special: list[AddedToken] = []
        self.special_set: set[str] = set()
        self.encode_special_tokens = False
        self._key_counts: dict[tuple, int] = {}  # how many map_r values have each AddedToken key
        self._raw = _Matcher([])
        self._norm = _Matcher([])

    def __len__(self) -> int:
        return len(self.map)

    def token_to_id(self, token: str, model: Any) -> int | None:
        tid = self.map.get(token)
        return tid if tid is not None else model.token_to_id(token)

    def id_to_token(self, tid: int, model: Any) -> str | None:
        tok = self.map_r.get(tid)
        return tok.content if tok is not None else model.id_to_token(tid)

    def is_special(self, token: str) -> bool:
        return token in self.special_set

    def add_tokens(self, tokens: list[AddedToken], model: Any, normalizer: Any) -> int:
        for tok in tokens:
            if tok.special and tok.content and tok.content not in self.special_set:
                self.special.append(tok)
                self.special_set.add(tok.content)
        ignored = 0
        for tok in tokens:
            if not tok.content or self._key_counts.get(tok._key()):
                ignored += 1
                continue
            new_id = self.token_to_id(tok.content, model)
            if new_id is None:
                size = model.get_vocab_size()
                if self.map:
                    top = max(self.map.values())
                    new_id = top + 1 if top >= size or size == 0 else size
                else:
                    new_id = size
            self.map[tok.content] = new_id
            old = self.map_r.get(new_id)
            if old is not None:
                self._key_counts[old._key()] -= 1
            self.map_r[new_id] = tok
            self._key_counts[tok._key()] = self._key_counts.get(tok._key(), 0) + 1
            if tok.content not in self.special_set:
                self.added.append(tok)
        self.refresh(model, normalizer)
        return len(tokens) - ignored

    def refresh(self, model: Any, normalizer: Any) -> None:
        raw: list[tuple[str, int]] = []
        norm: list[tuple[str, int]] = []
        for tok in self.special + self.added:
            tid = self.token_to_id(tok.content, model)
            if tok.normalized:
                ns = NormalizedString(tok.content)
                if normalizer is not None:
                    normalizer.normalize(ns)
                norm.append((ns.normalized, tid))  # type: ignore[arg-type]
            else:
                raw.append((tok.content, tid))  # type: ignore[arg-type]
        self._raw = _Matcher(raw)
        self._norm = _Matcher(norm)

    def _find(self, text: str, matcher: _Matcher) -> list[tuple[int | None, int, int]]:
        if not text:
            return [(None, 0, 0)]
        if matcher.re is None:
            return [(None, 0, len(text))]
        out: list[tuple[int | None, int, int]] = []
        pos = 0
        for m in matcher.re.finditer(text):
            start, stop = m.span()
            tid = matcher.ids[m.group()]
            tok = self.map_r[tid]
            if self.encode_special_tokens and tok.content in self.special_set:
                continue
            if tok.single_word:
                start_ok = start == 0 or not _ENDS_WITH_WORD.search(text, 0, start)
                stop_ok = stop == len(text) or not _STARTS_WITH_WORD.match(text, stop)
                if not (start_ok and stop_ok):
                    continue
            if tok.lstrip:
                start = max(len(text[:start].rstrip(_WS)), pos)
            if tok.rstrip:
                stop = len(text) - len(text[stop:].lstrip(_WS))
            if pos < start:
                out.append((None, pos, start))
            out.append((tid, start, stop))
            pos = stop
        if pos != len(text):
            out.append((None, pos, len(text)))
        return out

    def _split(self, ns: NormalizedString, matcher: _Matcher) -> list[Any]:
        pieces = self._find(ns.normalized, matcher)
        if len(pieces) == 1 and pieces[0][0] is None:
            return [ns]
        out: list[Any] = []
        for tid, s, e in pieces:
            piece = ns.slice(s, e)
            if tid is None:
                out.append(piece)
            else:
                out.append((piece, [(tid, piece.normalized, (0, len(piece.normalized)))]))
        return out

    def extract_and_normalize(self, normalizer: Any, sequence: str) -> PreTokenizedString:
        pts = PreTokenizedString(sequence)
        if self._raw.re is not None:
            pts.split(lambda _, ns: self._split(ns, self._raw))

        def norm_split(_: int, ns: NormalizedString) -> list[Any]:
            if normalizer is not None:
                normalizer.normalize(ns)
            return self._split(ns, self._norm) if self._norm.re is not None else [ns]

        pts.split(norm_split)
        return pts
