"""Marian (OPUS-MT translation models): BART's post-norm layers with fixed sinusoidal positions, scaled
embeddings, no embedding layer norm, and ``decoder_start_token_id`` = the pad id.

The sinusoidal positions are computed, not loaded: checkpoints that carry ``embed_positions.weight`` have it
ignored, and ours never write it. With ``share_encoder_decoder_embeddings=False`` the encoder and decoder have their
own token embeddings (``model.shared`` is then absent) and the LM head is tied to the decoder's.

>>> import torch
>>> from pretrained.models.marian import MarianConfig, MarianMTModel
>>> cfg = MarianConfig(vocab_size=99, d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
...     decoder_attention_heads=2, encoder_ffn_dim=8, decoder_ffn_dim=8, pad_token_id=98, decoder_start_token_id=98)
>>> MarianMTModel(cfg).eval()(torch.tensor([[5, 6, 0]]), labels=torch.tensor([[7, 0]])).logits.shape
torch.Size([1, 2, 99])
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..config import PretrainedConfig
from ..nn.positions import SinusoidalPositions
from .bart import (
    BartConfig,
    BartDecoder,
    BartEncoder,
    BartForCausalLM,
    BartForConditionalGeneration,
    BartModel,
    BartPreTrainedModel,
)


class MarianConfig(PretrainedConfig):
    model_type = "marian"
    attribute_map = BartConfig.attribute_map
    defaults = {
        **{
            k: v
            for k, v in BartConfig.defaults.items()
            if k not in ("num_labels", "bos_token_id", "classifier_dropout")
        },
        "vocab_size": 58101,
        "decoder_vocab_size": None,
        "scale_embedding": False,
        "pad_token_id": 58100,
        "eos_token_id": 0,
        "decoder_start_token_id": 58100,
        "forced_eos_token_id": 0,
        "share_encoder_decoder_embeddings": True,
    }

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.decoder_vocab_size = self.decoder_vocab_size or self.vocab_size
        if "num_hidden_layers" not in kwargs:
            self.num_hidden_layers = self.encoder_layers


def _add_sinusoidal_positions(stack: nn.Module, config: PretrainedConfig) -> None:
    stack.embed_scale = math.sqrt(config.d_model) if config.scale_embedding else 1.0
    stack.embed_positions = SinusoidalPositions(
        num_positions=config.max_position_embeddings, dim=config.d_model
    )


class MarianEncoder(BartEncoder):
    add_embedding_modules = _add_sinusoidal_positions

    def embed(self, input_ids: torch.Tensor | None, inputs_embeds: torch.Tensor | None) -> torch.Tensor:
        x = (
            self.embed_tokens(input_ids) * self.embed_scale if inputs_embeds is None else inputs_embeds
        )  # (B, T, C)
        return x + self.embed_positions(torch.arange(x.shape[1], device=x.device), x.dtype)


class MarianDecoder(BartDecoder):
    add_embedding_modules = _add_sinusoidal_positions

    def embed(self, input_ids, inputs_embeds, past: int = 0) -> torch.Tensor:
        x = self.embed_tokens(input_ids) if inputs_embeds is None else inputs_embeds
        x = x * self.embed_scale  # given embeddings are scaled too, as in the reference
        return x + self.embed_positions(torch.arange(past, past + x.shape[1], device=x.device), x.dtype)


class MarianPreTrainedModel(BartPreTrainedModel):
    config_class = MarianConfig
    _ignore_unexpected = ("embed_positions.weight",)

    def default_decoder_input_ids(self, input_ids: torch.Tensor | None) -> torch.Tensor:
        raise ValueError(
            f"{type(self).__name__} needs decoder_input_ids (or decoder_inputs_embeds, or labels)"
        )


class MarianModel(MarianPreTrainedModel, BartModel):
    """The bare Marian encoder-decoder; needs ``decoder_input_ids`` (no denoising default)."""

    encoder_class, decoder_class = MarianEncoder, MarianDecoder

    @staticmethod
    def make_embeddings(config: PretrainedConfig) -> tuple[nn.Embedding | None, nn.Embedding, nn.Embedding]:
        """One shared module, or (with share_encoder_decoder_embeddings=False) separate encoder/decoder copies."""
        shared = nn.Embedding(config.vocab_size, config.d_model, config.pad_token_id)
        if config.share_encoder_decoder_embeddings:
            return shared, shared, shared
        return None, shared, nn.Embedding(config.vocab_size, config.d_model, config.pad_token_id)


class MarianMTModel(MarianPreTrainedModel, BartForConditionalGeneration):
    """Marian with its LM head and ``final_logits_bias``: translation.

    >>> model.generate(input_ids, num_beams=4, max_new_tokens=64)  # doctest: +SKIP
    """

    base_class = MarianModel

    def output_vocab_size(self, config: PretrainedConfig) -> int:
        return config.vocab_size if config.share_encoder_decoder_embeddings else config.decoder_vocab_size


class MarianForCausalLM(MarianPreTrainedModel, BartForCausalLM):
    """Marian's decoder alone, as a language model (its own ``decoder_vocab_size`` embeddings); see
    ``BartForCausalLM``."""

    decoder_class = MarianDecoder

    @staticmethod
    def token_embeddings(config: PretrainedConfig) -> nn.Embedding:
        return nn.Embedding(config.decoder_vocab_size, config.d_model, config.pad_token_id)


# task -> class name, read by models/auto.py
TASK_CLASSES = {
    "base": "MarianModel",
    "causal-lm": "MarianForCausalLM",
    "seq2seq-lm": "MarianMTModel",
}
