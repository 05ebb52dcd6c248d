"""Linear layers whose inference runs through oneDNN, or for a decode step's few rows a small C kernel, on the CPU.

``torch.nn.functional.linear`` sends fp32 CPU matmuls to MKL's sgemm. oneDNN (which torch ships as ``mkldnn``)
does the same fp32 math 10-40% faster on the CPUs we measured, most of all for the few-row matmuls of
generation (batch x beams rows per step) and short texts; only the order of summation differs (relative
differences ~1e-7). So when no gradient is being recorded, :func:`linear` takes the oneDNN kernel; training,
other devices and other dtypes keep ``F.linear``. ``PRETRAINED_ONEDNN=0`` in the environment turns it off.

Decoding multiplies one to a few rows (batch x beams) by every weight, so it runs at the speed the weights
stream from memory. For those products (up to :data:`KERNEL_ROWS` rows: 8 with AVX-512, 4 with AVX2)
:func:`linear` calls a small C kernel (``pretrained.nn._gemv``, built at install when a C compiler is there)
that reads a row-major ``(out, in)`` weight strictly in order, a whole row at a time: ~1.4x the bandwidth of
BLAS's gemv on one thread (it runs on one thread unless ``PRETRAINED_GEMV_THREADS`` asks for more). With it,
every weight keeps the checkpoint's ``(out, in)`` layout (GPT-2's ``(in, out)`` ``Conv1D`` weights are stored
transposed at load). Without it (no compiler, a CPU without AVX2, or ``PRETRAINED_GEMV=0``), generating models
load each widening or square weight (the LM head included) into transposed storage: the ``(out, in)`` parameter
is a view of a contiguous ``(in, out)`` buffer (:func:`transposed_storage`), the layout MKL's gemv streams
fastest, and narrowing weights keep ``(out, in)``. :func:`decode_layout` tells which policy
holds. Values, shapes and state-dict keys never change.

>>> import torch
>>> layer = Linear(4, 3)
>>> with torch.no_grad():
...     torch.allclose(layer(torch.ones(2, 4)), torch.nn.functional.linear(torch.ones(2, 4), layer.weight, layer.bias))
True
"""

from __future__ import annotations

import logging
import operator
import os
import weakref

import torch
import torch.nn.functional as F
from torch import nn

from ..weights import release_mapped_pages
from .activations import get_activation

logger = logging.getLogger(__name__)

_enabled = os.environ.get("PRETRAINED_ONEDNN", "1") != "0" and torch.backends.mkldnn.is_available()

try:  # the optional C kernel (setup.py builds it when a compiler is there)
    from . import _gemv as _gemv_ext
except ImportError:  # pragma: no cover - depends on the install
    _gemv_ext = None
_rows_enabled = (
    os.environ.get("PRETRAINED_GEMV", "1") != "0" and _gemv_ext is not None and _gemv_ext.simd() > 0
)
# products of at most this many rows take the kernel (8 with AVX-512, 4 with AVX2); more go to oneDNN's GEMM
KERNEL_ROWS = _gemv_ext.max_rows() if _rows_enabled else 0
# Threads the kernel splits a large weight over (1 unless PRETRAINED_GEMV_THREADS says otherwise). Its pool spins
# between calls, and so do torch's OpenMP threads between ops: in a decode loop on this 2-core machine the two
# fought for the second core and two threads ran 7-26% slower than one, so the default is one.


def _threads_from_env() -> int:
    value = os.environ.get("PRETRAINED_GEMV_THREADS", "1")
    try:
        return max(1, int(value))
    except ValueError:
        logger.warning("PRETRAINED_GEMV_THREADS=%r is not a whole number; the kernel uses 1 thread", value)
        return 1


_GEMV_THREADS = _threads_from_env()
_THREADED = 1 << 16  # weight elements from which the kernel splits rows over _GEMV_THREADS
_F32, _STRIDED = torch.float32, torch.strided


def decode_layout() -> str:
    """How generating models store their weights: ``"rows"`` (every weight row-major ``(out, in)``, for the
    few-row C kernel) or ``"blas"`` (widening and square weights in transposed ``(in, out)`` storage, for MKL's
    gemv), decided by whether the kernel is available and enabled.

    >>> decode_layout() in ("rows", "blas")
    True
    """
    return "rows" if _rows_enabled else "blas"


def _rows(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor | None:
    """``x @ weight.T + bias`` through the few-row C kernel, or None when it does not apply: at most
    :data:`KERNEL_ROWS` rows, fp32 dense CPU tensors, a weight with unit stride along ``in`` (row-major or a row
    slice of one), no gradient to record and no CPU autocast. (A decode step makes dozens of these calls: the checks
    are ordered and written for a few microseconds in all.)"""
    if not _rows_enabled or x.dtype is not _F32 or weight.dtype is not _F32 or weight.dim() != 2:
        return None
    N, K = weight.shape
    n = x.numel()
    if n == 0 or n > KERNEL_ROWS * K or x.dim() == 0 or x.shape[-1] != K or N == 0:
        return None
    ws = weight.stride()
    if not (x.is_cpu and weight.is_cpu) or x.layout is not _STRIDED or weight.layout is not _STRIDED:
        return None
    if ws[1] != 1 or (N > 1 and ws[0] < K):
        return None
    if bias is not None and (
        bias.dtype is not _F32
        or bias.dim() != 1
        or bias.shape[0] != N
        or not bias.is_cpu
        or bias.layout is not _STRIDED
    ):
        return None
    if torch.is_grad_enabled() and (
        x.requires_grad or weight.requires_grad or (bias is not None and bias.requires_grad)
    ):
        return None
    if torch.is_autocast_enabled("cpu"):  # mixed precision: F.linear takes autocast's dtype, as the reference
        return None
    M = n // K
    if x.is_contiguous():
        x2, xs = x, K
    else:
        x2 = x.reshape(M, K)
        if x2.stride(1) != 1 or (M > 1 and x2.stride(0) < K):
            x2 = x2.contiguous()
        xs = x2.stride(0) if M > 1 else K
    if bias is not None and bias.stride(0) != 1:
        bias = bias.contiguous()
    d = x.dim()  # (..., N), contiguous: rows N apart (positional sizes: half the cost of a shape tuple)
    if d == 3:
        y = torch.empty(x.shape[0], x.shape[1], N, dtype=_F32)
    elif d == 2:
        y = torch.empty(M, N, dtype=_F32)
    else:
        y = torch.empty((*x.shape[:-1], N), dtype=_F32)
    _gemv_ext.gemv(
        x2.data_ptr(),
        xs,
        weight.data_ptr(),
        ws[0] if N > 1 else K,
        0 if bias is None else bias.data_ptr(),
        y.data_ptr(),
        N,
        M,
        K,
        N,
        _GEMV_THREADS if N * K >= _THREADED else 1,
    )
    return y


def _onednn(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> bool:
    """Whether this call can take the oneDNN kernel: fp32 on the CPU with no gradient to record, no autocast."""
    if not _enabled or x.dtype != torch.float32 or weight.dtype != torch.float32 or x.device.type != "cpu":
        return False
    if torch.is_grad_enabled() and (
        x.requires_grad or weight.requires_grad or (bias is not None and bias.requires_grad)
    ):
        return False
    if weight.dim() != 2 or (bias is not None and bias.dtype != torch.float32):
        return False
    if torch.is_autocast_enabled("cpu"):  # mixed precision: F.linear takes autocast's dtype, as the reference
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
    y = _rows(x, weight, bias)
    if y is not None:
        return y
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

# the single torch op computing each fused activation as oneDNN does (GPT-2's gelu_new as one tanh-GELU op
# instead of its eight-op formula: equal within ~1e-7)
_ACTIVATION_OPS = {
    ("gelu", "none"): F.gelu,
    ("gelu", "tanh"): lambda y: F.gelu(y, approximate="tanh"),
    ("relu", ""): F.relu,
}


def linear_act(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, act: str) -> torch.Tensor:
    """``get_activation(act)(linear(x, weight, bias))``, fused into one oneDNN call where it can be (the FFN's
    first projection: one pass over its wide output less).

    >>> import torch
    >>> linear_act(torch.tensor([[-1.0, 2.0]]), torch.eye(2), None, "relu").tolist()
    [[0.0, 2.0]]
    """
    fused = FUSED_ACTIVATIONS.get(act)
    if fused is not None and _rows_enabled and x.numel() <= KERNEL_ROWS * x.shape[-1]:
        y = _rows(
            x, weight, bias
        )  # few rows: the C kernel, then the activation oneDNN would have fused, in one op
        if y is not None:
            return _ACTIVATION_OPS[fused](y)
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

    With the few-row kernel (:func:`decode_layout` ``"rows"``) the buffer is ``(sum of outs, in)`` contiguous and
    each layer's ``(out, in)`` weight is a view of its row block; otherwise it is ``(in, sum of outs)`` (MKL's
    gemv layout) and each weight views a column block. Values, shapes and state-dict keys stay the same; the
    file pages of memory-mapped originals are released. Returns whether the layers were fused (they need the
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
    rows = decode_layout() == "rows"
    with torch.no_grad():
        if rows:
            buf = torch.cat([w.detach() for w in weights], dim=0)  # (sum out, in)
        else:
            buf = torch.cat([w.detach().t() for w in weights], dim=1)  # (in, sum out)
        bias = None if biases[0] is None else torch.cat([b.detach() for b in biases])  # (sum out,)
    for w in weights:
        release_mapped_pages(w)
    start = 0
    for layer, w, b in zip(layers, weights, biases):
        n = w.shape[0]
        view = buf[start : start + n] if rows else buf[:, start : start + n].t()
        layer.weight = nn.Parameter(view, requires_grad=w.requires_grad)
        if bias is not None:
            layer.bias = nn.Parameter(bias[start : start + n], requires_grad=b.requires_grad)
        start += n
    return True


# first layer of a fused group -> (what the parameters were, the fused views): a decode step asks for every
# layer's fused weight, and working it out from the storages takes ~25 us each time
_FUSED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _fused_key(layers: list[nn.Linear]) -> tuple[tuple, tuple]:
    """What the fused views depend on: the parameters (compared by identity), and where each one's data starts
    with its shape and strides (compared by value)."""
    params, meta = [], []
    for layer in layers:
        w, b = layer.weight, layer.bias
        params += (w, b)
        meta += (
            w.data_ptr(),
            w.shape,
            w.stride(),
            0 if b is None else b.data_ptr(),
            None if b is None else b.shape,
        )
    return tuple(params), tuple(meta)


def fused_weight(layers: list[nn.Linear]) -> tuple[torch.Tensor, torch.Tensor | None] | None:
    """``(weight (sum of outs, in), bias or None)`` viewing the buffer :func:`fuse_weights` made, when the layers'
    parameters still lie in it (a later ``.to()``, re-assignment or load with ``assign=True`` separates them)
    and no gradient is being recorded for them; otherwise None, and the caller runs the layers one by one."""
    first = layers[0].weight
    if torch.is_grad_enabled() and first.requires_grad:
        return None
    params, meta = _fused_key(layers)
    cached = _FUSED.get(layers[0])
    if (
        cached is not None
        and len(cached[0]) == len(params)
        and all(map(operator.is_, cached[0], params))
        and cached[1] == meta
    ):
        return cached[2]
    found = _find_fused(layers)
    _FUSED[layers[0]] = (params, meta, found)
    return found


def _find_fused(layers: list[nn.Linear]) -> tuple[torch.Tensor, torch.Tensor | None] | None:
    """:func:`fused_weight`'s answer worked out from the parameters' storages."""
    first = layers[0].weight
    total, k = sum(layer.weight.shape[0] for layer in layers), first.shape[1]
    # row blocks of a (total, k) buffer, or column blocks of a (k, total) one
    strides, step = ((k, 1), k) if first.stride() == (k, 1) else ((1, total), 1)
    storage, offset = first.untyped_storage().data_ptr(), first.storage_offset()
    for layer in layers:
        w = layer.weight
        if (
            w.untyped_storage().data_ptr() != storage
            or w.storage_offset() != offset
            or w.shape[1] != k
            or (w.stride() != strides and w.shape[0] > 1)
        ):
            return None
        offset += w.shape[0] * step
    weight = first.detach().as_strided((total, k), strides, first.storage_offset())
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
