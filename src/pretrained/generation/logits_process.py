"""Logits processors: each maps (input_ids (B, T), scores (B, V)) -> new scores (B, V), as the reference's do.

``build_logits_processor`` assembles them from a ``GenerationConfig`` in the reference's order.

>>> import torch
>>> procs = LogitsProcessorList([MinLengthLogitsProcessor(5, eos_token_id=1), SuppressTokensLogitsProcessor([0])])
>>> procs(torch.zeros(1, 1, dtype=torch.long), torch.tensor([[1.0, 3.0, 2.0]]))
tensor([[-inf, -inf, 2.]])
"""

from __future__ import annotations

import functools
import inspect
import math
import weakref
from collections.abc import Callable, Iterable
from typing import Any

import torch

NEG_INF = -math.inf


class LogitsProcessor:
    """Base class: ``__call__(input_ids (B, T), scores (B, V)) -> scores (B, V)``."""

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(input_ids, scores)")


class LogitsProcessorList(list):
    """Applies its processors in order (extra keyword arguments reach processors that declare them)."""

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        for processor in self:
            params = _call_params(type(processor))
            if len(params) > 2:
                missing = [p for p in params[2:] if p not in kwargs]
                if missing:
                    raise ValueError(f"{type(processor).__name__} needs the arguments {missing}")
                scores = processor(input_ids, scores, **kwargs)
            else:
                scores = processor(input_ids, scores)
        return scores


def _token_tensor(ids: int | Iterable[int] | torch.Tensor, device: Any = None) -> torch.Tensor:
    if isinstance(ids, torch.Tensor):
        return ids.to(device) if device is not None else ids
    return torch.tensor([ids] if isinstance(ids, int) else list(ids), device=device)


@functools.lru_cache(maxsize=256)
def _call_params(cls: type) -> tuple[str, ...]:
    """The parameter names of a processor class's ``__call__`` (read once per class, not once per step)."""
    return tuple(inspect.signature(cls.__call__).parameters)[1:]  # without self


# id(token-id tensor) -> (weak reference to it, {(vocab size, device): mask}): processors ask for the same mask at
# every step, and building it (an isin over the whole vocabulary) costs ~0.25 ms for a 50k vocabulary. (Tensors
# compare elementwise, so they cannot key a WeakKeyDictionary; an entry leaves with its tensor.)
_MASKS: dict[int, tuple[weakref.ref, dict]] = {}


def _vocab_mask(scores: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """(V,) bool: which vocabulary entries are in ``ids`` (a processor's own id tensor, never changed in place)."""
    key = (scores.shape[-1], scores.device)
    entry = _MASKS.get(id(ids))
    if entry is None or entry[0]() is not ids:
        ident = id(ids)
        entry = _MASKS[ident] = (weakref.ref(ids, lambda _, ident=ident: _MASKS.pop(ident, None)), {})
    mask = entry[1].get(key)
    if mask is None:
        mask = entry[1][key] = torch.isin(torch.arange(key[0], device=key[1]), ids.to(key[1]))
    return mask


# -- length and special-token constraints --------------------------------------------------------------
class MinLengthLogitsProcessor(LogitsProcessor):
    """EOS gets -inf while the whole sequence (prompt included) is shorter than ``min_length``."""

    def __init__(self, min_length: int, eos_token_id: int | list[int] | torch.Tensor, device: Any = "cpu"):
        if not isinstance(min_length, int) or min_length < 0:
            raise ValueError(f"min_length={min_length!r}: it must be a non-negative integer")
        self.min_length = min_length
        self.eos_token_id = _token_tensor(eos_token_id, device)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        if input_ids.shape[-1] < self.min_length:
            return scores.masked_fill(_vocab_mask(scores, self.eos_token_id), NEG_INF)
        return scores.clone()


class MinNewTokensLengthLogitsProcessor(LogitsProcessor):
    """EOS gets -inf until ``min_new_tokens`` tokens follow the prompt."""

    def __init__(
        self,
        prompt_length_to_skip: int,
        min_new_tokens: int,
        eos_token_id: int | list[int] | torch.Tensor,
        device: Any = "cpu",
    ):
        for name, value in (
            ("prompt_length_to_skip", prompt_length_to_skip),
            ("min_new_tokens", min_new_tokens),
        ):
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name}={value!r}: it must be a non-negative integer")
        self.prompt_length_to_skip = prompt_length_to_skip
        self.min_new_tokens = min_new_tokens
        self.eos_token_id = _token_tensor(eos_token_id, device)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        if input_ids.shape[-1] - self.prompt_length_to_skip < self.min_new_tokens:
            return scores.masked_fill(_vocab_mask(scores, self.eos_token_id), NEG_INF)
        return scores.clone()


class ForcedBOSTokenLogitsProcessor(LogitsProcessor):
    """The first generated token (when the sequence has length 1) is forced to ``bos_token_id``."""

    def __init__(self, bos_token_id: int):
        self.bos_token_id = bos_token_id

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        if input_ids.shape[-1] != 1:
            return scores
        out = torch.full_like(scores, NEG_INF)
        out[:, self.bos_token_id] = 0
        return out


class ForcedEOSTokenLogitsProcessor(LogitsProcessor):
    """The last token before ``max_length`` is forced to (one of) ``eos_token_id``."""

    def __init__(self, max_length: int, eos_token_id: int | list[int] | torch.Tensor, device: Any = "cpu"):
        self.max_length = max_length
        self.eos_token_id = _token_tensor(eos_token_id, device)
        if torch.is_floating_point(self.eos_token_id) or (self.eos_token_id < 0).any():
            raise ValueError(f"forced_eos_token_id={eos_token_id!r}: it must be non-negative integer ids")

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        if input_ids.shape[-1] != self.max_length - 1:
            return scores
        out = torch.full_like(scores, NEG_INF)
        out[:, self.eos_token_id.to(scores.device)] = 0
        return out


class SuppressTokensLogitsProcessor(LogitsProcessor):
    """``suppress_tokens`` always get -inf."""

    def __init__(self, suppress_tokens: Iterable[int], device: Any = "cpu"):
        self.suppress_tokens = torch.tensor(list(suppress_tokens), device=device)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        return scores.masked_fill(_vocab_mask(scores, self.suppress_tokens), NEG_INF)


class SuppressTokensAtBeginLogitsProcessor(LogitsProcessor):
    """``begin_suppress_tokens`` get -inf at the first generated position (sequence length ``begin_index``)."""

    def __init__(self, begin_suppress_tokens: Iterable[int], begin_index: int, device: Any = "cpu"):
        self.begin_suppress_tokens = torch.tensor(list(begin_suppress_tokens), device=device)
        self.begin_index = begin_index

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        if input_ids.shape[-1] != self.begin_index:
            return scores
        return scores.masked_fill(_vocab_mask(scores, self.begin_suppress_tokens), NEG_INF)


class ExponentialDecayLengthPenalty(LogitsProcessor):
    """After ``start`` new tokens, EOS scores grow by ``|score| * (factor ** n - 1)``."""

    def __init__(
        self,
        exponential_decay_length_penalty: tuple[int, float],
        eos_token_id: int | list[int] | torch.Tensor,
        input_ids_seq_length: int,
    ):
        self.regulation_start = exponential_decay_length_penalty[0] + input_ids_seq_length
        self.regulation_factor = exponential_decay_length_penalty[1]
        self.eos_token_id = _token_tensor(eos_token_id)
        if torch.is_floating_point(self.eos_token_id) or (self.eos_token_id < 0).any():
            raise ValueError(f"eos_token_id={eos_token_id!r}: it must be non-negative integer ids")

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        cur_len = input_ids.shape[-1]
        if cur_len <= self.regulation_start:
            return scores
        eos = self.eos_token_id.to(scores.device)
        penalties = torch.zeros_like(scores)
        factor = pow(self.regulation_factor, cur_len - self.regulation_start) - 1
        penalties[:, eos] = torch.abs(scores[:, eos]) * factor
        return scores + penalties


class InfNanRemoveLogitsProcessor(LogitsProcessor):
    """NaN -> 0, +-inf -> the dtype's max/min."""

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        out = torch.where(scores != scores, 0.0, scores)
        out = torch.where(scores == math.inf, torch.finfo(scores.dtype).max, out)
        return torch.where(scores == NEG_INF, torch.finfo(scores.dtype).min, out)


class LogitNormalization(LogitsProcessor):
    """log-softmax of the scores (``renormalize_logits=True``; always last)."""

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        return scores.log_softmax(dim=-1)


class PrefixConstrainedLogitsProcessor(LogitsProcessor):
    """Only the ids ``fn(batch_id, sequence)`` returns stay allowed."""

    def __init__(self, prefix_allowed_tokens_fn: Callable[[int, torch.Tensor], list[int]], num_beams: int):
        self._fn = prefix_allowed_tokens_fn
        self._num_beams = num_beams

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        mask = torch.full_like(scores, NEG_INF)
        for row in range(input_ids.shape[0]):
            allowed = self._fn(row // self._num_beams, input_ids[row])
            if len(allowed) == 0:
                raise ValueError(
                    f"prefix_allowed_tokens_fn returned no allowed token for batch {row // self._num_beams}"
                )
            mask[row, allowed] = 0
        return scores + mask


class UnbatchedClassifierFreeGuidanceLogitsProcessor(LogitsProcessor):
    """Classifier-free guidance (``guidance_scale``): the log-probs are pushed away from those of an unconditional
    run, ``scale * (logp - logp_uncond) + logp_uncond``. The unconditional run starts from
    ``unconditional_ids`` (``negative_prompt_ids``; default the last prompt token) and continues with each new
    token, with its own cache, as the reference's (which does not follow beam reordering either).

    >>> model.generate(ids, guidance_scale=1.5, negative_prompt_ids=neg_ids)  # doctest: +SKIP
    """

    def __init__(
        self,
        guidance_scale: float,
        model: Any,
        unconditional_ids: torch.Tensor | None = None,
        unconditional_attention_mask: torch.Tensor | None = None,
        use_cache: bool = True,
    ):
        self.guidance_scale = guidance_scale
        self.model = model
        self.ids, self.mask = unconditional_ids, unconditional_attention_mask
        self.use_cache = bool(use_cache)
        self.cache: Any = None
        self.first_pass = True

    def _unconditional_logits(self, input_ids: torch.Tensor) -> torch.Tensor:
        if self.first_pass:
            if self.ids is None:
                self.ids = input_ids[:, -1:]
            if self.mask is None:
                self.mask = torch.ones_like(self.ids, dtype=torch.long)
            self.first_pass = False
        else:
            self.mask = torch.cat([self.mask, torch.ones_like(input_ids[:, -1:], dtype=torch.long)], dim=1)
            last = input_ids[:, -1:]
            self.ids = last if self.use_cache else torch.cat([self.ids, last], dim=1)
        out = self.model(
            self.ids, attention_mask=self.mask, use_cache=self.use_cache, past_key_values=self.cache
        )
        self.cache = getattr(out, "past_key_values", None) if self.use_cache else None
        return out.logits

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        scores = torch.nn.functional.log_softmax(scores, dim=-1)
        if self.guidance_scale == 1:
            return scores
        logits = self._unconditional_logits(input_ids)
        unconditional = torch.nn.functional.log_softmax(logits[:, -1].to(scores.dtype), dim=-1)
        return self.guidance_scale * (scores - unconditional) + unconditional
