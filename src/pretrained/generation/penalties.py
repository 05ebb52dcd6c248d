"""Repetition penalties, n-gram blocking and bad words: processors that look at the tokens so far.

>>> import torch
>>> RepetitionPenaltyLogitsProcessor(2.0)(torch.tensor([[0]]), torch.tensor([[4.0, 1.0]]))
tensor([[2., 1.]])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .logits_process import NEG_INF, LogitsProcessor


def _check_penalty(penalty: float, name: str) -> float:
    """A strictly positive float, as the reference requires (it rejects ints too: pass 2.0, not 2)."""
    if not isinstance(penalty, float) or not penalty > 0:
        hint = (
            f" (write {float(penalty)!r})"
            if isinstance(penalty, int) and not isinstance(penalty, bool)
            else ""
        )
        raise ValueError(f"{name}={penalty!r}: it must be a strictly positive float{hint}")
    return penalty


class RepetitionPenaltyLogitsProcessor(LogitsProcessor):
    """Scores of tokens already in the sequence: divided by ``penalty`` when positive, multiplied when negative."""

    def __init__(self, penalty: float):
        self.penalty = _check_penalty(penalty, "repetition_penalty")

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        score = torch.gather(scores, 1, input_ids)  # (B, T)
        score = torch.where(score < 0, score * self.penalty, score / self.penalty)
        return scores.scatter(1, input_ids, score)


class EncoderRepetitionPenaltyLogitsProcessor(LogitsProcessor):
    """Scores of tokens in the encoder input (the prompt) are boosted by ``penalty``."""

    def __init__(self, penalty: float, encoder_input_ids: torch.Tensor):
        self.penalty = 1 / _check_penalty(penalty, "encoder_repetition_penalty")
        self.encoder_input_ids = encoder_input_ids

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        score = torch.gather(scores, 1, self.encoder_input_ids)
        score = torch.where(score < 0, score * self.penalty, score / self.penalty)
        return scores.scatter(1, self.encoder_input_ids, score)


def _banned_after(ngram_size: int, history: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
    """(B, W) ids that complete an n-gram of ``history`` (B, L) whose first n-1 ids equal ``context`` (B, n-1);
    -1 where the window does not match."""
    windows = history.unfold(1, ngram_size, 1)  # (B, W, n)
    match = (windows[..., :-1] == context[:, None, :]).all(-1)  # (B, W)
    return torch.where(match, windows[..., -1], -1)


def _mask_ids(scores: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """-inf at ids (B, K) >= 0 of each row; -1 entries are ignored."""
    vocab = scores.shape[-1]
    hit = torch.zeros(scores.shape[0], vocab + 1, dtype=torch.bool, device=scores.device)
    hit.scatter_(1, torch.where(ids < 0, vocab, ids), True)
    return scores.masked_fill(hit[:, :vocab], NEG_INF)


class NoRepeatNGramLogitsProcessor(LogitsProcessor):
    """No n-gram of size ``ngram_size`` occurs twice in a sequence."""

    def __init__(self, ngram_size: int):
        if not isinstance(ngram_size, int) or ngram_size <= 0:
            raise ValueError(f"no_repeat_ngram_size={ngram_size!r}: it must be a positive integer")
        self.ngram_size = ngram_size

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        n, cur_len = self.ngram_size, input_ids.shape[-1]
        if cur_len + 1 < n or cur_len < n:
            return scores.clone()
        banned = _banned_after(n, input_ids, input_ids[:, cur_len - n + 1 :])
        return _mask_ids(scores, banned)


class EncoderNoRepeatNGramLogitsProcessor(LogitsProcessor):
    """No n-gram of size ``encoder_ngram_size`` of the encoder input is repeated in the output."""

    def __init__(self, encoder_ngram_size: int, encoder_input_ids: torch.Tensor):
        if not isinstance(encoder_ngram_size, int) or encoder_ngram_size <= 0:
            raise ValueError(
                f"encoder_no_repeat_ngram_size={encoder_ngram_size!r}: it must be a positive integer"
            )
        self.ngram_size = encoder_ngram_size
        self.encoder_input_ids = (
            encoder_input_ids if encoder_input_ids.dim() == 2 else encoder_input_ids[None]
        )

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        n, cur_len = self.ngram_size, input_ids.shape[-1]
        enc = self.encoder_input_ids.to(input_ids.device)
        if enc.shape[-1] < n or cur_len + 1 < n:
            return scores.clone()
        enc = enc.repeat_interleave(input_ids.shape[0] // enc.shape[0], dim=0)  # (B*beams, S)
        context = input_ids[:, cur_len - n + 1 :] if n > 1 else input_ids[:, :0]
        return _mask_ids(scores, _banned_after(n, enc, context))


class SequenceBiasLogitsProcessor(LogitsProcessor):
    """Adds a bias to the token that would complete a sequence: ``[[ids, bias], ...]`` (or the older
    ``{tuple(ids): bias}``); a single-token sequence is biased at every step, a longer one when the sequence so
    far ends with its first ids.

    >>> SequenceBiasLogitsProcessor([[[1], -2.0]])(torch.tensor([[0]]), torch.tensor([[0.5, 0.5]]))
    tensor([[ 0.5000, -1.5000]])
    """

    def __init__(self, sequence_bias: list | dict):
        _check_sequence_bias(sequence_bias)
        if isinstance(sequence_bias, list):
            sequence_bias = {tuple(pair[0]): pair[1] for pair in sequence_bias}
        self.sequence_bias: dict[tuple[int, ...], float] = dict(sequence_bias)
        self._single_bias: torch.Tensor | None = None

    def _single(self, scores: torch.Tensor) -> torch.Tensor:
        """(V,) the single-token biases (checking the ids against the vocabulary once)."""
        if self._single_bias is None or self._single_bias.device != scores.device:
            vocab = scores.shape[-1]
            too_big = [t for ids in self.sequence_bias for t in ids if t >= vocab]
            if too_big:
                raise ValueError(
                    f"sequence_bias has ids {too_big} outside the model's vocabulary (size {vocab}); remove them"
                )
            bias = torch.zeros(vocab, dtype=torch.float, device=scores.device)
            singles = [(ids[0], b) for ids, b in self.sequence_bias.items() if len(ids) == 1]
            if singles:
                bias[[i for i, _ in singles]] = torch.tensor([b for _, b in singles], device=scores.device)
            self._single_bias = bias
        return self._single_bias

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        bias = torch.zeros_like(scores)
        bias += self._single(scores)
        for ids, value in self.sequence_bias.items():
            if len(ids) == 1 or len(ids) > input_ids.shape[1]:
                continue
            prefix = torch.tensor(ids[:-1], dtype=input_ids.dtype, device=input_ids.device)
            matching = torch.eq(input_ids[:, -len(prefix) :], prefix).prod(dim=1).bool()  # (B,)
            bias[:, ids[-1]] += torch.where(
                matching,
                torch.tensor(value, device=input_ids.device),
                torch.tensor(0.0, device=input_ids.device),
            )
        return scores + bias


def _check_sequence_bias(sequence_bias: Any) -> None:
    """The reference's rules: a non-empty list of ``[ids (positive ints), bias (float)]`` pairs, or a dict of
    ``tuple(ids) (non-negative ints) -> float``."""
    shape = "a non-empty list of [token ids, float bias] pairs such as [[[12, 7], -5.0]]"
    if not isinstance(sequence_bias, dict | list) or not sequence_bias:
        raise ValueError(f"sequence_bias={sequence_bias!r}: it must be {shape}")
    if isinstance(sequence_bias, dict):
        for ids, bias in sequence_bias.items():
            ints = isinstance(ids, tuple) and ids and all(_is_id(t) and t >= 0 for t in ids)
            if not ints or not isinstance(bias, float):
                raise ValueError(
                    f"sequence_bias={sequence_bias!r}: a dict needs non-empty tuples of token ids as keys and "
                    f"float biases as values; better, pass {shape}"
                )
        return
    for pair in sequence_bias:
        ok = (
            isinstance(pair, list | tuple)
            and len(pair) >= 2  # the reference reads the first two
            and isinstance(pair[0], list)
            and all(_is_id(t) and t > 0 for t in pair[0])
            and isinstance(pair[1], float)
        )
        if not ok:
            raise ValueError(
                f"sequence_bias={sequence_bias!r}: each entry must be [token ids, float]; {shape}"
            )


def _is_id(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


class NoBadWordsLogitsProcessor(LogitsProcessor):
    """A token that would complete one of ``bad_words_ids`` gets -inf (single-token entries: always).

    Entries that are exactly one EOS id are dropped, as the reference does."""

    def __init__(
        self, bad_words_ids: list[list[int]], eos_token_id: int | list[int] | torch.Tensor | None = None
    ):
        if not isinstance(bad_words_ids, list) or not bad_words_ids:
            raise ValueError(f"bad_words_ids={bad_words_ids!r}: it must be a non-empty list of lists of ids")
        for seq in bad_words_ids:
            if not isinstance(seq, list) or not seq or any(not isinstance(t, int) or t < 0 for t in seq):
                raise ValueError(
                    f"bad_words_ids={bad_words_ids!r}: each entry must be a non-empty list of ids"
                )
        if eos_token_id is not None:
            eos = torch.as_tensor(eos_token_id).reshape(-1).tolist()
            bad_words_ids = [s for s in bad_words_ids if not (len(s) == 1 and s[0] in eos)]
        self.sequences = list(dict.fromkeys(tuple(s) for s in bad_words_ids))
        self.single_ids = [s[0] for s in self.sequences if len(s) == 1]
        self._single_bias: torch.Tensor | None = None

    def _bias(self, scores: torch.Tensor) -> torch.Tensor:
        vocab = scores.shape[-1]
        too_big = sorted({t for s in self.sequences for t in s if t >= vocab})
        if too_big:
            raise ValueError(f"bad_words_ids has ids {too_big} outside the model's vocabulary (size {vocab})")
        if self._single_bias is None or self._single_bias.device != scores.device:
            bias = torch.zeros(vocab, dtype=torch.float, device=scores.device)
            bias[self.single_ids] = NEG_INF
            self._single_bias = bias
        return self._single_bias

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        bias = torch.zeros_like(scores) + self._bias(scores)  # (B, V)
        for seq in self.sequences:
            if len(seq) == 1 or len(seq) > input_ids.shape[1]:
                continue
            prefix = torch.tensor(seq[:-1], dtype=input_ids.dtype, device=input_ids.device)
            matching = torch.eq(input_ids[:, -len(prefix) :], prefix).prod(dim=1).bool()  # (B,)
            bias[:, seq[-1]] += torch.where(matching, NEG_INF, 0.0)
        return scores + bias
