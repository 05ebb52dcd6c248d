"""WordPiece: greedy longest-match-first subwords, ``##`` marking continuations (BERT).

>>> wp = WordPiece({"[UNK]": 0, "un": 1, "##aff": 2, "##able": 3})
>>> [t.value for t in wp.tokenize("unaffable")]
['un', '##aff', '##able']
"""

from __future__ import annotations

from typing import Any

from .._registry import TokenizerFileError
from .base import Model, RawToken, WordCache, check_vocab


class WordPiece(Model):
    """Mirrors ``tokenizers.models.WordPiece``.

    >>> WordPiece({"[UNK]": 0, "a": 1}).tokenize("b")
    [Token(id=0, value='[UNK]', offsets=(0, 1))]
    """

    type_name = "WordPiece"

    def __init__(
        self,
        vocab: dict[str, int] | None = None,
        unk_token: str = "[UNK]",
        max_input_chars_per_word: int = 100,
        continuing_subword_prefix: str = "##",
    ) -> None:
        self.vocab = dict(check_vocab(vocab or {}, "WordPiece"))
        self.vocab_r = {i: t for t, i in self.vocab.items()}
        self.unk_token = unk_token
        self.max_input_chars_per_word = max_input_chars_per_word
        self.continuing_subword_prefix = continuing_subword_prefix
        self._max_len = max((len(t) for t in self.vocab), default=0)
        self._cache = WordCache()

    @classmethod
    def from_file(cls, vocab: str, **kwargs: Any) -> WordPiece:
        """Load a BERT ``vocab.txt`` (one token per line)."""
        return cls(cls.read_file(vocab), **kwargs)

    @staticmethod
    def read_file(vocab: str) -> dict[str, int]:
        with open(vocab, encoding="utf-8") as f:
            return {line.rstrip("\n").rstrip("\r"): i for i, line in enumerate(f)}

    def _unk(self, n: int) -> list[RawToken]:
        unk_id = self.vocab.get(self.unk_token)
        if unk_id is None:
            raise TokenizerFileError(
                f"WordPiece: unk_token {self.unk_token!r} is not in the vocabulary; add it to the vocab "
                "or set unk_token to a token the vocab has"
            )
        return [(unk_id, self.unk_token, (0, n))]

    settings = ("unk_token", "max_input_chars_per_word", "continuing_subword_prefix")

    def _tokenize(self, sequence: str) -> list[RawToken]:
        cached = self._cache.get(sequence)
        if cached is not None:
            return cached
        out = self._tokenize_uncached(sequence)
        self._cache.put(sequence, out)
        return out

    def _tokenize_uncached(self, sequence: str) -> list[RawToken]:
        n = len(sequence)
        if n > self.max_input_chars_per_word:
            return self._unk(n)
        vocab, prefix, max_len = self.vocab, self.continuing_subword_prefix, self._max_len
        out: list[RawToken] = []
        start = 0
        while start < n:
            end = min(n, start + max_len)
            while start < end:
                piece = sequence[start:end] if start == 0 else prefix + sequence[start:end]
                tid = vocab.get(piece)
                if tid is not None:
                    out.append((tid, piece, (start, end)))
                    break
                end -= 1
            else:
                out = self._unk(n)
                break
            start = end
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "unk_token": self.unk_token,
            "continuing_subword_prefix": self.continuing_subword_prefix,
            "max_input_chars_per_word": self.max_input_chars_per_word,
            "vocab": self.ordered_vocab(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WordPiece:
        return cls(
            data.get("vocab", {}),
            data.get("unk_token", "[UNK]"),
            data.get("max_input_chars_per_word", 100),
            data.get("continuing_subword_prefix", "##"),
        )

    def save(self, folder: str, prefix: str | None = None) -> list[str]:
        import os

        path = os.path.join(folder, f"{prefix}-vocab.txt" if prefix else "vocab.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(t + "\n" for t in self.ordered_vocab())
        return [path]
