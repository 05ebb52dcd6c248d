"""What ``generate(..., return_dict_in_generate=True)`` returns (the reference's output classes).

>>> import torch
>>> out = GenerateDecoderOnlyOutput(sequences=torch.zeros(1, 3, dtype=torch.long))
>>> out.sequences.shape, out.keys()
(torch.Size([1, 3]), ['sequences'])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ..outputs import ModelOutput

Steps = tuple[torch.Tensor, ...]  # one (B, V) tensor per generated token


@dataclass
class GenerateDecoderOnlyOutput(ModelOutput):
    """Greedy / sampling output of a decoder-only model. ``scores``: processed, ``logits``: raw, per step."""

    sequences: torch.Tensor | None = None
    scores: Steps | None = None
    logits: Steps | None = None
    attentions: tuple | None = None
    hidden_states: tuple | None = None
    past_key_values: Any = None


@dataclass
class GenerateEncoderDecoderOutput(ModelOutput):
    """Greedy / sampling output of an encoder-decoder model."""

    sequences: torch.Tensor | None = None
    scores: Steps | None = None
    logits: Steps | None = None
    encoder_attentions: tuple | None = None
    encoder_hidden_states: tuple | None = None
    decoder_attentions: tuple | None = None
    cross_attentions: tuple | None = None
    decoder_hidden_states: tuple | None = None
    past_key_values: Any = None


@dataclass
class GenerateBeamDecoderOnlyOutput(ModelOutput):
    """Beam search output of a decoder-only model; ``sequences_scores`` are the length-penalized beam scores."""

    sequences: torch.Tensor | None = None
    sequences_scores: torch.Tensor | None = None
    scores: Steps | None = None
    logits: Steps | None = None
    beam_indices: torch.Tensor | None = None
    attentions: tuple | None = None
    hidden_states: tuple | None = None
    past_key_values: Any = None


@dataclass
class GenerateBeamEncoderDecoderOutput(ModelOutput):
    """Beam search output of an encoder-decoder model."""

    sequences: torch.Tensor | None = None
    sequences_scores: torch.Tensor | None = None
    scores: Steps | None = None
    logits: Steps | None = None
    beam_indices: torch.Tensor | None = None
    encoder_attentions: tuple | None = None
    encoder_hidden_states: tuple | None = None
    decoder_attentions: tuple | None = None
    cross_attentions: tuple | None = None
    decoder_hidden_states: tuple | None = None
    past_key_values: Any = None
