"""Attention masks: from a (B, T) padding mask to the additive (B, 1, Tq, Tk) mask SDPA takes.

>>> import torch
>>> padding_mask(torch.tensor([[1, 0]]), torch.float32).shape
torch.Size([1, 1, 1, 2])
"""

from __future__ import annotations

import torch


def padding_mask(attention_mask: torch.Tensor | None, dtype: torch.dtype) -> torch.Tensor | None:
    """(B, Tk) 1/0 mask -> (B, 1, 1, Tk) additive mask (0 keep, dtype's min drop); None when nothing is masked."""
    if attention_mask is None:
        return None
    if attention_mask.dim() != 2:
        raise ValueError(f"attention_mask must be (batch, seq_len); got shape {tuple(attention_mask.shape)}")
    if bool(attention_mask.all()):
        return None  # SDPA's fast path: no mask at all
    keep = attention_mask[:, None, None, :].to(torch.bool)  # (B, 1, 1, Tk)
    return torch.zeros(keep.shape, dtype=dtype, device=keep.device).masked_fill(~keep, torch.finfo(dtype).min)


def causal_mask(
    attention_mask: torch.Tensor | None,
    q_len: int,
    kv_len: int,
    dtype: torch.dtype,
    device: torch.device,
    sliding_window: int | None = None,
) -> torch.Tensor:
    """(B or 1, 1, Tq, Tk) additive mask: query i (at absolute position kv_len - q_len + i) sees keys <= itself,
    within ``sliding_window`` when given, and only unpadded keys."""
    q_pos = torch.arange(kv_len - q_len, kv_len, device=device)[:, None]  # (Tq, 1)
    k_pos = torch.arange(kv_len, device=device)[None, :]  # (1, Tk)
    allowed = k_pos <= q_pos  # (Tq, Tk)
    if sliding_window is not None:
        allowed = allowed & (q_pos - k_pos < sliding_window)
    allowed = allowed[None, None]  # (1, 1, Tq, Tk)
    if attention_mask is not None:
        allowed = allowed & attention_mask[:, None, None, :kv_len].to(torch.bool)  # (B, 1, Tq, Tk)
    mask = torch.zeros(allowed.shape, dtype=dtype, device=device).masked_fill(
        ~allowed, torch.finfo(dtype).min
    )
    # a fully masked row (a left-pad query) would give NaN in SDPA: let it attend everywhere, its output is unused
    return mask.masked_fill((~allowed).all(-1, keepdim=True), 0.0)
