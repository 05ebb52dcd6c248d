"""Unigram language model tokenization: the Viterbi best segmentation by piece log-probabilities (T5, XLM-R).

>>> u = Unigram([("<unk>", 0.0), ("a", -1.0), ("b", -1.0), ("ab", -1.5)], unk_id=0)
>>> [t.value for t in u.tokenize("abb")]
['ab', 'b']
"""

from __future__ import annotations

import math
from typing import Any

from .._registry import TokenizerFileError
from .base import Model, RawToken, WordCache

K_UNK_PENALTY = 10.0
_PREFIX_LEN = 4


class Unigram(Model):
    """Mirrors ``tokenizers.models.Unigram`` (the reference's optimized Viterbi, unknowns fused).

    >>> Unigram([("<unk>", 0.0), ("a", -1.0)], unk_id=0).tokenize("xya")
    [Token(id=0, value='xy', offsets=(0, 2)), Token(id=1, value='a', offsets=(2, 3))]
    """

    type_name = "Unigram"

    def __init__(
        self,
        vocab: list[tuple[str, float]] | None = None,
        unk_id: int | None = None,
        byte_fallback: bool | None = None,
    ) -> None:
        pieces = [(str(p), float(s)) for p, s in (vocab if vocab is not None else [("<unk>", 0.0)])]
        if vocab is None and unk_id is None:
            unk_id = 0
        if unk_id is not None and not 0 <= unk_id < len(pieces):
            raise TokenizerFileError(
                f"Unigram: unk_id {unk_id} is out of the vocabulary bounds (size {len(pieces)}); fix unk_id"
            )
        self.pieces = pieces
        self.unk_id = unk_id
        self.byte_fallback = bool(byte_fallback)
        self.vocab = {}
        for i, (p, _) in enumerate(pieces):
            self.vocab[p] = i
        self.vocab_r = {i: p for i, (p, _) in enumerate(pieces)}
        self.scores = [s for _, s in pieces]
        self.min_score = min(self.scores, default=math.inf)
        self._max_len: dict[str, int] = {}  # first char -> longest piece starting with it
        self._prefixes: set[str] = set()  # prefixes of pieces, up to _PREFIX_LEN chars: prunes the search
        for p, _ in pieces:
            if p and len(p) > self._max_len.get(p[0], 0):
                self._max_len[p[0]] = len(p)
            for k in range(2, min(len(p), _PREFIX_LEN) + 1):
                self._prefixes.add(p[:k])
        self._cache = WordCache()

    def get_vocab_size(self) -> int:
        return len(self.pieces)

    def _segment(self, text: str) -> list[str]:
        """Viterbi over chars: best[i] = (score, start, id) of the best path ending at char i."""
        n = len(text)
        vocab, scores, max_len, prefixes = self.vocab, self.scores, self._max_len, self._prefixes
        unk_score = self.min_score - K_UNK_PENALTY
        best_score = [0.0] * (n + 1)
        best_start: list[int | None] = [None] * (n + 1)
        best_id = [0] * (n + 1)
        for start in range(n):
            here = best_score[start]
            single = False
            for end in range(start + 1, min(n, start + max_len.get(text[start], 0)) + 1):
                piece = text[start:end]
                if 1 < end - start <= _PREFIX_LEN and piece not in prefixes:
                    break
                tid = vocab.get(piece)
                if tid is None:
                    continue
                cand = scores[tid] + here
                if best_start[end] is None or cand > best_score[end]:
                    best_score[end], best_start[end], best_id[end] = cand, start, tid
                if end == start + 1:
                    single = True
            if not single:
                if self.unk_id is None:
                    raise TokenizerFileError(
                        f"Unigram: {text[start]!r} is not in the vocabulary and the model has no unk_id; "
                        "set unk_id in the tokenizer.json"
                    )
                cand = unk_score + here
                if best_start[start + 1] is None or cand > best_score[start + 1]:
                    best_score[start + 1], best_start[start + 1], best_id[start + 1] = (
                        cand,
                        start,
                        self.unk_id,
                    )
        out: list[str] = []
        unk_run: list[str] = []
        end = n
        while end > 0:
            start = best_start[end]
            assert start is not None  # every position is reachable (unk covers single chars)
            if self.unk_id is not None and best_id[end] == self.unk_id:
                unk_run.append(text[start:end])
            else:
                if unk_run:
                    out.append("".join(reversed(unk_run)))
                    unk_run = []
                out.append(text[start:end])
            end = start
        if unk_run:
            out.append("".join(reversed(unk_run)))
        out.reverse()
        return out

    settings = ("unk_id", "byte_fallback", "min_score")

    def _tokenize(self, sequence: str) -> list[RawToken]:
        cached = self._cache.get(sequence)
        if cached is not None:
            return cached
        out = self._tokenize_uncached(sequence)
        self._cache.put(sequence, out)
        return out

    def _tokenize_uncached(self, sequence: str) -> list[RawToken]:
        out: list[RawToken] = []
        pos = 0
        for piece in self._segment(sequence):
            n = len(piece)
            tid = self.vocab.get(piece)
            if tid is None:
                if self.byte_fallback:
                    byte_ids = [self.vocab.get(f"<0x{b:02X}>") for b in piece.encode()]
                    if None not in byte_ids:
                        out.extend(
                            (i, f"<0x{b:02X}>", (pos, pos + n)) for i, b in zip(byte_ids, piece.encode())
                        )  # type: ignore[arg-type]
                        pos += n
                        continue
                if self.unk_id is None:
                    raise TokenizerFileError("Unigram: found an unknown piece but the model has no unk_id")
                tid = self.unk_id
            out.append((tid, piece, (pos, pos + n)))
            pos += n
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "unk_id": self.unk_id,
            "vocab": [[p, s] for p, s in self.pieces],
            "byte_fallback": self.byte_fallback,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Unigram:
        vocab = data.get("vocab")
        if not isinstance(vocab, list) or not all(isinstance(v, list | tuple) and len(v) == 2 for v in vocab):
            raise TokenizerFileError("tokenizer.json: Unigram vocab must be a list of [piece, score] pairs")
        return cls([(p, s) for p, s in vocab], data.get("unk_id"), data.get("byte_fallback", False))

    def save(self, folder: str, prefix: str | None = None) -> list[str]:
        import json
        import os

        path = os.path.join(folder, f"{prefix}-unigram.json" if prefix else "unigram.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, ensure_ascii=False)
        return [path]
