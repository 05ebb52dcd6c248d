"""WordLevel: each word is one token, or the unknown token.

>>> WordLevel({"a": 0, "<unk>": 1}, unk_token="<unk>").tokenize("zzz")
[Token(id=1, value='<unk>', offsets=(0, 3))]
"""

from __future__ import annotations

from typing import Any

from .._registry import TokenizerFileError
from .base import Model, RawToken, check_vocab


class WordLevel(Model):
    """Mirrors ``tokenizers.models.WordLevel``."""

    type_name = "WordLevel"

    def __init__(self, vocab: dict[str, int] | None = None, unk_token: str = "<unk>") -> None:
        self.vocab = dict(check_vocab(vocab or {}, "WordLevel"))
        self.vocab_r = {i: t for t, i in self.vocab.items()}
        self.unk_token = unk_token

    @staticmethod
    def read_file(vocab: str) -> dict[str, int]:
        """Read a ``vocab.json`` ({token: id})."""
        import json

        with open(vocab, encoding="utf-8") as f:
            return check_vocab(json.load(f), "WordLevel")

    @classmethod
    def from_file(cls, vocab: str, unk_token: str = "<unk>") -> WordLevel:
        return cls(cls.read_file(vocab), unk_token)

    settings = ("unk_token",)

    def _tokenize(self, sequence: str) -> list[RawToken]:
        tid = self.vocab.get(sequence)
        if tid is not None:
            return [(tid, sequence, (0, len(sequence)))]
        unk_id = self.vocab.get(self.unk_token)
        if unk_id is None:
            raise TokenizerFileError(
                f"WordLevel: {sequence!r} is not in the vocabulary and unk_token {self.unk_token!r} is not "
                "either; add the unk token to the vocab"
            )
        return [(unk_id, self.unk_token, (0, len(sequence)))]

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name, "vocab": self.ordered_vocab(), "unk_token": self.unk_token}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WordLevel:
        return cls(data.get("vocab", {}), data.get("unk_token", "<unk>"))
