"""Normalization layers beyond ``nn.LayerNorm``.

>>> import torch
>>> RMSNorm(4)(torch.ones(1, 4)).tolist()
[[0.9999995231628418, 0.9999995231628418, 0.9999995231628418, 0.9999995231628418]]
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from . import linear as _kernels  # the optional C kernel lives there (``_gemv_ext``)


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
        w = self.weight
        if x.dtype == torch.float32 and w.dtype == torch.float32:
            y = _few_rows(x, w, self.variance_epsilon)
            if y is not None:
                return y
            return F.rms_norm(x, w.shape, w, self.variance_epsilon)  # fused, same bits
        dtype = x.dtype
        h = x.to(torch.float32)
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.variance_epsilon)
        return self.weight * h.to(dtype)

    def extra_repr(self) -> str:
        return f"{tuple(self.weight.shape)}, eps={self.variance_epsilon}"


def _few_rows(x: torch.Tensor, w: torch.Tensor, eps: float) -> torch.Tensor | None:
    """RMSNorm of a decode step's few fp32 rows through the C kernel (one call instead of torch's six ops,
    equal within an ulp), or None where it does not apply (other sizes, devices, or a gradient to record)."""
    if not _kernels._rows_enabled or x.dim() == 0:
        return None
    C = x.shape[-1]
    n = x.numel()
    if n == 0 or n > _kernels.KERNEL_ROWS * C or w.dim() != 1 or w.shape[0] != C:
        return None
    if not (x.is_cpu and w.is_cpu and x.is_contiguous() and w.is_contiguous()):
        return None
    if torch.is_grad_enabled() and (x.requires_grad or w.requires_grad):
        return None
    y = torch.empty_like(x, memory_format=torch.contiguous_format)
    _kernels._gemv_ext.rms_norm(x.data_ptr(), C, w.data_ptr(), y.data_ptr(), n // C, C, eps)
    return y
