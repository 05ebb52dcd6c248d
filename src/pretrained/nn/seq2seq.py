"""Pieces every encoder-decoder model shares: label shifting, the decoder's masks, the LM loss, input checks.

The decoder masks reproduce the reference's exactly, including rows whose keys are all padding (a left-padded
decoder query): the reference leaves those rows fully masked on CPU (so they attend uniformly) and unmasks them on
CUDA; ``decoder_self_mask`` does the same, so padded positions match too.

>>> import torch
>>> shift_tokens_right(torch.tensor([[5, 6, -100]]), pad_token_id=0, decoder_start_token_id=2)
tensor([[2, 5, 6]])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def shift_tokens_right(input_ids: torch.Tensor, pad_token_id: int | None, decoder_start_token_id: int | None):
    """Labels -> decoder inputs: prepend ``decoder_start_token_id``, drop the last token, -100 -> pad."""
    if decoder_start_token_id is None:
        raise ValueError(
            "config.decoder_start_token_id is not set: it is needed to build decoder_input_ids from labels "
            "(T5 and Marian use the pad token id, BART the eos token id); set it or pass decoder_input_ids"
        )
    if pad_token_id is None:
        raise ValueError("config.pad_token_id is not set: it is needed to replace -100 in shifted labels")
    shifted = input_ids.new_zeros(input_ids.shape)  # (B, T)
    shifted[:, 1:] = input_ids[:, :-1]
    shifted[:, 0] = decoder_start_token_id
    return shifted.masked_fill(shifted == -100, pad_token_id)


def lm_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the label positions; -100 is ignored. logits (B, T, V), labels (B, T)."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1).to(logits.device))


def check_source(input_ids: torch.Tensor | None, inputs_embeds: torch.Tensor | None, name: str = "input_ids"):
    """Exactly one of ids / embeddings, with at least one position (the reference fails obscurely on none)."""
    if (input_ids is None) == (inputs_embeds is None):
        raise ValueError(f"pass exactly one of {name} or {name.replace('input_ids', 'inputs_embeds')}")
    x = input_ids if input_ids is not None else inputs_embeds
    if x.dim() < 2 or x.shape[1] == 0:
        raise ValueError(
            f"{name} has shape {tuple(x.shape)}: expected (batch, seq_len) with seq_len >= 1; an empty text "
            "still needs its special tokens (the tokenizer adds eos)"
        )


def expanded_mask(attention_mask: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor | None:
    """(B, S) 1/0 mask for the sequence ``like`` (B, S, C) -> (B, 1, 1, S) additive mask in like's dtype (0 keep,
    dtype min drop); None when it masks nothing."""
    if attention_mask is None:
        return None
    if attention_mask.shape != like.shape[:2]:
        raise ValueError(
            f"attention_mask has shape {tuple(attention_mask.shape)} but the source is {tuple(like.shape[:2])} "
            "(batch, seq_len); pass the tokenizer's mask for these input_ids"
        )
    if bool(attention_mask.all()):
        return None
    keep = attention_mask[:, None, None, :].to(torch.bool)  # (B, 1, 1, S)
    return torch.zeros(keep.shape, dtype=like.dtype, device=keep.device).masked_fill(
        ~keep, torch.finfo(like.dtype).min
    )


def causal_padding_mask(
    attention_mask: torch.Tensor | None, q_len: int, past: int, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    """(B|1, 1, Tq, past+Tq) additive mask: query i (position past+i) sees keys <= itself that are not padding.

    Rows with no visible key stay fully masked (the reference's CPU behaviour); see ``decoder_self_mask``.
    """
    kv_len = past + q_len
    if attention_mask is not None and attention_mask.shape[-1] != kv_len:
        raise ValueError(
            f"decoder_attention_mask has length {attention_mask.shape[-1]} but the decoder sees {kv_len} positions "
            f"({past} cached + {q_len} new); pass a mask covering the cached positions too"
        )
    q_pos = torch.arange(past, kv_len, device=device)[:, None]  # (Tq, 1)
    allowed = (torch.arange(kv_len, device=device)[None, :] <= q_pos)[None, None]  # (1, 1, Tq, Tk)
    if attention_mask is not None:
        allowed = allowed & attention_mask[:, None, None, :].to(
            device=device, dtype=torch.bool
        )  # (B, 1, Tq, Tk)
    return torch.zeros(allowed.shape, dtype=dtype, device=device).masked_fill(
        ~allowed, torch.finfo(dtype).min
    )


def decoder_self_mask(
    attention_mask: torch.Tensor | None, q_len: int, past: int, dtype: torch.dtype, device: torch.device
) -> tuple[torch.Tensor | None, bool]:
    """The decoder self-attention mask for SDPA as ``(mask, is_causal)``, as the reference's SDPA path builds it.

    No padding: nothing (one new query) or ``is_causal`` (no cache). Otherwise the explicit mask, where fully
    masked rows are left masked on CPU and let through on CUDA/XPU/NPU (the reference's ``_unmask_unattended``).
    """
    padded = attention_mask is not None and not bool(attention_mask.all())
    if not padded and (q_len == 1 or past == 0):
        if attention_mask is not None and attention_mask.shape[-1] != past + q_len:
            causal_padding_mask(attention_mask, q_len, past, dtype, device)  # raises the length error
        return None, q_len > 1
    mask = causal_padding_mask(attention_mask, q_len, past, dtype, device)
    if torch.device(device).type in ("cuda", "xpu", "npu"):
        mask = mask.masked_fill((mask == torch.finfo(dtype).min).all(-1, keepdim=True), 0.0)
    return mask, False
