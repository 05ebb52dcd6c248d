"""Encoder-decoder attention: decoder self-attention with a growing KV cache, and cross-attention over the encoder
output whose keys/values are computed once per generation and reused from the cache.

``Seq2SeqAttention`` is the BART-family block (``q_proj``/``k_proj``/``v_proj``/``out_proj``, as the checkpoints
name them), used by BART, mBART and Marian for encoder self-attention, decoder self-attention and cross-attention.
``self_attention_kv`` / ``cross_attention_kv`` hold the cache logic, shared with T5's attention.

Beam search and ``num_return_sequences`` repeat each input's encoder output for every beam. ``cross_source`` finds
such runs of identical rows when the cross-attention cache is filled and keeps one row per run, so the keys and
values are projected, stored and read once per input instead of once per beam; ``attend_grouped`` lets the
queries of a run share their row of keys and values (the same math, a quarter of the memory traffic at 4 beams).

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


def shared_rows(states: torch.Tensor, mask: torch.Tensor | None) -> int:
    """Size g of the runs of identical rows in ``states`` (B, S, C) and ``mask`` (B, ..., S) (beams of one input
    are repeated g times, row after row); 1 when rows differ."""
    B = states.shape[0]
    g = 1
    while g < B and torch.equal(states[g], states[0]) and (mask is None or torch.equal(mask[g], mask[0])):
        g += 1
    if g == 1 or B % g:
        return 1
    for t in (states, mask):
        if t is not None:
            runs = t.unflatten(0, (B // g, g))  # (B/g, g, ...)
            if not torch.equal(runs, runs[:, :1].expand_as(runs)):
                return 1
    return g


def cross_source(
    cache: EncoderDecoderCache | None, states: torch.Tensor, mask: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The encoder states (B, S, C) and additive mask (B, 1, 1, S) the cached cross-attention reads: one row per
    run of identical rows (see ``shared_rows``), as many as the filled cache holds."""
    if cache is None or states.shape[0] == 1:
        return states, mask
    held = cache.cross_attention.batch_size
    if held is None:
        g = shared_rows(states, mask)
    elif states.shape[0] % held:
        raise ValueError(
            f"the cross-attention cache holds {held} encoder rows but the decoder batch is {states.shape[0]}; "
            "pass the encoder output the cache was filled from (or a fresh cache)"
        )
    else:
        g = states.shape[0] // held
    if g == 1:
        return states, mask
    return states[::g], None if mask is None else mask[::g]  # (B/g, S, C), (B/g, 1, 1, S)


def attend_grouped(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None, **kw
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``attend`` where k, v (and mask) hold one row per run of g = B / B_kv consecutive query rows
    (cross-attention over a shared encoder output). q: (B, nh, T, hs); k, v: (B_kv, nh, S, hs)."""
    B, nh, T, hs = q.shape
    g = B // k.shape[0]
    if g == 1:
        return attend(q, k, v, mask, **kw)
    q = q.unflatten(0, (-1, g)).transpose(1, 2).reshape(-1, nh, g * T, hs)  # (B/g, nh, g*T, hs)
    y, w = attend(q, k, v, mask, **kw)

    def ungroup(t: torch.Tensor) -> torch.Tensor:  # (B/g, nh, g*T, X) -> (B, nh, T, X)
        return t.unflatten(2, (g, T)).transpose(1, 2).flatten(0, 1)

    return ungroup(y), None if w is None else ungroup(w)


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
        y, w = attend_grouped(q, k, v, mask, dropout_p=p, is_causal=is_causal, need_weights=need_weights)
        return self.out_proj(y.transpose(1, 2).reshape(B, T, C)), w  # (B, T, C)
