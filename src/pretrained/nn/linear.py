"""Linear layers whose inference runs through oneDNN on the CPU.

``torch.nn.functional.linear`` sends fp32 CPU matmuls to MKL's sgemm. oneDNN (which torch ships as ``mkldnn``)
does the same fp32 math 10-40% faster on the CPUs we measured, most of all for the few-row matmuls of
generation (batch x beams rows per step) and short texts; only the order of summation differs (relative
differences ~1e-7). So when no gradient is being recorded, :func:`linear` takes the oneDNN kernel; training,
other devices and other dtypes keep ``F.linear``. ``PRETRAINED_ONEDNN=0`` in the environment turns it off.

Generating models (causal and seq2seq LMs) load each widening or square weight (``out >= in``, the LM head
included) into transposed storage: the ``(out, in)`` parameter is a view of a contiguous ``(in, out)`` buffer
(:func:`transposed_storage`), as GPT-2's ``Conv1D`` checkpoints store it, while narrowing weights keep ``(out, in)``.
A decode step multiplies one row per sequence, and that is the layout each shape streams fastest through MKL's
gemv (1.2-1.8x the other layout's bandwidth on wide weights); many-row matmuls run about equally fast either way.
Values, shapes and state-dict keys do not change.

>>> import torch
>>> layer = Linear(4, 3)
>>> with torch.no_grad():
...     torch.allclose(layer(torch.ones(2, 4)), torch.nn.functional.linear(torch.ones(2, 4), layer.weight, layer.bias))
True
"""

from __future__ import annotations

import logging
import os

import torch
import torch.nn.functional as F
from torch import nn

from .activations import get_activation

logger = logging.getLogger(__name__)

_enabled = os.environ.get("PRETRAINED_ONEDNN", "1") != "0" and torch.backends.mkldnn.is_available()


def _onednn(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> bool:
    """Whether this call can take the oneDNN kernel: fp32 on the CPU with no gradient to record."""
    if not _enabled or x.dtype != torch.float32 or weight.dtype != torch.float32 or x.device.type != "cpu":
        return False
    if torch.is_grad_enabled() and (
        x.requires_grad or weight.requires_grad or (bias is not None and bias.requires_grad)
    ):
        return False
    if weight.dim() != 2 or (bias is not None and bias.dtype != torch.float32):
        return False
    if x.numel() != x.shape[-1]:
        return True
    # one row (decode at batch 1): MKL's gemv streams a transposed-stored weight fastest, and oneDNN's ~10 us
    # call overhead outweighs its gain on a small row-major one
    return weight.numel() > _SMALL_GEMV and not is_transposed_storage(weight)


_SMALL_GEMV = 400_000  # weight elements; 576x576 and 192x576 (SmolLM) go to MKL, 1536x576 to oneDNN


def is_transposed_storage(weight: torch.Tensor) -> bool:
    """Whether a 2-D ``(out, in)`` weight is a view of a contiguous ``(in, out)`` buffer.

    >>> is_transposed_storage(torch.zeros(3, 4)), is_transposed_storage(torch.zeros(4, 3).t())
    (False, True)
    """
    return weight.dim() == 2 and weight.shape[0] > 1 and weight.stride() == (1, weight.shape[0])


def transposed_storage(weight: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
    """The same ``(out, in)`` values (cast to ``dtype``) backed by a new contiguous ``(in, out)`` buffer: one copy.

    >>> w = torch.arange(6.0).view(2, 3)
    >>> t = transposed_storage(w)
    >>> torch.equal(t, w), is_transposed_storage(t)
    (True, True)
    """
    out = torch.empty(weight.shape[1], weight.shape[0], dtype=dtype or weight.dtype, device=weight.device)
    out.copy_(weight.t())
    return out.t()


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``x @ weight.T + bias`` (weight ``(out, in)``, any leading dims on ``x``), as ``F.linear`` computes it."""
    global _enabled
    if _onednn(x, weight, bias):
        try:
            return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")
        except RuntimeError as err:
            out = F.linear(x, weight, bias)  # wrong inputs raise torch's own error here, and change nothing
            _enabled = False  # a build whose oneDNN lacks the op: torch's kernel from now on
            logger.info("oneDNN linear unavailable (%s); using torch.nn.functional.linear", err)
            return out
    return F.linear(x, weight, bias)


# activations oneDNN applies inside the matmul (its "post-op"): config name -> (attr, algorithm)
FUSED_ACTIVATIONS: dict[str, tuple[str, str]] = {
    "gelu": ("gelu", "none"),  # erf GELU, bit-identical to F.gelu here
    "gelu_python": ("gelu", "none"),
    "gelu_new": ("gelu", "tanh"),
    "gelu_pytorch_tanh": ("gelu", "tanh"),
    "relu": ("relu", ""),
}


def linear_act(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, act: str) -> torch.Tensor:
    """``get_activation(act)(linear(x, weight, bias))``, fused into one oneDNN call where it can be (the FFN's
    first projection: one pass over its wide output less).

    >>> import torch
    >>> linear_act(torch.tensor([[-1.0, 2.0]]), torch.eye(2), None, "relu").tolist()
    [[0.0, 2.0]]
    """
    fused = FUSED_ACTIVATIONS.get(act)
    if fused is not None and _onednn(x, weight, bias):
        try:
            return torch.ops.mkldnn._linear_pointwise(x, weight, bias, fused[0], [], fused[1])
        except RuntimeError:
            pass  # linear() below logs and switches to torch's kernel
    return get_activation(act)(linear(x, weight, bias))


class Linear(nn.Linear):
    """``torch.nn.Linear`` (same parameters, same state-dict keys) whose inference forward uses :func:`linear`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (..., in) -> (..., out)
        return linear(x, self.weight, self.bias)
