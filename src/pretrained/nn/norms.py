"""Normalization layers beyond ``nn.LayerNorm``.

>>> import torch
>>> RMSNorm(4)(torch.ones(1, 4)).tolist()
[[0.9999995231628418, 0.9999995231628418, 0.9999995231628418, 0.9999995231628418]]
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class RMSNorm(nn.Module):
    """Root-mean-square norm (Llama, Mistral, Qwen2, T5): computed in float32, scaled by ``weight``.

    >>> RMSNorm(8, eps=1e-5).weight.shape
    torch.Size([8])
    """

    def __init__(self, hidden_size: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.variance_epsilon = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (..., C) -> (..., C)
        if x.dtype == torch.float32 and self.weight.dtype == torch.float32:
            return F.rms_norm(x, self.weight.shape, self.weight, self.variance_epsilon)  # fused, same bits
        dtype = x.dtype
        h = x.to(torch.float32)
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.variance_epsilon)
        return self.weight * h.to(dtype)

    def extra_repr(self) -> str:
        return f"{tuple(self.weight.shape)}, eps={self.variance_epsilon}"
