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


def fuse_weights(layers: list[nn.Linear]) -> bool:
    """Store the weights (and biases) of layers that read the same input in one buffer, so that
    :func:`fused_weight` can run them as one matmul: one pass over a wider weight instead of several short ones
    (a decode step streams every weight, and short streams run below the memory's bandwidth).

    The buffer is ``(in, sum of outs)`` contiguous: each layer's ``(out, in)`` weight becomes a view of its column
    block, with the same values, shape and state-dict key. Returns whether the layers were fused (they need the
    same input size, dtype and device, and biases on all or none).

    >>> a, b = Linear(4, 3), Linear(4, 2)
    >>> fuse_weights([a, b])
    True
    >>> with torch.no_grad():
    ...     fused_weight([a, b])[0].shape
    torch.Size([5, 4])
    """
    weights = [layer.weight for layer in layers]
    biases = [layer.bias for layer in layers]
    if len({(w.shape[1], w.dtype, w.device, w.dim()) for w in weights}) != 1 or weights[0].dim() != 2:
        return False
    if any(b is None for b in biases) and not all(b is None for b in biases):
        return False
    with torch.no_grad():
        buf = torch.cat([w.detach().t() for w in weights], dim=1)  # (in, sum out)
        bias = None if biases[0] is None else torch.cat([b.detach() for b in biases])  # (sum out,)
    start = 0
    for layer, w, b in zip(layers, weights, biases):
        n = w.shape[0]
        layer.weight = nn.Parameter(buf[:, start : start + n].t(), requires_grad=w.requires_grad)
        if bias is not None:
            layer.bias = nn.Parameter(bias[start : start + n], requires_grad=b.requires_grad)
        start += n
    return True


def fused_weight(layers: list[nn.Linear]) -> tuple[torch.Tensor, torch.Tensor | None] | None:
    """``(weight (sum of outs, in), bias or None)`` viewing the buffer :func:`fuse_weights` made, when the layers'
    parameters still lie in it (a later ``.to()``, re-assignment or load with ``assign=True`` separates them)
    and no gradient is being recorded for them; otherwise None, and the caller runs the layers one by one."""
    first = layers[0].weight
    if torch.is_grad_enabled() and first.requires_grad:
        return None
    total, k = sum(layer.weight.shape[0] for layer in layers), first.shape[1]
    storage, offset = first.untyped_storage().data_ptr(), first.storage_offset()
    for layer in layers:
        w = layer.weight
        if (
            w.untyped_storage().data_ptr() != storage
            or w.storage_offset() != offset
            or w.stride() != (1, total)
        ):
            return None
        offset += w.shape[0]
    weight = first.detach().as_strided((total, k), (1, total), first.storage_offset())
    b0 = layers[0].bias
    if b0 is None:
        return (weight, None) if all(layer.bias is None for layer in layers) else None
    storage, offset = b0.untyped_storage().data_ptr(), b0.storage_offset()
    for layer in layers:
        b = layer.bias
        if b is None or b.untyped_storage().data_ptr() != storage or b.storage_offset() != offset:
            return None
        offset += b.shape[0]
    return weight, b0.detach().as_strided((total,), (1,), b0.storage_offset())
