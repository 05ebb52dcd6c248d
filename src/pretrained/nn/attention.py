"""Scaled dot-product attention shared by every architecture.

>>> import torch
>>> q = k = v = torch.zeros(1, 2, 3, 4)  # (B, nh, T, hs)
>>> attend(q, k, v)[0].shape
torch.Size([1, 2, 3, 4])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def attend(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    *,
    dropout_p: float = 0.0,
    scale: float | None = None,
    is_causal: bool = False,
    need_weights: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """softmax(q kᵀ · scale + mask) v. q: (B, nh, Tq, hs); k, v: (B, nh_kv, Tk, hs); mask additive (B|1, 1, Tq, Tk).

    Uses ``F.scaled_dot_product_attention`` unless the attention weights are asked for. Grouped-query attention
    (nh_kv < nh) repeats k/v heads. Returns (output (B, nh, Tq, hs), weights (B, nh, Tq, Tk) or None).
    """
    if k.shape[1] != q.shape[1]:
        reps = q.shape[1] // k.shape[1]
        k = k.repeat_interleave(reps, dim=1)  # (B, nh, Tk, hs)
        v = v.repeat_interleave(reps, dim=1)
    if not need_weights:
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=dropout_p, is_causal=is_causal, scale=scale
        )
        return out, None
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    scores = torch.matmul(q, k.transpose(-1, -2)) * scale  # (B, nh, Tq, Tk)
    if is_causal:
        tq, tk = scores.shape[-2:]
        keep = torch.ones(tq, tk, dtype=torch.bool, device=q.device).tril(tk - tq)
        scores = scores.masked_fill(~keep, torch.finfo(scores.dtype).min)
    if mask is not None:
        scores = scores + mask
    weights = scores.softmax(dim=-1)
    out = torch.matmul(F.dropout(weights, p=dropout_p, training=dropout_p > 0), v)  # (B, nh, Tq, hs)
    return out, weights
