"""Losses shared by the task heads, following the reference's conventions (-100 is ignored).

>>> import torch
>>> from pretrained.config import PretrainedConfig
>>> cfg = PretrainedConfig(num_labels=3)
>>> sequence_classification_loss(torch.zeros(2, 3), torch.tensor([0, 2]), cfg).item() > 0
True
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..config import PretrainedConfig
from ..outputs import QuestionAnsweringModelOutput


def sequence_classification_loss(
    logits: torch.Tensor, labels: torch.Tensor, config: PretrainedConfig
) -> torch.Tensor:
    """Regression (MSE), single-label (cross-entropy) or multi-label (BCE) by ``config.problem_type``.

    When ``problem_type`` is unset it is inferred like the reference: 1 label -> regression, integer labels ->
    single-label, otherwise multi-label; the inferred type is stored on the config.
    """
    n = config.num_labels
    if config.problem_type is None:
        if n == 1:
            config.problem_type = "regression"
        elif labels.dtype in (torch.long, torch.int):
            config.problem_type = "single_label_classification"
        else:
            config.problem_type = "multi_label_classification"
    if config.problem_type == "regression":
        if n == 1:
            return F.mse_loss(logits.squeeze(), labels.squeeze().to(logits.dtype))
        return F.mse_loss(logits, labels.to(logits.dtype))
    if config.problem_type == "single_label_classification":
        return F.cross_entropy(logits.view(-1, n), labels.view(-1))
    return F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))


def token_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy over every position; label -100 is ignored. logits (B, T, C), labels (B, T)."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1).to(logits.device))


def span_loss(
    start_logits: torch.Tensor,
    end_logits: torch.Tensor,
    start_positions: torch.Tensor,
    end_positions: torch.Tensor,
    num_items_in_batch: int | torch.Tensor | None = None,
) -> torch.Tensor:
    """Question-answering loss: mean of start and end cross-entropy; positions outside the input are ignored.
    ``num_items_in_batch`` (the reference's Trainer keyword) turns each mean into sum / num_items_in_batch."""
    ignored = start_logits.shape[1]
    start = start_positions.reshape(-1).clamp(0, ignored)
    end = end_positions.reshape(-1).clamp(0, ignored)
    reduction = "mean" if num_items_in_batch is None else "sum"
    loss = F.cross_entropy(start_logits, start, ignore_index=ignored, reduction=reduction) + F.cross_entropy(
        end_logits, end, ignore_index=ignored, reduction=reduction
    )
    if num_items_in_batch is not None:
        if torch.is_tensor(num_items_in_batch):
            num_items_in_batch = num_items_in_batch.to(loss.device)
        loss = loss / num_items_in_batch
    return loss / 2


def span_output(
    logits: torch.Tensor,
    start_positions: torch.Tensor | None,
    end_positions: torch.Tensor | None,
    out,
    num_items_in_batch: int | torch.Tensor | None = None,
) -> QuestionAnsweringModelOutput:
    """Extractive QA: (B, T, 2) span logits -> start/end logits (B, T) each, the span loss when both positions are
    given (see :func:`span_loss` for ``num_items_in_batch``), and ``out``'s hidden states and attentions."""
    start, end = (t.squeeze(-1).contiguous() for t in logits.split(1, dim=-1))  # (B, T) each
    loss = None
    if start_positions is not None and end_positions is not None:
        loss = span_loss(start, end, start_positions, end_positions, num_items_in_batch)
    return QuestionAnsweringModelOutput(loss, start, end, out.hidden_states, out.attentions)
