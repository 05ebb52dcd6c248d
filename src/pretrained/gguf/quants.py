"""GGML tensor types and their dequantization in vectorized torch.

Every block format follows ggml (``ggml-quants.c``) and matches ``gguf.quants.dequantize`` bit for bit: the
float operations are done in float32, in the same order. A quantized tensor is a run of blocks; each block
holds ``block_size`` values in ``type_size`` bytes.

>>> import torch
>>> raw = torch.tensor([0, 60] + [0x10] * 32, dtype=torch.uint8)  # one Q8_0 block: d = 1.0 (fp16), qs = 16
>>> dequantize(raw, "Q8_0", 32)[:3]
tensor([16., 16., 16.])
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import NamedTuple

import torch

from .iq_grids import GRIDS, IQ1_DELTA, KSIGNS

QK_K = 256  # values per K-quant super-block


class GGMLType(NamedTuple):
    """One ggml tensor type: its id in the file, name, and block geometry."""

    id: int
    name: str
    block_size: int  # values per block
    type_size: int  # bytes per block


_TYPES = [
    GGMLType(0, "F32", 1, 4),
    GGMLType(1, "F16", 1, 2),
    GGMLType(2, "Q4_0", 32, 2 + 16),
    GGMLType(3, "Q4_1", 32, 2 + 2 + 16),
    GGMLType(6, "Q5_0", 32, 2 + 4 + 16),
    GGMLType(7, "Q5_1", 32, 2 + 2 + 4 + 16),
    GGMLType(8, "Q8_0", 32, 2 + 32),
    GGMLType(9, "Q8_1", 32, 4 + 4 + 32),
    GGMLType(10, "Q2_K", QK_K, 2 + 2 + QK_K // 16 + QK_K // 4),
    GGMLType(11, "Q3_K", QK_K, 2 + QK_K // 4 + QK_K // 8 + 12),
    GGMLType(12, "Q4_K", QK_K, 2 + 2 + QK_K // 2 + 12),
    GGMLType(13, "Q5_K", QK_K, 2 + 2 + QK_K // 2 + QK_K // 8 + 12),
    GGMLType(14, "Q6_K", QK_K, 2 + QK_K // 2 + QK_K // 4 + QK_K // 16),
    GGMLType(15, "Q8_K", QK_K, 4 + QK_K + QK_K // 8),
    GGMLType(16, "IQ2_XXS", QK_K, 2 + QK_K // 4),
    GGMLType(17, "IQ2_XS", QK_K, 2 + QK_K // 4 + QK_K // 32),
    GGMLType(18, "IQ3_XXS", QK_K, 2 + QK_K // 4 + QK_K // 8),
    GGMLType(19, "IQ1_S", QK_K, 2 + QK_K // 8 + QK_K // 16),
    GGMLType(20, "IQ4_NL", 32, 2 + 16),
    GGMLType(21, "IQ3_S", QK_K, 2 + QK_K // 4 + QK_K // 8 + QK_K // 32 + 4),
    GGMLType(22, "IQ2_S", QK_K, 2 + QK_K // 4 + QK_K // 16),
    GGMLType(23, "IQ4_XS", QK_K, 2 + 2 + QK_K // 2 + QK_K // 64),
    GGMLType(24, "I8", 1, 1),
    GGMLType(25, "I16", 1, 2),
    GGMLType(26, "I32", 1, 4),
    GGMLType(27, "I64", 1, 8),
    GGMLType(28, "F64", 1, 8),
    GGMLType(29, "IQ1_M", QK_K, QK_K // 8 + QK_K // 16 + QK_K // 32),
    GGMLType(30, "BF16", 1, 2),
    GGMLType(34, "TQ1_0", QK_K, 2 + 4 * 13),
    GGMLType(35, "TQ2_0", QK_K, 2 + 64),
    GGMLType(39, "MXFP4", 32, 1 + 16),
    GGMLType(40, "NVFP4", 64, 4 + 32),
]
GGML_TYPES: dict[int, GGMLType] = {t.id: t for t in _TYPES}
GGML_TYPES_BY_NAME: dict[str, GGMLType] = {t.name: t for t in _TYPES}

# plain element types: ggml name -> torch dtype of one stored element
PLAIN_DTYPES: dict[str, torch.dtype] = {
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "F64": torch.float64,
    "I8": torch.int8,
    "I16": torch.int16,
    "I32": torch.int32,
    "I64": torch.int64,
}

_CHUNK_VALUES = 1 << 22  # values decoded per step: bounds the temporaries


def _f16(b: torch.Tensor) -> torch.Tensor:
    """(n, 2) uint8 -> (n, 1) float32, read as little-endian fp16."""
    return b.contiguous().view(torch.float16).float()


def _nibbles(qs: torch.Tensor) -> torch.Tensor:
    """(n, k) uint8 -> (n, 2k): all low nibbles, then all high nibbles (ggml's order within a block)."""
    return torch.cat([qs & 0x0F, qs >> 4], dim=-1)


def _bits(b: torch.Tensor, width: int) -> torch.Tensor:
    """(..., k) uint8 -> (..., 8 // width, k): fields of ``width`` bits, lowest field first."""
    shifts = torch.arange(0, 8, width, dtype=torch.uint8, device=b.device).view(-1, 1)  # (8 // width, 1)
    return (b.unsqueeze(-2) >> shifts) & ((1 << width) - 1)


def _high_bits32(b: torch.Tensor) -> torch.Tensor:
    """(n, 4) uint8 read as a little-endian uint32 -> (n, 32) uint8 holding its bits 0..31."""
    shifts = torch.arange(8, dtype=torch.uint8, device=b.device)  # (8,)
    return ((b.unsqueeze(-1) >> shifts) & 1).reshape(b.shape[0], 32)


def _q4_0(blocks: torch.Tensor) -> torch.Tensor:
    d = _f16(blocks[:, :2])  # (n, 1)
    q = _nibbles(blocks[:, 2:]).to(torch.int8) - 8  # (n, 32)
    return d * q.float()


def _q4_1(blocks: torch.Tensor) -> torch.Tensor:
    d, m = _f16(blocks[:, :2]), _f16(blocks[:, 2:4])  # (n, 1) each
    q = _nibbles(blocks[:, 4:]).float()  # (n, 32)
    return (d * q) + m


def _q5_0(blocks: torch.Tensor) -> torch.Tensor:
    d = _f16(blocks[:, :2])
    q = _nibbles(blocks[:, 6:]) | (_high_bits32(blocks[:, 2:6]) << 4)  # (n, 32)
    return d * (q.to(torch.int8) - 16).float()


def _q5_1(blocks: torch.Tensor) -> torch.Tensor:
    d, m = _f16(blocks[:, :2]), _f16(blocks[:, 2:4])
    q = _nibbles(blocks[:, 8:]) | (_high_bits32(blocks[:, 4:8]) << 4)  # (n, 32)
    return (d * q.float()) + m


def _q8_0(blocks: torch.Tensor) -> torch.Tensor:
    d = _f16(blocks[:, :2])
    return blocks[:, 2:].contiguous().view(torch.int8).float() * d  # (n, 32)


def _q2_k(blocks: torch.Tensor) -> torch.Tensor:
    n = blocks.shape[0]
    scales, qs = blocks[:, :16], blocks[:, 16:80]
    d, dmin = _f16(blocks[:, 80:82]), _f16(blocks[:, 82:84])
    dl = (d * (scales & 0x0F).float()).view(n, 16, 1)
    ml = (dmin * (scales >> 4).float()).view(n, 16, 1)
    q = _bits(qs.reshape(n, 2, 32), 2).reshape(n, 16, 16).float()  # (n, 2, 4, 32) -> 16 groups of 16
    return (dl * q - ml).reshape(n, QK_K)


def _q3_k(blocks: torch.Tensor) -> torch.Tensor:
    n = blocks.shape[0]
    hmask, qs, packed = blocks[:, :32], blocks[:, 32:96], blocks[:, 96:108]
    d = _f16(blocks[:, 108:110])
    low = _bits(packed[:, :8], 4).reshape(n, 16)  # (n, 2, 8): low nibbles of the 6-bit scales
    high = _bits(packed[:, 8:], 2).reshape(n, 16)  # (n, 4, 4): their top 2 bits
    scales = ((low | (high << 4)).to(torch.int8) - 32).float()  # (n, 16)
    dl = (d * scales).view(n, 16, 1)
    ql = _bits(qs.reshape(n, 2, 32), 2).reshape(n, 16, 16)
    qh = _bits(hmask.reshape(n, 1, 32), 1).reshape(n, 16, 16) ^ 1  # a set bit means "no -4 offset"
    q = (ql.to(torch.int8) - (qh << 2).to(torch.int8)).float()
    return (dl * q).reshape(n, QK_K)


def _k_scale_min(packed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Q4_K/Q5_K: 12 bytes -> eight 6-bit scales and eight 6-bit mins, each (n, 8) uint8."""
    d, m, md = packed[:, 0:4], packed[:, 4:8], packed[:, 8:12]
    sc = torch.cat([d & 0x3F, (md & 0x0F) | ((d >> 2) & 0x30)], dim=-1)
    mn = torch.cat([m & 0x3F, (md >> 4) | ((m >> 2) & 0x30)], dim=-1)
    return sc, mn


def _q4_k(blocks: torch.Tensor) -> torch.Tensor:
    n = blocks.shape[0]
    d, dmin = _f16(blocks[:, :2]), _f16(blocks[:, 2:4])
    sc, mn = _k_scale_min(blocks[:, 4:16])
    dl = (d * sc.float()).view(n, 8, 1)
    ml = (dmin * mn.float()).view(n, 8, 1)
    q = _bits(blocks[:, 16:].reshape(n, 4, 32), 4).reshape(n, 8, 32).float()
    return (dl * q - ml).reshape(n, QK_K)


def _q5_k(blocks: torch.Tensor) -> torch.Tensor:
    n = blocks.shape[0]
    d, dmin = _f16(blocks[:, :2]), _f16(blocks[:, 2:4])
    sc, mn = _k_scale_min(blocks[:, 4:16])
    dl = (d * sc.float()).view(n, 8, 1)
    ml = (dmin * mn.float()).view(n, 8, 1)
    ql = _bits(blocks[:, 48:].reshape(n, 4, 32), 4).reshape(n, 8, 32)
    qh = _bits(blocks[:, 16:48].reshape(n, 1, 32), 1).reshape(n, 8, 32)
    q = (ql | (qh << 4)).float()
    return (dl * q - ml).reshape(n, QK_K)


def _q6_k(blocks: torch.Tensor) -> torch.Tensor:
    n = blocks.shape[0]
    ql, qh, scales = blocks[:, :128], blocks[:, 128:192], blocks[:, 192:208]
    d = _f16(blocks[:, 208:210])
    dl = (d * scales.contiguous().view(torch.int8).float()).view(n, 16, 1)
    low = _bits(ql.reshape(n, 2, 64), 4).reshape(n, 8, 32)
    high = _bits(qh.reshape(n, 2, 32), 2).reshape(n, 8, 32)
    q = ((low | (high << 4)).to(torch.int8) - 32).reshape(n, 16, 16).float()
    return (dl * q).reshape(n, QK_K)


def _base3_digits(packed: torch.Tensor, n_digits: int) -> torch.Tensor:
    """TQ1_0: (n, k) uint8 of fixed-point base-3 numbers -> (n, n_digits * k) trits in {-1, 0, 1}, digit-major."""
    powers = torch.tensor([1, 3, 9, 27, 81][:n_digits], dtype=torch.uint8, device=packed.device).view(-1, 1)
    shifted = packed.unsqueeze(-2) * powers  # (n, n_digits, k): uint8 products wrap, as in ggml
    return ((shifted.to(torch.int16) * 3) >> 8).to(torch.int8).reshape(packed.shape[0], -1) - 1


def _tq1_0(blocks: torch.Tensor) -> torch.Tensor:
    qs, qh, d = blocks[:, :48], blocks[:, 48:52], _f16(blocks[:, 52:54])
    q = torch.cat([_base3_digits(qs[:, :32], 5), _base3_digits(qs[:, 32:], 5), _base3_digits(qh, 4)], dim=-1)
    return d * q.float()  # (n, 256)


def _tq2_0(blocks: torch.Tensor) -> torch.Tensor:
    n = blocks.shape[0]
    d = _f16(blocks[:, 64:66])
    q = _bits(blocks[:, :64].reshape(n, 2, 32), 2).reshape(n, QK_K).to(torch.int8) - 1
    return d * q.float()


# E2M1 values, doubled (MXFP4 and NVFP4 halve their scales to match)
_FP4_DOUBLED = (0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12)


def _fp4(q: torch.Tensor) -> torch.Tensor:
    return torch.tensor(_FP4_DOUBLED, dtype=torch.float32, device=q.device)[q.long()]


def _mxfp4(blocks: torch.Tensor) -> torch.Tensor:
    n = blocks.shape[0]
    e = blocks[:, :1].to(torch.int32)  # (n, 1) E8M0 exponent; ggml_e8m0_to_fp32_half
    bits = torch.where(e < 2, torch.full_like(e, 0x00200000) << e, (e - 1) << 23)
    d = bits.view(torch.float32)
    q = _bits(blocks[:, 1:].reshape(n, 1, 16), 4).reshape(n, 32)
    return d * _fp4(q)


def _ue4m3_half(x: torch.Tensor) -> torch.Tensor:
    """Unsigned E4M3 scale bytes (bias 7) -> float32, halved (the doubled FP4 values' convention)."""
    exp = (x >> 3).to(torch.int32) & 0xF
    man = (x & 0x7).float()
    raw = torch.where(exp == 0, man * 2.0**-9, (1.0 + man / 8.0) * torch.exp2(exp.float() - 7))
    return torch.where((x == 0) | (x == 0x7F), torch.zeros_like(raw), raw * 0.5)


def _nvfp4(blocks: torch.Tensor) -> torch.Tensor:
    n = blocks.shape[0]
    d = _ue4m3_half(blocks[:, :4]).view(n, 4, 1)  # one scale per 16 values
    q = _bits(blocks[:, 4:].reshape(n, 4, 8), 4).reshape(n, 4, 16)  # low nibbles, then high
    return (d * _fp4(q)).reshape(n, 64)


# IQ4_NL / IQ4_XS: a non-linear 4-bit grid
_IQ4_VALUES = (-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113)


def _iq4(q: torch.Tensor) -> torch.Tensor:
    return torch.tensor(_IQ4_VALUES, dtype=torch.float32, device=q.device)[q.long()]


def _iq4_nl(blocks: torch.Tensor) -> torch.Tensor:
    d = _f16(blocks[:, :2])  # (n, 1)
    return d * _iq4(_nibbles(blocks[:, 2:]))  # (n, 32)


def _iq4_xs(blocks: torch.Tensor) -> torch.Tensor:
    n = blocks.shape[0]
    d = _f16(blocks[:, :2])
    high = (
        blocks[:, 2:4].contiguous().view(torch.int16).to(torch.int32) & 0xFFFF
    )  # (n, 1): 2 bits per sub-block
    shifts = torch.arange(0, 16, 2, dtype=torch.int32, device=blocks.device)  # (8,)
    scales_h = (high >> shifts) & 0x03  # (n, 8)
    scales_l = _bits(blocks[:, 4:8], 4).transpose(-1, -2).reshape(n, 8).to(torch.int32)  # byte-major nibbles
    scales = ((scales_l | (scales_h << 4)) - 32).float()
    dl = (d * scales).view(n, 8, 1)
    q = _bits(blocks[:, 8:].reshape(n, 8, 16), 4).reshape(n, 8, 32)  # per sub-block: low nibbles, then high
    return (dl * _iq4(q)).reshape(n, QK_K)


@functools.cache
def iq_grid(name: str) -> torch.Tensor:
    """The lookup grid of IQ type ``name`` as a (rows, width) float32 tensor, unpacked once.

    >>> iq_grid("IQ2_XXS").shape
    torch.Size([256, 8])
    """
    rows, width, values, packed = GRIDS[name]
    raw = torch.tensor(list(bytes.fromhex(packed.decode())), dtype=torch.uint8)
    bits = max(1, math.ceil(math.log2(len(values))))
    per_byte = 8 // bits
    shifts = torch.arange(0, 8, 8 // per_byte, dtype=torch.uint8)  # (per_byte,), as gguf-py lays them out
    idx = ((raw.view(-1, 1) >> shifts) & ((1 << bits) - 1)).reshape(-1)
    return torch.tensor(values, dtype=torch.float32)[idx.long()].view(rows, width)


def _u32(b: torch.Tensor) -> torch.Tensor:
    """(n, 4k) uint8 -> (n, k) int64 holding the little-endian uint32 values."""
    return b.contiguous().view(torch.int32).to(torch.int64) & 0xFFFFFFFF


def _u16(b: torch.Tensor) -> torch.Tensor:
    """(n, 2k) uint8 -> (n, k) int64 holding the little-endian uint16 values."""
    return b.contiguous().view(torch.int16).to(torch.int64) & 0xFFFF


def _sign_bits(b: torch.Tensor) -> torch.Tensor:
    """(...,) uint8 -> (..., 8) float32: bit i set means -1, clear means +1."""
    bit = (b.unsqueeze(-1) >> torch.arange(8, dtype=torch.uint8, device=b.device)) & 1
    return 1.0 - 2.0 * bit.float()


def _ksigns(seven_bits: torch.Tensor) -> torch.Tensor:
    """Indices into the even-parity sign table -> (..., 8) float32 signs."""
    table = torch.tensor(list(KSIGNS), dtype=torch.uint8, device=seven_bits.device)
    return _sign_bits(table[seven_bits])


def _low_high_nibbles(b: torch.Tensor) -> torch.Tensor:
    """(n, k) uint8 -> (n, 2k): each byte's low nibble, then its high one (byte-major)."""
    return torch.stack([b & 0x0F, b >> 4], dim=-1).reshape(b.shape[0], -1)


def _iq2_xxs(blocks: torch.Tensor) -> torch.Tensor:
    n = blocks.shape[0]
    d = _f16(blocks[:, :2])
    aux = _u32(blocks[:, 2:]).view(n, 8, 2)  # (n, 8, [grid bytes, signs + scale])
    db = (d * (0.5 + (aux[..., 1] >> 28).float()) * 0.25).view(n, 8, 1, 1)
    shifts = torch.tensor([0, 7, 14, 21], device=blocks.device)
    signs = _ksigns(((aux[..., 1].unsqueeze(-1) >> shifts) & 0x7F).long())  # (n, 8, 4, 8)
    idx = blocks[:, 2:].reshape(n, 8, 8)[..., :4].long()  # (n, 8, 4): the grid bytes of each pair
    return (db * iq_grid("IQ2_XXS")[idx] * signs).reshape(n, QK_K)


def _iq2_xs(blocks: torch.Tensor) -> torch.Tensor:
    n = blocks.shape[0]
    d = _f16(blocks[:, :2])
    qs = _u16(blocks[:, 2:66])  # (n, 32)
    scales = _low_high_nibbles(blocks[:, 66:74]).float()  # (n, 16)
    db = (d * (0.5 + scales) * 0.25).view(n, 16, 1, 1)
    signs = _ksigns(qs >> 9).view(n, 16, 2, 8)
    grid = iq_grid("IQ2_XS")[qs & 511].view(n, 16, 2, 8)
    return (db * grid * signs).reshape(n, QK_K)


def _iq2_s(blocks: torch.Tensor) -> torch.Tensor:
    n = blocks.shape[0]
    d = _f16(blocks[:, :2])
    qs, sign_bytes, qh, scales = blocks[:, 2:34], blocks[:, 34:66], blocks[:, 66:74], blocks[:, 74:82]
    db = (d * (0.5 + _low_high_nibbles(scales).float()) * 0.25).view(n, 16, 1, 1)
    signs = _sign_bits(sign_bytes).view(n, 16, 2, 8)
    high = _bits(qh, 2).transpose(-1, -2).reshape(n, 32).long()  # 2 bits per grid index, byte-major
    grid = iq_grid("IQ2_S")[qs.long() | (high << 8)].view(n, 16, 2, 8)
    return (db * grid * signs).reshape(n, QK_K)


def _iq3_xxs(blocks: torch.Tensor) -> torch.Tensor:
    n = blocks.shape[0]
    d = _f16(blocks[:, :2])
    qs, scales = blocks[:, 2:66], _u32(blocks[:, 66:98])  # (n, 64), (n, 8)
    db = (d * (0.5 + (scales >> 28).float()) * 0.5).view(n, 8, 1, 1)
    shifts = torch.tensor([0, 7, 14, 21], device=blocks.device)
    signs = _ksigns(((scales.unsqueeze(-1) >> shifts) & 0x7F).long())  # (n, 8, 4, 8)
    grid = iq_grid("IQ3_XXS")[qs.long()].view(n, 8, 4, 8)
    return (db * grid * signs).reshape(n, QK_K)


def _iq3_s(blocks: torch.Tensor) -> torch.Tensor:
    n = blocks.shape[0]
    d = _f16(blocks[:, :2])
    qs, qh, sign_bytes, scales = blocks[:, 2:66], blocks[:, 66:74], blocks[:, 74:106], blocks[:, 106:110]
    db = (d * (1 + 2 * _low_high_nibbles(scales).long()).float()).view(n, 8, 1, 1)
    signs = _sign_bits(sign_bytes).view(n, 8, 4, 8)
    high = _bits(qh, 1).transpose(-1, -2).reshape(n, 64).long()  # 1 bit per grid index, byte-major
    grid = iq_grid("IQ3_S")[qs.long() | (high << 8)].view(n, 8, 4, 8)
    return (db * grid * signs).reshape(n, QK_K)


def _iq1_s(blocks: torch.Tensor) -> torch.Tensor:
    n = blocks.shape[0]
    d = _f16(blocks[:, :2])
    qs, qh = blocks[:, 2:34], _u16(blocks[:, 34:50])  # (n, 32), (n, 8)
    dl = (d * (2 * ((qh >> 12) & 7) + 1).float()).view(n, 8, 1, 1)
    delta = torch.where((qh & 0x8000) == 0, IQ1_DELTA, -IQ1_DELTA).float().view(n, 8, 1, 1)
    shifts = torch.tensor([0, 3, 6, 9], device=blocks.device)
    idx = qs.long() | (((qh.unsqueeze(-1) >> shifts) & 7) << 8).view(n, 32)
    grid = iq_grid("IQ1_S")[idx].view(n, 8, 4, 8)
    return (dl * (grid + delta)).reshape(n, QK_K)


def _iq1_m(blocks: torch.Tensor) -> torch.Tensor:
    n = blocks.shape[0]
    qs, qh, scales = blocks[:, :32], blocks[:, 32:48], _u16(blocks[:, 48:56])  # scales: (n, 4)
    top = (scales & 0xF000) >> torch.tensor([12, 8, 4, 0], device=blocks.device)  # the fp16 scale, in 4 parts
    d = (top[:, 0] | top[:, 1] | top[:, 2] | top[:, 3]).to(torch.int16).view(torch.float16).float().view(n, 1)
    sub = (scales.unsqueeze(-1) >> torch.tensor([0, 3, 6, 9], device=blocks.device)) & 7  # (n, 4, 4)
    dl = (d * (2 * sub.reshape(n, 16) + 1).float()).view(n, 8, 2, 1, 1)
    halves = _low_high_nibbles(qh).view(n, 16, 2).long()  # per grid index: 3 high bits + the delta sign
    idx = qs.long() | ((halves & 7) << 8).view(n, 32)
    delta = torch.where((halves & 8) == 0, IQ1_DELTA, -IQ1_DELTA).float().view(n, 8, 2, 2, 1)
    grid = iq_grid("IQ1_S")[idx].view(n, 8, 2, 2, 8)
    return (dl * (grid + delta)).reshape(n, QK_K)


def _bf16(raw: torch.Tensor) -> torch.Tensor:
    bits = raw.contiguous().view(torch.int16).to(torch.int32) << 16  # (n, 1)
    return bits.view(torch.float32)


# ggml type name -> (n_blocks, type_size) uint8 -> (n_blocks, block_size) float32
DEQUANTIZERS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "Q4_0": _q4_0,
    "Q4_1": _q4_1,
    "Q5_0": _q5_0,
    "Q5_1": _q5_1,
    "Q8_0": _q8_0,
    "Q2_K": _q2_k,
    "Q3_K": _q3_k,
    "Q4_K": _q4_k,
    "Q5_K": _q5_k,
    "Q6_K": _q6_k,
    "TQ1_0": _tq1_0,
    "TQ2_0": _tq2_0,
    "MXFP4": _mxfp4,
    "NVFP4": _nvfp4,
    "IQ4_NL": _iq4_nl,
    "IQ4_XS": _iq4_xs,
    "IQ2_XXS": _iq2_xxs,
    "IQ2_XS": _iq2_xs,
    "IQ2_S": _iq2_s,
    "IQ3_XXS": _iq3_xxs,
    "IQ3_S": _iq3_s,
    "IQ1_S": _iq1_s,
    "IQ1_M": _iq1_m,
    "BF16": _bf16,
}
SUPPORTED_TYPES: tuple[str, ...] = tuple(sorted(set(DEQUANTIZERS) | set(PLAIN_DTYPES)))


def ggml_type(type_: int | str) -> GGMLType:
    """Look up a ggml type by id or name; raise naming the supported ones when it is unknown.

    >>> ggml_type("Q4_K").block_size
    256
    """
    known = GGML_TYPES.get(type_) if isinstance(type_, int) else GGML_TYPES_BY_NAME.get(str(type_).upper())
    if known is None:
        raise ValueError(f"unknown GGML tensor type {type_!r}; supported types: {', '.join(SUPPORTED_TYPES)}")
    return known


def dequantize(
    raw: torch.Tensor, type_: int | str, n_elements: int, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """Decode ``raw`` (flat uint8 bytes of one tensor) to a flat tensor of ``n_elements`` values.

    >>> raw = torch.tensor([1.5, -2.0]).view(torch.uint8)
    >>> dequantize(raw, "F32", 2)
    tensor([ 1.5000, -2.0000])
    """
    t = ggml_type(type_)
    if t.name in PLAIN_DTYPES and t.name != "BF16":
        return raw.view(PLAIN_DTYPES[t.name]).to(dtype, copy=True)
    if t.name == "BF16" and dtype == torch.bfloat16:
        return raw.view(torch.bfloat16).clone()
    fn = DEQUANTIZERS.get(t.name)
    if fn is None:
        raise NotImplementedError(
            f"GGML tensor type {t.name} (id {t.id}) cannot be dequantized yet; "
            f"supported types: {', '.join(SUPPORTED_TYPES)}"
        )
    blocks = raw.view(-1, t.type_size)  # (n_blocks, type_size)
    out = torch.empty(blocks.shape[0], t.block_size, dtype=dtype, device=raw.device)  # (n_blocks, block_size)
    step = max(1, _CHUNK_VALUES // t.block_size)
    for start in range(0, blocks.shape[0], step):
        out[start : start + step] = fn(blocks[start : start + step])
    return out.view(-1)[:n_elements]
