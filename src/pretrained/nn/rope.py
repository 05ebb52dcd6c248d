"""Rotary position embeddings (RoPE) and their ``rope_scaling`` variants, computed as the reference does.

The inverse frequencies are plain tensors computed lazily per device (never registered buffers, so a model built
on the meta device needs nothing materialized); cos/sin are computed from the position ids of each call.

>>> import torch
>>> from pretrained.config import PretrainedConfig
>>> cfg = PretrainedConfig(hidden_size=32, num_attention_heads=4, rope_theta=10000.0, max_position_embeddings=64)
>>> rope = RotaryEmbedding(cfg)
>>> cos, sin = rope(torch.arange(5)[None], torch.float32)
>>> cos.shape
torch.Size([1, 5, 8])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

Params = tuple[torch.Tensor, float]  # (inv_freq (dim/2,), attention scaling applied to cos/sin)


def _rotary_dim(config: Any) -> int:
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    return int(head_dim * getattr(config, "partial_rotary_factor", 1.0))


def _base_inv_freq(base: Any, dim: int, device: torch.device | None) -> torch.Tensor:
    exponents = torch.arange(0, dim, 2, dtype=torch.int64).to(device=device, dtype=torch.float) / dim
    return 1.0 / (base**exponents)  # (dim/2,)


def default_rope(config: Any, device: torch.device | None = None, seq_len: Any = None) -> Params:
    return _base_inv_freq(config.rope_theta, _rotary_dim(config), device), 1.0


def linear_rope(config: Any, device: torch.device | None = None, seq_len: Any = None) -> Params:
    inv_freq, scaling = default_rope(config, device)
    return inv_freq / config.rope_scaling["factor"], scaling


def dynamic_ntk_rope(config: Any, device: torch.device | None = None, seq_len: Any = None) -> Params:
    """NTK-aware base stretching for sequences past ``max_position_embeddings`` (none below it)."""
    dim, max_pos = _rotary_dim(config), config.max_position_embeddings
    factor = config.rope_scaling["factor"]
    if seq_len is None:
        seq_len = max_pos
    elif isinstance(seq_len, torch.Tensor):
        seq_len = torch.maximum(seq_len, torch.tensor(max_pos, dtype=seq_len.dtype, device=seq_len.device))
    else:
        seq_len = max(seq_len, max_pos)
    base = config.rope_theta * ((factor * seq_len / max_pos) - (factor - 1)) ** (dim / (dim - 2))
    return _base_inv_freq(base, dim, device), 1.0


def llama3_rope(config: Any, device: torch.device | None = None, seq_len: Any = None) -> Params:
    """Llama 3.1: low frequencies divided by ``factor``, high ones kept, a smooth ramp in between."""
    inv_freq, scaling = default_rope(config, device)
    rs = config.rope_scaling
    factor, low, high = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
    old_len = rs["original_max_position_embeddings"]
    low_wavelen, high_wavelen = old_len / low, old_len / high
    wavelen = 2 * math.pi / inv_freq
    scaled = torch.where(wavelen > low_wavelen, inv_freq / factor, inv_freq)
    smooth = (old_len / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    is_medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
    return torch.where(is_medium, smoothed, scaled), scaling


def yarn_rope(config: Any, device: torch.device | None = None, seq_len: Any = None) -> Params:
    """YaRN: interpolate low frequencies, extrapolate high ones, scale attention by ``attention_factor``."""
    base, dim, rs = config.rope_theta, _rotary_dim(config), config.rope_scaling
    factor = rs["factor"]
    original = rs.get("original_max_position_embeddings") or config.max_position_embeddings
    attention_factor = rs.get("attention_factor")
    if attention_factor is None:
        mscale, mscale_all_dim = rs.get("mscale"), rs.get("mscale_all_dim")
        if mscale and mscale_all_dim:
            attention_factor = float(_yarn_mscale(factor, mscale) / _yarn_mscale(factor, mscale_all_dim))
        else:
            attention_factor = _yarn_mscale(factor)
    beta_fast, beta_slow = rs.get("beta_fast") or 32, rs.get("beta_slow") or 1

    def correction_dim(rotations: float) -> float:
        return (dim * math.log(original / (rotations * 2 * math.pi))) / (2 * math.log(base))

    low, high = correction_dim(beta_fast), correction_dim(beta_slow)
    if rs.get("truncate", True):
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, dim - 1)
    if low == high:
        high += 0.001  # avoid a division by zero
    ramp = ((torch.arange(dim // 2, dtype=torch.float32) - low) / (high - low)).clamp(0, 1)
    pos_freqs = base ** (torch.arange(0, dim, 2).to(device=device, dtype=torch.float) / dim)
    extrapolation = 1 - ramp.to(device=device, dtype=torch.float)
    inv_freq = (1.0 / (factor * pos_freqs)) * (1 - extrapolation) + (1.0 / pos_freqs) * extrapolation
    return inv_freq, attention_factor


def _yarn_mscale(scale: float, mscale: float = 1) -> float:
    return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0


def _original_length(config: Any) -> int:
    return getattr(config, "original_max_position_embeddings", None) or config.max_position_embeddings


def longrope_rope(config: Any, device: torch.device | None = None, seq_len: Any = None) -> Params:
    """LongRoPE (Phi-3): per-frequency factors, ``long_factor`` past the original context, else ``short_factor``."""
    rs, dim = config.rope_scaling, _rotary_dim(config)
    factor, attention_factor = rs.get("factor"), rs.get("attention_factor")
    original = _original_length(config)
    if getattr(config, "original_max_position_embeddings", None):
        factor = config.max_position_embeddings / original
    if attention_factor is None:
        if factor is None or factor <= 1.0:
            attention_factor = 1.0
        else:
            attention_factor = math.sqrt(1 + math.log(factor) / math.log(original))
    ext = rs["long_factor"] if seq_len and seq_len > original else rs["short_factor"]
    ext = torch.tensor(ext, dtype=torch.float32, device=device)
    exponents = torch.arange(0, dim, 2, dtype=torch.int64, device=device).float() / dim
    return 1.0 / (ext * config.rope_theta**exponents), attention_factor


# rope_type -> (inverse-frequency function, keys rope_scaling must hold)
ROPE_TYPES: dict[str, tuple[Callable[..., Params], tuple[str, ...]]] = {
    "default": (default_rope, ()),
    "linear": (linear_rope, ("factor",)),
    "dynamic": (dynamic_ntk_rope, ("factor",)),
    "llama3": (
        llama3_rope,
        ("factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"),
    ),
    "yarn": (yarn_rope, ("factor",)),
    "longrope": (longrope_rope, ("short_factor", "long_factor")),
}


def rope_type_of(config: Any) -> str:
    """``config.rope_scaling``'s type ("rope_type", or the older "type"); "default" without scaling."""
    scaling = getattr(config, "rope_scaling", None)
    if scaling is None:
        return "default"
    if not isinstance(scaling, dict):
        raise ValueError(f"config.rope_scaling must be a dict or null, got {scaling!r}")
    rope_type = scaling.get("rope_type", scaling.get("type", "default"))
    if rope_type not in ROPE_TYPES:
        raise ValueError(
            f"config.rope_scaling type {rope_type!r} is not supported; supported types: {', '.join(ROPE_TYPES)}"
        )
    missing = [k for k in ROPE_TYPES[rope_type][1] if k not in scaling]
    if missing:
        raise ValueError(
            f"config.rope_scaling of type {rope_type!r} lacks {missing} (it has {sorted(scaling)})"
        )
    return rope_type


class RotaryEmbedding:
    """cos/sin tables for ``position_ids``, following ``config.rope_theta`` and ``config.rope_scaling``.

    Not an ``nn.Module``: it holds no weights, only the inverse frequencies per device. "dynamic" scaling keeps the
    reference's state: frequencies are recomputed when a longer sequence arrives and reset below the original length.
    """

    def __init__(self, config: Any) -> None:
        self.config = config
        self.rope_type = rope_type_of(config)
        self.init_fn = ROPE_TYPES[self.rope_type][0]
        self.original_max_len = config.max_position_embeddings
        self.max_len_cached = config.max_position_embeddings
        self._inv_freq: torch.Tensor | None = None
        self._original: torch.Tensor | None = None
        self._long: torch.Tensor | None = None
        self.attention_scaling = 1.0

    def inv_freq(self, device: torch.device) -> torch.Tensor:
        if self._inv_freq is None:
            self._inv_freq, self.attention_scaling = self.init_fn(self.config, device)
            self._original = self._inv_freq
        if self._inv_freq.device != device:
            self._inv_freq = self._inv_freq.to(device)
        return self._inv_freq

    def _longrope_update(self, position_ids: torch.Tensor) -> None:
        original = _original_length(self.config)
        if torch.max(position_ids) + 1 > original:  # past the original context: the long factors
            if self._long is None:
                self._long = self.init_fn(self.config, position_ids.device, seq_len=original + 1)[0]
            self._inv_freq = self._long.to(position_ids.device)
        else:
            self._inv_freq = self._original.to(position_ids.device)

    def _dynamic_update(self, position_ids: torch.Tensor) -> None:
        seq_len = torch.max(position_ids) + 1
        if seq_len > self.max_len_cached:  # growth: stretch the base for the longer sequence
            self._inv_freq, self.attention_scaling = self.init_fn(
                self.config, position_ids.device, seq_len=seq_len
            )
            self.max_len_cached = seq_len
        if (
            seq_len < self.original_max_len and self.max_len_cached > self.original_max_len
        ):  # back to the original
            self._inv_freq = self._original.to(position_ids.device)
            self.max_len_cached = self.original_max_len

    @torch.no_grad()
    def __call__(self, position_ids: torch.Tensor, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """position_ids (B|1, T) -> cos, sin (B|1, T, rotary_dim) in ``dtype`` (computed in float32)."""
        inv_freq = self.inv_freq(position_ids.device)
        if self.rope_type == "dynamic":
            self._dynamic_update(position_ids)
            inv_freq = self._inv_freq
        elif self.rope_type == "longrope":
            self._longrope_update(position_ids)
            inv_freq = self._inv_freq
        freqs = position_ids[:, :, None].float() * inv_freq.float()[None, None, :]  # (B, T, dim/2)
        emb = torch.cat((freqs, freqs), dim=-1)  # (B, T, dim)
        cos, sin = emb.cos() * self.attention_scaling, emb.sin() * self.attention_scaling
        return cos.to(dtype), sin.to(dtype)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rotary_tables(cos: torch.Tensor, sin: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin (B|1, T, hs) -> cos and sign-folded sin (B|1, 1, T, hs) for :func:`rotate`, once per forward.

    ``rotate_half(x) * sin == x.roll(hs/2) * cat(-sin[:hs/2], sin[hs/2:])`` exactly (negation commutes with
    the product), so the per-layer rotation needs no slicing, negation or concatenation.
    """
    half = sin.shape[-1] // 2
    signed = torch.cat((-sin[..., :half], sin[..., half:]), dim=-1)  # (B|1, T, hs)
    return cos[:, None], signed[:, None]


def rotate(x: torch.Tensor, cos: torch.Tensor, signed_sin: torch.Tensor) -> torch.Tensor:
    """x (B, heads, T, hs) rotated by tables from :func:`rotary_tables`: ``x * cos + rotate_half(x) * sin``."""
    return x * cos + x.roll(x.shape[-1] // 2, dims=-1) * signed_sin


def apply_rotary(
    q: torch.Tensor, k: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotate q (B, nh, T, hs) and k (B, n_kv, T, hs) by cos/sin (B|1, T, hs).

    >>> q = k = torch.ones(1, 1, 2, 4); cos = sin = torch.ones(1, 2, 4)
    >>> apply_rotary(q, k, cos, sin)[0][0, 0, 0].tolist()
    [0.0, 0.0, 2.0, 2.0]
    """
    cos, signed_sin = rotary_tables(cos, sin)
    return rotate(q, cos, signed_sin), rotate(k, cos, signed_sin)
