"""Key/value caches for autoregressive decoding: preallocated per layer, grown in chunks, edited in place.

A decoder layer calls ``update(layer_idx, k, v)`` with the new tokens' keys and values and attends over the
returned views of everything cached so far. Nothing is concatenated per step: the buffers are written in place
and only grow (by ``chunk`` tokens) when full, or are sized once with ``max_length``.

>>> import torch
>>> cache = KVCache(num_layers=2)
>>> k = v = torch.zeros(1, 4, 3, 8)  # (B, n_kv_heads, T_new, head_dim)
>>> k_all, v_all = cache.update(0, k, v)
>>> k_all.shape, cache.get_seq_length()
(torch.Size([1, 4, 3, 8]), 3)
"""

from __future__ import annotations

import torch

DEFAULT_CHUNK = 256


class KVCache:
    """Per-layer (B, n_kv_heads, capacity, head_dim) key and value buffers.

    ``max_length`` sizes the buffers up front (no growth while generating up to that many tokens); otherwise they
    are allocated on the first ``update`` and grown by ``chunk`` tokens when full.

    >>> import torch
    >>> cache = KVCache(1, max_length=16)
    >>> _ = cache.update(0, torch.ones(2, 1, 5, 4), torch.ones(2, 1, 5, 4))
    >>> cache.crop(3); cache.get_seq_length()
    3
    >>> cache.reorder(torch.tensor([1, 1])); cache.batch_repeat_interleave(2); cache.batch_size
    4
    """

    def __init__(self, num_layers: int, max_length: int | None = None, chunk: int = DEFAULT_CHUNK) -> None:
        if num_layers < 1:
            raise ValueError(f"KVCache needs num_layers >= 1, got {num_layers}")
        if chunk < 1:
            raise ValueError(f"KVCache chunk must be >= 1, got {chunk}")
        self.num_layers = num_layers
        self.max_length = max_length
        self.chunk = chunk
        self.keys: list[torch.Tensor | None] = [None] * num_layers  # (B, n_kv, capacity, hs) each
        self.values: list[torch.Tensor | None] = [None] * num_layers
        self.lengths = [0] * num_layers

    # -- queries --------------------------------------------------------------------------------------
    def get_seq_length(self, layer_idx: int = 0) -> int:
        """Number of cached tokens in ``layer_idx`` (0 before the first update)."""
        return self.lengths[layer_idx]

    def __len__(self) -> int:
        return self.num_layers

    @property
    def batch_size(self) -> int | None:
        buf = next((b for b in self.keys if b is not None), None)
        return None if buf is None else buf.shape[0]

    def capacity(self, layer_idx: int = 0) -> int:
        buf = self.keys[layer_idx]
        return 0 if buf is None else buf.shape[2]

    def get(self, layer_idx: int) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The cached (keys, values) views of ``layer_idx``, each (B, n_kv, T_cached, hs); None when empty."""
        k, v, n = self.keys[layer_idx], self.values[layer_idx], self.lengths[layer_idx]
        if k is None or v is None or n == 0:
            return None
        return k[:, :, :n], v[:, :, :n]

    # -- writing --------------------------------------------------------------------------------------
    def update(self, layer_idx: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Append k, v (B, n_kv, T_new, hs) to ``layer_idx``; returns views (B, n_kv, T_total, hs) of all tokens."""
        if not 0 <= layer_idx < self.num_layers:
            raise IndexError(f"layer_idx {layer_idx} out of range for a KVCache of {self.num_layers} layers")
        if k.dim() != 4 or k.shape[:3] != v.shape[:3]:
            raise ValueError(
                f"KVCache.update expects k, v of shape (B, n_kv_heads, T, head_dim); got {tuple(k.shape)} and {tuple(v.shape)}"
            )
        n, t = self.lengths[layer_idx], k.shape[2]
        kbuf, vbuf = self.keys[layer_idx], self.values[layer_idx]
        if kbuf is None or vbuf is None:
            kbuf, vbuf = self._allocate(layer_idx, k, v, max(t, self.max_length or 0))
        elif kbuf.shape[0] != k.shape[0] or kbuf.shape[1] != k.shape[1]:
            raise ValueError(
                f"KVCache layer {layer_idx} holds batch {kbuf.shape[0]} x {kbuf.shape[1]} heads; got "
                f"{k.shape[0]} x {k.shape[1]} (reorder / batch_repeat_interleave the cache first)"
            )
        elif n + t > kbuf.shape[2]:
            kbuf, vbuf = self._grow(layer_idx, n + t)
        kbuf[:, :, n : n + t] = k
        vbuf[:, :, n : n + t] = v
        self.lengths[layer_idx] = n + t
        return kbuf[:, :, : n + t], vbuf[:, :, : n + t]

    def _allocate(
        self, layer_idx: int, k: torch.Tensor, v: torch.Tensor, need: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        cap = (
            -(-need // self.chunk) * self.chunk if self.max_length is None or need > self.max_length else need
        )
        B, H = k.shape[:2]
        self.keys[layer_idx] = k.new_empty(B, H, cap, k.shape[3])  # (B, n_kv, capacity, hs)
        self.values[layer_idx] = v.new_empty(B, H, cap, v.shape[3])
        return self.keys[layer_idx], self.values[layer_idx]

    def _grow(self, layer_idx: int, need: int) -> tuple[torch.Tensor, torch.Tensor]:
        old_k, old_v, n = self.keys[layer_idx], self.values[layer_idx], self.lengths[layer_idx]
        cap = -(-need // self.chunk) * self.chunk  # round up to whole chunks
        new_k = old_k.new_empty(*old_k.shape[:2], cap, old_k.shape[3])
        new_v = old_v.new_empty(*old_v.shape[:2], cap, old_v.shape[3])
        new_k[:, :, :n] = old_k[:, :, :n]
        new_v[:, :, :n] = old_v[:, :, :n]
        self.keys[layer_idx], self.values[layer_idx] = new_k, new_v
        return new_k, new_v

    # -- editing (generation strategies) --------------------------------------------------------------
    def reorder(self, beam_idx: torch.Tensor) -> None:
        """Beam search: row i becomes old row ``beam_idx[i]`` (same batch size), in place."""
        for i, (k, v) in enumerate(zip(self.keys, self.values)):
            n = self.lengths[i]
            if k is None or v is None or n == 0:
                continue
            idx = beam_idx.to(k.device)
            k[:, :, :n] = k[:, :, :n].index_select(0, idx)
            v[:, :, :n] = v[:, :, :n].index_select(0, idx)

    def crop(self, length: int) -> None:
        """Keep the first ``length`` tokens (a negative ``length`` drops that many from the end)."""
        for i, n in enumerate(self.lengths):
            keep = n + length if length < 0 else length
            self.lengths[i] = max(0, min(n, keep))

    def batch_repeat_interleave(self, repeats: int) -> None:
        """Repeat every row ``repeats`` times along the batch (num_return_sequences / beams)."""
        self._map_rows(lambda t: t.repeat_interleave(repeats, dim=0))

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        """Keep only the batch rows ``indices``."""
        self._map_rows(lambda t: t[indices.to(t.device)])

    def _map_rows(self, fn) -> None:
        for i, (k, v) in enumerate(zip(self.keys, self.values)):
            if k is not None and v is not None:
                self.keys[i], self.values[i] = fn(k), fn(v)

    def reset(self) -> None:
        """Forget every cached token, keeping the buffers for reuse."""
        self.lengths = [0] * self.num_layers

    def __repr__(self) -> str:
        return (
            f"KVCache(num_layers={self.num_layers}, seq_length={self.lengths[0]}, capacity={self.capacity()})"
        )


class EncoderDecoderCache:
    """A seq2seq decoder's caches: self-attention grows each step; cross-attention is filled once and reused.

    >>> import torch
    >>> cache = EncoderDecoderCache(KVCache(2), KVCache(2))
    >>> cache.cross_attention.get(0) is None  # not filled yet: compute from the encoder output and update
    True
    """

    def __init__(self, self_attention: KVCache, cross_attention: KVCache) -> None:
        self.self_attention = self_attention
        self.cross_attention = cross_attention

    def get_seq_length(self, layer_idx: int = 0) -> int:
        """Decoder tokens seen so far (the self-attention cache's length)."""
        return self.self_attention.get_seq_length(layer_idx)

    def is_cross_filled(self, layer_idx: int) -> bool:
        return self.cross_attention.get_seq_length(layer_idx) > 0

    def reorder(self, beam_idx: torch.Tensor) -> None:
        """Beam search's reorder: ``beam_idx`` only picks among the beams of the same input, whose cross-attention
        keys/values (computed from one encoder output) are identical, so only the self-attention cache moves."""
        self.self_attention.reorder(beam_idx)

    def crop(self, length: int) -> None:
        self.self_attention.crop(length)

    def _cross_group(self) -> int:
        """Decoder rows per cross-attention row: the cross cache may hold one row per run of identical encoder
        rows (beams of one input), which decoder row i reads as row i // group."""
        held, rows = self.cross_attention.batch_size, self.self_attention.batch_size
        return rows // held if held and rows else 1

    def batch_repeat_interleave(self, repeats: int) -> None:
        if self._cross_group() == 1:  # a grouped cross cache stays as it is: its groups grow instead
            self.cross_attention.batch_repeat_interleave(repeats)
        self.self_attention.batch_repeat_interleave(repeats)

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        self.cross_attention.batch_select_indices(indices // self._cross_group())
        self.self_attention.batch_select_indices(indices)

    def __repr__(self) -> str:
        return f"EncoderDecoderCache(self_attention={self.self_attention!r}, cross_attention={self.cross_attention!r})"
