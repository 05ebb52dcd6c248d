"""Stopping criteria: each maps (input_ids (B, T), scores) -> (B,) bool "this sequence is done".

>>> import torch
>>> crit = StoppingCriteriaList([MaxLengthCriteria(3), EosTokenCriteria(eos_token_id=[2])])
>>> crit(torch.tensor([[5, 2], [5, 6]]), None)
tensor([ True, False])
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import torch

log = logging.getLogger(__name__)


class StoppingCriteria:
    """Base class: ``__call__(input_ids (B, T), scores) -> (B,) bool``."""

    def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(input_ids, scores)")


class StoppingCriteriaList(list):
    """True for a row when any criterion says so."""

    def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
        done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        for criterion in self:
            done = done | criterion(input_ids, scores, **kwargs)
        return done

    @property
    def max_length(self) -> int | None:
        return next((c.max_length for c in self if isinstance(c, MaxLengthCriteria)), None)


class MaxLengthCriteria(StoppingCriteria):
    """Done once the sequence (prompt included) has ``max_length`` tokens."""

    def __init__(self, max_length: int, max_position_embeddings: int | None = None):
        self.max_length = max_length
        self.max_position_embeddings = max_position_embeddings

    def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
        done = input_ids.shape[1] >= self.max_length
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)


class MaxTimeCriteria(StoppingCriteria):
    """Done once ``max_time`` seconds have passed since ``initial_timestamp`` (default: construction)."""

    def __init__(self, max_time: float, initial_timestamp: float | None = None):
        self.max_time = max_time
        self.initial_timestamp = time.time() if initial_timestamp is None else initial_timestamp

    def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
        done = time.time() - self.initial_timestamp > self.max_time
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)


class EosTokenCriteria(StoppingCriteria):
    """Done when the last token is (one of) ``eos_token_id``."""

    def __init__(self, eos_token_id: int | list[int] | torch.Tensor):
        self.eos_token_id = torch.as_tensor(eos_token_id).reshape(-1)

    def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
        self.eos_token_id = self.eos_token_id.to(input_ids.device)
        return torch.isin(input_ids[:, -1], self.eos_token_id)


class StopStringCriteria(StoppingCriteria):
    """Done when the text ends with a stop string, the last token holding at least its final character.

    Tokens are read as the text they add after a fixed prefix (so a leading-space marker such as ``Ġ`` or
    ``▁`` counts as its space), the reference's rule; token ids unknown to the tokenizer never match.

    >>> criteria = StopStringCriteria(tokenizer, ["User:"])  # doctest: +SKIP
    """

    _PREFIX = "abcdef"

    def __init__(self, tokenizer: Any, stop_strings: str | Sequence[str]):
        if isinstance(stop_strings, str):
            stop_strings = [stop_strings]
        if not stop_strings or any(not isinstance(s, str) or not s for s in stop_strings):
            raise ValueError(
                f"stop_strings={stop_strings!r}: give a non-empty string or list of non-empty strings"
            )
        self.stop_strings = tuple(stop_strings)
        self.maximum_token_len = max(len(s) for s in self.stop_strings)
        self.tokenizer = tokenizer
        self._id_to_token = {i: t for t, i in tokenizer.get_vocab().items()}
        prefix_ids = _encode(tokenizer, self._PREFIX)
        self._prefix_tokens = list(tokenizer.convert_ids_to_tokens(prefix_ids))
        self._strings: dict[int, str | None] = {}
        if not any(self._can_end_a_stop_string(i) for i in self._id_to_token):
            raise ValueError(
                f"stop_strings={list(self.stop_strings)!r}: no token of the tokenizer's vocabulary can end any of "
                "them (characters the vocabulary does not have?); use strings made of text the model can produce"
            )

    def _can_end_a_stop_string(self, token_id: int) -> bool:
        """Whether a non-empty start of the token's text ends a stop string, or contains one (the reference's
        check that stop strings are reachable at all)."""
        text = self._token_text(token_id)
        if not text:
            return False
        for stop in self.stop_strings:
            if stop in text or any(stop.endswith(text[:k]) for k in range(1, min(len(text), len(stop)) + 1)):
                return True
        return False

    def _token_text(self, token_id: int) -> str | None:
        """The text this token adds at the end of a sequence (None for ids outside the vocabulary)."""
        if token_id not in self._strings:
            token = self._id_to_token.get(token_id)
            if token is None:
                self._strings[token_id] = None
            else:
                text = self.tokenizer.convert_tokens_to_string(self._prefix_tokens + [token])
                self._strings[token_id] = text[text.index(self._PREFIX) + len(self._PREFIX) :]
        return self._strings[token_id]

    def _row_done(self, ids: list[int]) -> bool:
        pieces: list[str] = []
        for token_id in reversed(ids):
            text = self._token_text(token_id)
            if text is None:
                break
            pieces.append(text)
        if not pieces or not pieces[0]:
            return False
        text = "".join(reversed(pieces))
        last_start = len(text) - len(pieces[0])  # the match must end inside the last token
        return any(text.find(s, max(0, last_start - len(s) + 1)) >= 0 for s in self.stop_strings)

    def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
        tails = input_ids[:, -self.maximum_token_len :].tolist()
        return torch.tensor([self._row_done(t) for t in tails], dtype=torch.bool, device=input_ids.device)


def _encode(tokenizer: Any, text: str) -> list[int]:
    if hasattr(tokenizer, "encode"):
        return list(tokenizer.encode(text, add_special_tokens=False))
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])
