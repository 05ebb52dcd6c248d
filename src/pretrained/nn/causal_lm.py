"""The parts every decoder-only LM shares: cache set-up, default positions, causal masks, attention, LM loss.

Masks are boolean (True = attend) and built only when needed: with no padding and no sliding window a prefill uses
SDPA's ``is_causal`` and a one-token decode step uses no mask at all. A padded query row that sees no key gets a
zero output, as the reference's SDPA path does.

>>> import torch
>>> plan = AttentionPlan(torch.tensor([[0, 1, 1]]), q_len=3, kv_len=3, device=torch.device("cpu"))
>>> mask, is_causal = plan.get()
>>> mask[0, 0].int().tolist(), is_causal
([[0, 0, 0], [0, 1, 0], [0, 1, 1]], False)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from .kv_cache import KVCache


class AttentionPlan:
    """The (mask, is_causal) pair SDPA needs for one forward, per sliding window, built lazily and reused by layers.

    ``attention_mask`` is the (B, past + new) 1/0 padding mask (or None); ``q_len`` new tokens follow
    ``kv_len - q_len`` cached ones.
    """

    def __init__(
        self,
        attention_mask: torch.Tensor | None,
        *,
        q_len: int,
        kv_len: int,
        device: torch.device,
        padded: bool | None = None,
    ) -> None:
        self.attention_mask = attention_mask
        self.q_len, self.kv_len, self.device = q_len, kv_len, device
        if padded is None:
            padded = attention_mask is not None and not bool(attention_mask.all())
        self.padded = padded
        self._built: dict[int | None, tuple[torch.Tensor | None, bool]] = {}

    def get(self, sliding_window: int | None = None) -> tuple[torch.Tensor | None, bool]:
        """(bool mask (B|1, 1, q_len, kv_len) or None, is_causal) for layers with this ``sliding_window``."""
        if sliding_window not in self._built:
            self._built[sliding_window] = self._build(sliding_window)
        return self._built[sliding_window]

    def _build(self, window: int | None) -> tuple[torch.Tensor | None, bool]:
        T, K = self.q_len, self.kv_len
        windowed = window is not None and K > window
        if not self.padded and not windowed:
            if T == 1:
                return None, False  # a decode step sees every cached key
            if T == K:
                return None, True
        q_pos = torch.arange(K - T, K, device=self.device)[:, None]  # (T, 1) absolute query positions
        k_pos = torch.arange(K, device=self.device)[None, :]  # (1, K)
        allowed = k_pos <= q_pos  # (T, K)
        if windowed:
            allowed = allowed & (q_pos - k_pos < window)
        allowed = allowed[None, None]  # (1, 1, T, K)
        if self.padded:
            allowed = allowed & self.attention_mask[:, None, None, :].to(device=self.device, dtype=torch.bool)
        return allowed, False


def default_position_ids(past: int, q_len: int, device: torch.device) -> torch.Tensor:
    """Positions of the new tokens when none are given: ``arange(past, past + q_len)``, shape (1, q_len).

    As in the reference's forward, padding does not shift them; ``generate()`` passes positions computed from the
    attention mask (``cumsum(mask) - 1``) for left-padded batches.
    """
    return torch.arange(past, past + q_len, device=device)[None]  # (1, T)


@dataclass
class DecoderInputs:
    """What ``prepare_decoder`` works out once per forward, shared by every layer."""

    cache: KVCache | None
    past: int
    position_ids: torch.Tensor  # (B|1, T)
    plan: AttentionPlan
    batch_size: int
    q_len: int


def prepare_decoder(
    input_ids: torch.Tensor | None,
    inputs_embeds: torch.Tensor | None,
    attention_mask: torch.Tensor | None,
    position_ids: torch.Tensor | None,
    past_key_values: Any,
    use_cache: bool,
    num_layers: int,
    cache_position: torch.Tensor | None = None,
) -> DecoderInputs:
    """Validate the forward arguments, set up the cache, the default positions and the attention plan.

    ``cache_position`` (the reference's indices of the new tokens in the cache) is accepted when it continues the
    cache, ``arange(past, past + T)``: this cache only appends."""
    if (input_ids is None) == (inputs_embeds is None):
        raise ValueError("pass exactly one of input_ids or inputs_embeds")
    ref = input_ids if input_ids is not None else inputs_embeds
    if ref.dim() != (2 if input_ids is not None else 3):
        name = (
            "input_ids (batch, seq_len)"
            if input_ids is not None
            else "inputs_embeds (batch, seq_len, hidden)"
        )
        raise ValueError(f"{name} expected; got shape {tuple(ref.shape)}")
    B, T, device = ref.shape[0], ref.shape[1], ref.device
    if T == 0:
        raise ValueError("the input has no tokens (seq_len 0)")
    cache = past_key_values
    if cache is not None and not isinstance(cache, KVCache):
        raise TypeError(
            f"past_key_values must be a pretrained.nn.kv_cache.KVCache (from a previous output), got {type(cache).__name__}"
        )
    if cache is None and use_cache:
        cache = KVCache(num_layers)
    past = cache.get_seq_length() if cache is not None else 0
    if cache_position is not None:
        expected = torch.arange(past, past + T, device=cache_position.device)
        if cache_position.shape != expected.shape or not torch.equal(cache_position.long(), expected):
            raise ValueError(
                f"cache_position must continue the cache: arange({past}, {past + T}) for {T} new tokens after {past} "
                f"cached ones; got {cache_position.tolist()}"
            )
    K = past + T
    if attention_mask is not None:
        if attention_mask.dim() != 2 or attention_mask.shape[0] != B or attention_mask.shape[1] < K:
            raise ValueError(
                f"attention_mask must be (batch, past + new tokens) = ({B}, {K}); got {tuple(attention_mask.shape)}"
            )
        attention_mask = attention_mask[:, :K]
    plan = AttentionPlan(attention_mask, q_len=T, kv_len=K, device=device)
    if position_ids is None:
        position_ids = default_position_ids(past, T, device)
    elif position_ids.dim() == 1:
        position_ids = position_ids[None]
    return DecoderInputs(cache, past, position_ids, plan, B, T)


def causal_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None,
    is_causal: bool,
    *,
    scale: float | None = None,
    dropout_p: float = 0.0,
    need_weights: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """q (B, nh, Tq, hs), k/v (B, n_kv, Tk, hs), bool mask (B|1, 1, Tq, Tk) -> (B, nh, Tq, hs), weights or None.

    SDPA unless the weights are asked for (then the reference's eager path). Grouped-query heads are shared without
    copying where SDPA has a fast kernel for it (CPU; CUDA without a mask), else repeated as the reference does.
    """
    gqa = k.shape[1] != q.shape[1]
    if not need_weights:
        if gqa and mask is not None and q.device.type != "cpu":  # CUDA's masked kernels lack GQA
            reps = q.shape[1] // k.shape[1]
            k, v, gqa = k.repeat_interleave(reps, dim=1), v.repeat_interleave(reps, dim=1), False
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=dropout_p, is_causal=is_causal, scale=scale, enable_gqa=gqa
        )
        return out, None
    if gqa:
        reps = q.shape[1] // k.shape[1]
        k, v = k.repeat_interleave(reps, dim=1), v.repeat_interleave(reps, dim=1)  # (B, nh, Tk, hs)
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    scores = torch.matmul(q, k.transpose(-1, -2)) * scale  # (B, nh, Tq, Tk)
    if is_causal:
        tq, tk = scores.shape[-2:]
        mask = torch.ones(tq, tk, dtype=torch.bool, device=q.device).tril(tk - tq)
    if mask is not None:
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    weights = scores.softmax(dim=-1, dtype=torch.float32).to(q.dtype)
    out = torch.matmul(F.dropout(weights, p=dropout_p, training=dropout_p > 0), v)  # (B, nh, Tq, hs)
    return out, weights


def causal_lm_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    num_items_in_batch: int | torch.Tensor | None = None,
    ignore_index: int = -100,
    shift_labels: torch.Tensor | None = None,
) -> torch.Tensor:
    """Next-token cross-entropy: position t predicts labels[t + 1]; label ``ignore_index`` is ignored. logits
    (B, T, V). As the reference's loss: ``num_items_in_batch`` (the Trainer's count of labelled tokens over
    gradient-accumulation steps) turns the mean into sum / num_items_in_batch; ``shift_labels`` (B, T), already
    shifted, replace ``labels[:, 1:]``."""
    if labels.shape != logits.shape[:2]:
        raise ValueError(
            f"labels must be (batch, seq_len) = {tuple(logits.shape[:2])} like the logits; got {tuple(labels.shape)}"
            " (labels and logits_to_keep cannot be combined)"
        )
    if shift_labels is None:
        logits = logits[:, :-1]  # (B, T-1, V)
        targets = labels[:, 1:]  # (B, T-1)
    elif shift_labels.shape != logits.shape[:2]:
        raise ValueError(
            f"shift_labels must be (batch, seq_len) = {tuple(logits.shape[:2])}; got {tuple(shift_labels.shape)}"
        )
    else:
        targets = shift_labels
    logits = logits.float()
    targets = targets.to(logits.device).reshape(-1)
    reduction = "mean" if num_items_in_batch is None else "sum"
    loss = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), targets, ignore_index=ignore_index, reduction=reduction
    )
    if num_items_in_batch is not None:
        if torch.is_tensor(num_items_in_batch):
            num_items_in_batch = num_items_in_batch.to(loss.device)
        loss = loss / num_items_in_batch
    return loss


def keep_positions(hidden: torch.Tensor, logits_to_keep: int | torch.Tensor) -> torch.Tensor:
    """The positions whose logits are computed: all (0), the last n (int n), or the given indices (tensor)."""
    if isinstance(logits_to_keep, int):
        return hidden if logits_to_keep == 0 else hidden[:, -logits_to_keep:]
    return hidden[:, logits_to_keep]


def last_token_logits(
    logits: torch.Tensor, input_ids: torch.Tensor | None, pad_token_id: int | None
) -> torch.Tensor:
    """Sequence classification: each row's logits at its last non-pad token (B, T, C) -> (B, C), as the reference."""
    B = logits.shape[0]
    if pad_token_id is None:
        if B != 1:
            raise ValueError(
                "sequence classification of a batch needs config.pad_token_id to find each row's last token"
            )
        return logits[:, -1]
    if input_ids is None:
        return logits[:, -1]
    non_pad = (input_ids != pad_token_id).to(logits.device, torch.int32)  # (B, T)
    idx = torch.arange(input_ids.shape[-1], device=logits.device, dtype=torch.int32)
    last = (idx * non_pad).argmax(-1)  # (B,)
    return logits[torch.arange(B, device=logits.device), last]
