"""Quantize float tensors to ggml block formats (used by the GGUF writer).

F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0 and Q5_1 follow ggml's reference quantizers and give the same bytes as
``gguf.quants.quantize``. The K-quants (Q2_K..Q6_K) use a simple min/max fit per sub-block: their bytes
differ from llama.cpp's (which searches scales), but they decode within one quantization step.

>>> x = torch.linspace(-1, 1, 64)
>>> raw = quantize(x, "Q8_0")  # 2 blocks of 34 bytes
>>> raw.shape, (dequantize(raw, "Q8_0", 64) - x).abs().max() < 0.01
(torch.Size([68]), tensor(True))
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .quants import PLAIN_DTYPES, QK_K, SUPPORTED_TYPES, dequantize, ggml_type  # noqa: F401 (doctest)

_CHUNK_VALUES = 1 << 22  # values encoded per step: bounds the temporaries


def _f16_bytes(x: torch.Tensor) -> torch.Tensor:
    """(n, 1) float32 -> (n, 2) uint8, as fp16 (round to nearest even, like numpy)."""
    return x.to(torch.float16).view(torch.uint8)


def _inverse(d: torch.Tensor) -> torch.Tensor:
    return torch.where(d == 0, torch.zeros_like(d), 1 / d)


def _roundf(x: torch.Tensor) -> torch.Tensor:
    """Round half away from zero, computed exactly as ggml/gguf do (no ``floor(x + 0.5)`` rounding slip)."""
    a = x.abs()
    fl = a.floor()
    return torch.sign(x) * (fl + torch.floor(2 * (a - fl)))


def _pack(v: torch.Tensor, width: int) -> torch.Tensor:
    """(n, F, k) small ints -> (n, k) uint8: field f goes to bits ``width * f`` (inverse of quants._bits)."""
    out = torch.zeros(v.shape[0], v.shape[2], dtype=torch.uint8, device=v.device)
    for f in range(v.shape[1]):
        out |= v[:, f, :].to(torch.uint8) << (width * f)
    return out


def _signed_absmax(x: torch.Tensor) -> torch.Tensor:
    """(..., k) -> (..., 1): the element of largest magnitude, with its sign (first one on ties)."""
    return torch.gather(x, -1, x.abs().argmax(dim=-1, keepdim=True))


def _q8_0(x: torch.Tensor) -> torch.Tensor:
    d = x.abs().amax(dim=1, keepdim=True) / 127  # (n, 1)
    qs = _roundf(x * _inverse(d)).to(torch.int8).view(torch.uint8)  # (n, 32)
    return torch.cat([_f16_bytes(d), qs], dim=1)


def _q4_0(x: torch.Tensor) -> torch.Tensor:
    d = _signed_absmax(x) / -8
    q = torch.trunc(x * _inverse(d) + 8.5).clamp(0, 15).to(torch.uint8)  # (n, 32)
    return torch.cat([_f16_bytes(d), q[:, :16] | (q[:, 16:] << 4)], dim=1)


def _q4_1(x: torch.Tensor) -> torch.Tensor:
    mx, mn = x.amax(dim=1, keepdim=True), x.amin(dim=1, keepdim=True)
    d = (mx - mn) / 15
    q = torch.trunc((x - mn) * _inverse(d) + 0.5).clamp(0, 15).to(torch.uint8)
    return torch.cat([_f16_bytes(d), _f16_bytes(mn), q[:, :16] | (q[:, 16:] << 4)], dim=1)


def _five_bit(q: torch.Tensor) -> torch.Tensor:
    """(n, 32) values 0..31 -> (n, 20) bytes: 4 bytes of high bits, then 16 of low nibbles."""
    qh = _pack((q >> 4).view(-1, 4, 8).transpose(1, 2), 1)  # (n, 4): bit j of byte k = value 8k + j
    return torch.cat([qh, (q[:, :16] & 0x0F) | (q[:, 16:] << 4)], dim=1)


def _q5_0(x: torch.Tensor) -> torch.Tensor:
    d = _signed_absmax(x) / -16
    q = torch.trunc(x * _inverse(d) + 16.5).clamp(0, 31).to(torch.uint8)
    return torch.cat([_f16_bytes(d), _five_bit(q)], dim=1)


def _q5_1(x: torch.Tensor) -> torch.Tensor:
    mx, mn = x.amax(dim=1, keepdim=True), x.amin(dim=1, keepdim=True)
    d = (mx - mn) / 31
    q = torch.trunc((x - mn) * _inverse(d) + 0.5).clamp(0, 31).to(torch.uint8)
    return torch.cat([_f16_bytes(d), _f16_bytes(mn), _five_bit(q)], dim=1)


def _super_scale(v: torch.Tensor, levels: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sub-block scales (n, S) -> fp16 super-scale (n, 1) and integer scales (n, S) in 0..levels.

    The integer scales are rounded up, so each sub-block's range is always covered (no clipping).
    """
    # scaled up by one fp16 ulp first, so the stored (rounded) d never falls short of the exact one
    d = (v.amax(dim=1, keepdim=True) / levels * (1 + 2**-10)).to(torch.float16).float()  # (n, 1)
    sc = torch.ceil(v * _inverse(d) - 1e-4).clamp(0, levels)  # (n, S)
    return d, sc


def _min_scale_fit(x: torch.Tensor, q_levels: int, s_levels: int):
    """Fit x (n, S, k) ~ d*sc*q - dmin*m with unsigned q, sc, m. Returns d, dmin (n,1); sc, m (n,S); q."""
    mn = x.amin(dim=2).clamp(max=0)  # (n, S)
    dmin, m = _super_scale(-mn, s_levels)
    offset = (dmin * m).unsqueeze(2)  # (n, S, 1), >= -min of each sub-block
    step_needed = (x.amax(dim=2) + dmin * m) / q_levels  # (n, S)
    d, sc = _super_scale(step_needed, s_levels)
    step = (d * sc).unsqueeze(2)  # (n, S, 1)
    q = torch.round((x + offset) * _inverse(step)).clamp(0, q_levels).to(torch.uint8)
    return d, dmin, sc.to(torch.uint8), m.to(torch.uint8), q


def _k_scales_bytes(sc: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """Eight 6-bit scales and mins (n, 8) each -> the 12 packed bytes of Q4_K/Q5_K."""
    lo_d = sc[:, :4] | ((sc[:, 4:] >> 4) << 6)
    lo_m = m[:, :4] | ((m[:, 4:] >> 4) << 6)
    md = (sc[:, 4:] & 0x0F) | ((m[:, 4:] & 0x0F) << 4)
    return torch.cat([lo_d, lo_m, md], dim=1)


def _q4_k(x: torch.Tensor) -> torch.Tensor:
    n = x.shape[0]
    d, dmin, sc, m, q = _min_scale_fit(x.view(n, 8, 32), 15, 63)
    qs = _pack(q.view(n, 4, 2, 32).reshape(n * 4, 2, 32), 4).view(n, 128)
    return torch.cat([_f16_bytes(d), _f16_bytes(dmin), _k_scales_bytes(sc, m), qs], dim=1)


def _q5_k(x: torch.Tensor) -> torch.Tensor:
    n = x.shape[0]
    d, dmin, sc, m, q = _min_scale_fit(x.view(n, 8, 32), 31, 63)
    qs = _pack((q & 0x0F).view(n * 4, 2, 32), 4).view(n, 128)
    qh = _pack(q >> 4, 1)  # (n, 32): bit s of byte i = sub-block s, element i
    return torch.cat([_f16_bytes(d), _f16_bytes(dmin), _k_scales_bytes(sc, m), qh, qs], dim=1)


def _q2_k(x: torch.Tensor) -> torch.Tensor:
    n = x.shape[0]
    d, dmin, sc, m, q = _min_scale_fit(x.view(n, 16, 16), 3, 15)
    qs = _pack(q.view(n * 2, 4, 32), 2).view(n, 64)
    return torch.cat([sc | (m << 4), qs, _f16_bytes(d), _f16_bytes(dmin)], dim=1)


def _symmetric_fit(
    x: torch.Tensor, q_max: int, s_max: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fit x (n, S, k) ~ d*sc*q with signed q in [-q_max, q_max - 1] and sc in [-s_max, s_max]."""
    sub = _signed_absmax(x).squeeze(2) / -q_max  # (n, S): maps each sub-block's extreme to -q_max
    d = (sub.abs().amax(dim=1, keepdim=True) / s_max).to(torch.float16).float()  # (n, 1)
    sc = torch.round(sub * _inverse(d)).clamp(-s_max, s_max)  # (n, S)
    step = (d * sc).unsqueeze(2)
    q = torch.round(x * _inverse(step)).clamp(-q_max, q_max - 1)  # (n, S, k)
    return d, sc.to(torch.int8), q.to(torch.int8)


def _q3_k(x: torch.Tensor) -> torch.Tensor:
    n = x.shape[0]
    d, sc, q = _symmetric_fit(x.view(n, 16, 16), 4, 31)
    u = (q + 4).to(torch.uint8).view(n, 256)  # 0..7
    hmask = _pack((u >> 2).view(n, 8, 32), 1)  # (n, 32)
    qs = _pack((u & 3).view(n * 2, 4, 32), 2).view(n, 64)
    s = (sc + 32).to(torch.uint8)  # (n, 16), 6 bits each
    low = _pack((s & 0x0F).view(n, 2, 8), 4)  # (n, 8)
    high = _pack((s >> 4).view(n, 4, 4), 2)  # (n, 4)
    return torch.cat([hmask, qs, low, high, _f16_bytes(d)], dim=1)


def _q6_k(x: torch.Tensor) -> torch.Tensor:
    n = x.shape[0]
    d, sc, q = _symmetric_fit(x.view(n, 16, 16), 32, 127)
    u = (q + 32).to(torch.uint8).view(n, 256)  # 0..63
    ql = _pack((u & 0x0F).view(n * 2, 2, 64), 4).view(n, 128)
    qh = _pack((u >> 4).view(n * 2, 4, 32), 2).view(n, 64)
    return torch.cat([ql, qh, sc.view(torch.uint8), _f16_bytes(d)], dim=1)


def _bf16(x: torch.Tensor) -> torch.Tensor:
    n = x.contiguous().view(torch.int32).to(torch.int64) & 0xFFFFFFFF  # (n, 1) as uint32
    quiet = (n & 0xFFFF0000) | (64 << 16)
    n = torch.where((n & 0x7FFFFFFF) > 0x7F800000, quiet, n)  # NaN -> quiet NaN
    n = (n + (0x7FFF + ((n >> 16) & 1))) >> 16  # round to nearest even; 0..0xFFFF
    return torch.where(n >= 0x8000, n - 0x10000, n).to(torch.int16).view(torch.uint8)


# ggml type name -> (n_blocks, block_size) float32 -> (n_blocks, type_size) uint8
QUANTIZERS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "Q8_0": _q8_0,
    "Q4_0": _q4_0,
    "Q4_1": _q4_1,
    "Q5_0": _q5_0,
    "Q5_1": _q5_1,
    "Q2_K": _q2_k,
    "Q3_K": _q3_k,
    "Q4_K": _q4_k,
    "Q5_K": _q5_k,
    "Q6_K": _q6_k,
    "BF16": _bf16,
}
WRITABLE_TYPES: tuple[str, ...] = tuple(sorted(set(QUANTIZERS) | set(PLAIN_DTYPES)))


def quantize(x: torch.Tensor, type_: str | int) -> torch.Tensor:
    """Encode ``x`` (any shape; its last dim a multiple of the block size) as flat uint8 bytes.

    >>> quantize(torch.ones(4, 32), "Q4_0").numel()  # 4 blocks of 18 bytes
    72
    """
    t = ggml_type(type_)
    if t.name in PLAIN_DTYPES and t.name != "BF16":
        return x.detach().to(PLAIN_DTYPES[t.name]).contiguous().view(-1).view(torch.uint8)
    fn = QUANTIZERS.get(t.name)
    if fn is None:
        raise NotImplementedError(
            f"cannot quantize to GGML type {t.name} (id {t.id}); writable types: {', '.join(WRITABLE_TYPES)}"
        )
    if x.ndim == 0 or x.shape[-1] % t.block_size:
        raise ValueError(
            f"cannot quantize a tensor of shape {list(x.shape)} to {t.name}: "
            f"its last dimension must be a multiple of {t.block_size}"
        )
    blocks = x.detach().to(torch.float32).reshape(-1, t.block_size)  # (n_blocks, block_size)
    out = torch.empty(blocks.shape[0], t.type_size, dtype=torch.uint8, device=blocks.device)
    step = max(1, _CHUNK_VALUES // t.block_size)
    for start in range(0, blocks.shape[0], step):
        out[start : start + step] = fn(blocks[start : start + step])
    return out.view(-1)
