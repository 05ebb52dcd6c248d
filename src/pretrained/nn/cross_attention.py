"""Encoder-decoder attention: decoder self-attention with a growing KV cache, and cross-attention over the encoder
output whose keys/values are computed once per generation and reused from the cache.

``Seq2SeqAttention`` is the BART-family block (``q_proj``/``k_proj``/``v_proj``/``out_proj``, as the checkpoints
name them), used by BART, mBART and Marian for encoder self-attention, decoder self-attention and cross-attention.
``self_attention_kv`` / ``cross_attention_kv`` hold the cache logic, shared with T5's attention.

>>> import torch
>>> attn = Seq2SeqAttention(dim=8, n_heads=2, layer_idx=0)
>>> attn(torch.zeros(1, 3, 8))[0].shape
torch.Size([1, 3, 8])
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from .attention import attend
from .kv_cache import EncoderDecoderCache
from .linear import Linear

KV = tuple[torch.Tensor, torch.Tensor]


def self_attention_kv(
    cache: EncoderDecoderCache | None, layer_idx: int, k: torch.Tensor, v: torch.Tensor
) -> KV:
    """Append the new tokens' k, v (B, nh, T_new, hs) to the self-attention cache; all cached k, v back."""
    if cache is None:
        return k, v
    return cache.self_attention.update(layer_idx, k, v)  # (B, nh, past + T_new, hs) each


def cross_attention_kv(cache: EncoderDecoderCache | None, layer_idx: int, project: Callable[[], KV]) -> KV:
    """Cross-attention k, v: from the cache once filled, else ``project()``-ed from the encoder output (and cached)."""
    if cache is None:
        return project()
    cached = cache.cross_attention.get(layer_idx)
    if cached is not None:
        return cached
    k, v = project()  # (B, nh, S, hs) each
    return cache.cross_attention.update(layer_idx, k, v)


class Seq2SeqAttention(nn.Module):
    """Multi-head attention with biased projections; self-attention when ``forward`` gets no ``kv_states``.

    ``layer_idx`` picks this layer's slot in an ``EncoderDecoderCache``; the encoder passes no cache.
    """

    def __init__(
        self, *, dim: int, n_heads: int, layer_idx: int, dropout: float = 0.0, bias: bool = True
    ) -> None:
        super().__init__()
        if dim % n_heads:
            raise ValueError(f"d_model {dim} is not a multiple of the number of attention heads {n_heads}")
        self.n_heads, self.head_dim, self.layer_idx, self.dropout = (
            n_heads,
            dim // n_heads,
            layer_idx,
            dropout,
        )
        self.k_proj = Linear(dim, dim, bias=bias)
        self.v_proj = Linear(dim, dim, bias=bias)
        self.q_proj = Linear(dim, dim, bias=bias)
        self.out_proj = Linear(dim, dim, bias=bias)

    def heads(self, x: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        return x.view(B, T, self.n_heads, self.head_dim).transpose(1, 2)  # (B, nh, T, hs)

    def forward(
        self,
        x: torch.Tensor,
        kv_states: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        cache: EncoderDecoderCache | None = None,
        is_causal: bool = False,
        need_weights: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        B, T, C = x.shape
        q = self.heads(self.q_proj(x))  # (B, nh, T, hs)
        if kv_states is None:
            k, v = self_attention_kv(
                cache, self.layer_idx, self.heads(self.k_proj(x)), self.heads(self.v_proj(x))
            )
        else:
            k, v = cross_attention_kv(
                cache,
                self.layer_idx,
                lambda: (self.heads(self.k_proj(kv_states)), self.heads(self.v_proj(kv_states))),
            )
        p = self.dropout if self.training else 0.0
        y, w = attend(q, k, v, mask, dropout_p=p, is_causal=is_causal, need_weights=need_weights)
        return self.out_proj(y.transpose(1, 2).reshape(B, T, C)), w  # (B, T, C)
