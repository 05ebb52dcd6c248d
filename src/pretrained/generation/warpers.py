"""Sampling warpers (temperature, top-k, top-p, min-p, typical, epsilon, eta), applied only when sampling.

>>> import torch
>>> TopPLogitsWarper(0.5)(None, torch.tensor([[0.0, 2.0, 1.0]]))
tensor([[-inf, 2., -inf]])
"""

from __future__ import annotations

from typing import Any

import torch

from .logits_process import NEG_INF, LogitsProcessor


def _check_keep(min_tokens_to_keep: int) -> int:
    if not isinstance(min_tokens_to_keep, int) or min_tokens_to_keep < 1:
        raise ValueError(f"min_tokens_to_keep={min_tokens_to_keep!r}: it must be a positive integer")
    return min_tokens_to_keep


def _fraction(value: float, name: str, *, low_open: bool = True) -> float:
    value = float(value)
    if not (0 < value < 1 if low_open else 0 <= value <= 1):
        raise ValueError(f"{name}={value!r}: it must be in {'(0, 1)' if low_open else '[0, 1]'}")
    return value


def check_temperature(temperature: Any) -> None:
    """A strictly positive float, as the reference requires (it rejects ints too: pass 2.0, not 2)."""
    if isinstance(temperature, float) and temperature > 0:
        return
    hint = ""
    if temperature == 0:
        hint = " For greedy decoding set do_sample=False."
    elif isinstance(temperature, int) and not isinstance(temperature, bool) and temperature > 0:
        hint = f" Write {float(temperature)!r}."
    raise ValueError(f"temperature={temperature!r}: it must be a strictly positive float.{hint}")


class TemperatureLogitsWarper(LogitsProcessor):
    """scores / temperature."""

    def __init__(self, temperature: float):
        check_temperature(temperature)
        self.temperature = float(temperature)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        return scores / self.temperature


class TopKLogitsWarper(LogitsProcessor):
    """Keep the ``top_k`` highest scores (ties with the k-th included)."""

    def __init__(self, top_k: int, filter_value: float = NEG_INF, min_tokens_to_keep: int = 1):
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k <= 0:
            raise ValueError(f"top_k={top_k!r}: it must be a positive integer")
        self.top_k = max(top_k, min_tokens_to_keep)
        self.filter_value = filter_value

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        k = min(self.top_k, scores.size(-1))
        kth = torch.topk(scores, k)[0][..., -1, None]  # (B, 1)
        return scores.masked_fill(scores < kth, self.filter_value)


class TopPLogitsWarper(LogitsProcessor):
    """Keep the smallest set of tokens whose probability mass reaches ``top_p`` (nucleus sampling)."""

    def __init__(self, top_p: float, filter_value: float = NEG_INF, min_tokens_to_keep: int = 1):
        top_p = float(top_p)
        if not 0 <= top_p <= 1:  # 0 keeps min_tokens_to_keep tokens, as the reference
            raise ValueError(f"top_p={top_p!r}: it must be in [0, 1]")
        self.top_p = top_p
        self.filter_value = filter_value
        self.min_tokens_to_keep = _check_keep(min_tokens_to_keep)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        sorted_logits, sorted_indices = torch.sort(scores, descending=False)  # (B, V) ascending
        cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
        remove = cumulative <= (1 - self.top_p)
        remove[..., -self.min_tokens_to_keep :] = 0
        remove = remove.scatter(1, sorted_indices, remove)
        return scores.masked_fill(remove, self.filter_value)


class MinPLogitsWarper(LogitsProcessor):
    """Drop tokens whose probability is below ``min_p`` times the top token's."""

    def __init__(self, min_p: float, filter_value: float = NEG_INF, min_tokens_to_keep: int = 1):
        self.min_p = _fraction(min_p, "min_p", low_open=False)
        self.filter_value = filter_value
        self.min_tokens_to_keep = _check_keep(min_tokens_to_keep)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        probs = torch.softmax(scores, dim=-1)
        remove = probs < self.min_p * probs.max(dim=-1, keepdim=True)[0]
        sorted_indices = torch.argsort(scores, descending=True, dim=-1)
        sorted_remove = torch.gather(remove, dim=-1, index=sorted_indices)
        sorted_remove[..., : self.min_tokens_to_keep] = False
        remove = sorted_remove.scatter(1, sorted_indices, sorted_remove)
        return scores.masked_fill(remove, self.filter_value)


class TypicalLogitsWarper(LogitsProcessor):
    """Locally typical sampling: keep tokens whose surprise is closest to the entropy, up to mass ``typical_p``."""

    def __init__(self, mass: float = 0.9, filter_value: float = NEG_INF, min_tokens_to_keep: int = 1):
        self.mass = _fraction(mass, "typical_p")
        self.filter_value = filter_value
        self.min_tokens_to_keep = _check_keep(min_tokens_to_keep)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        normalized = torch.nn.functional.log_softmax(scores, dim=-1)
        p = torch.exp(normalized)
        ent = -(normalized * p).nansum(-1, keepdim=True)
        shifted = torch.abs((-normalized) - ent)
        sorted_scores, sorted_indices = torch.sort(shifted, descending=False)
        cumulative = scores.gather(-1, sorted_indices).softmax(dim=-1).cumsum(dim=-1)
        last_ind = (cumulative < self.mass).sum(dim=1)
        last_ind.clamp_(max=sorted_scores.shape[-1] - 1)
        sorted_remove = sorted_scores > sorted_scores.gather(1, last_ind.view(-1, 1))
        sorted_remove[..., : self.min_tokens_to_keep] = 0
        remove = sorted_remove.scatter(1, sorted_indices, sorted_remove)
        return scores.masked_fill(remove, self.filter_value)


class EpsilonLogitsWarper(LogitsProcessor):
    """Drop tokens with probability below ``epsilon``."""

    def __init__(self, epsilon: float, filter_value: float = NEG_INF, min_tokens_to_keep: int = 1):
        self.epsilon = _fraction(epsilon, "epsilon_cutoff")
        self.filter_value = filter_value
        self.min_tokens_to_keep = _check_keep(int(min_tokens_to_keep))

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        remove = scores.softmax(dim=-1) < self.epsilon
        k = min(self.min_tokens_to_keep, scores.size(-1))
        remove = remove & (scores < torch.topk(scores, k)[0][..., -1, None])
        return scores.masked_fill(remove, self.filter_value)


class EtaLogitsWarper(LogitsProcessor):
    """Drop tokens below min(eta, sqrt(eta) * exp(-entropy))."""

    def __init__(
        self, epsilon: float, filter_value: float = NEG_INF, min_tokens_to_keep: int = 1, device: Any = "cpu"
    ):
        self.epsilon = torch.tensor(_fraction(epsilon, "eta_cutoff"), device=device)
        self.filter_value = filter_value
        self.min_tokens_to_keep = _check_keep(int(min_tokens_to_keep))

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        probabilities = scores.softmax(dim=-1)
        entropy = torch.distributions.Categorical(logits=scores).entropy()
        eta = torch.min(self.epsilon, torch.sqrt(self.epsilon) * torch.exp(-entropy))[..., None]
        remove = probabilities < eta
        k = min(self.min_tokens_to_keep, scores.size(-1))
        remove = remove & (scores < torch.topk(scores, k)[0][..., -1, None])
        return scores.masked_fill(remove, self.filter_value)
