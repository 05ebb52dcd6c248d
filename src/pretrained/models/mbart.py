"""mBART: BART with pre-norm layers and a final layer norm after each stack (``encoder.layer_norm``,
``decoder.layer_norm``). Without decoder inputs, labels (or input ids) are shifted right with their own last
non-pad token (the language id) moved to the front, instead of a fixed ``decoder_start_token_id``.

>>> import torch
>>> shift_tokens_right(torch.tensor([[5, 6, 2, 250004, 1]]), pad_token_id=1)
tensor([[250004,      5,      6,      2, 250004]])
"""

from __future__ import annotations

import torch
from torch import nn

from ..config import PretrainedConfig
from .bart import (
    BartConfig,
    BartDecoder,
    BartDecoderLayer,
    BartEncoder,
    BartEncoderLayer,
    BartForCausalLM,
    BartForConditionalGeneration,
    BartForQuestionAnswering,
    BartForSequenceClassification,
    BartModel,
    BartPreTrainedModel,
)


class MBartConfig(PretrainedConfig):
    model_type = "mbart"
    attribute_map = BartConfig.attribute_map
    defaults = {
        **{k: v for k, v in BartConfig.defaults.items() if k not in ("num_labels", "decoder_start_token_id")},
        "forced_eos_token_id": 2,
    }

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        if "num_hidden_layers" not in kwargs:
            self.num_hidden_layers = self.encoder_layers


def shift_tokens_right(input_ids: torch.Tensor, pad_token_id: int | None) -> torch.Tensor:
    """Shift right and wrap each row's last non-pad token (the language id) to position 0; -100 -> pad."""
    if pad_token_id is None:
        raise ValueError("config.pad_token_id is not set: mBART needs it to shift labels into decoder inputs")
    prev = input_ids.masked_fill(input_ids == -100, pad_token_id)  # (B, T)
    last = (prev.ne(pad_token_id).sum(dim=1) - 1).unsqueeze(-1)  # (B, 1) index of the last non-pad token
    start = prev.gather(1, last).squeeze(-1)  # (B,)
    shifted = prev.clone()
    shifted[:, 1:] = prev[:, :-1]
    shifted[:, 0] = start
    return shifted


def _fp16_clamp(x: torch.Tensor) -> torch.Tensor:
    if x.dtype == torch.float16:
        bound = torch.finfo(x.dtype).max - 1000
        x = x.clamp(-bound, bound)
    return x


class MBartEncoderLayer(BartEncoderLayer):
    """Pre-norm: x = x + attn(LN(x)); x = x + ffn(LN(x))."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None, need_weights: bool = False):
        h, w = self.self_attn(self.self_attn_layer_norm(x), mask=mask, need_weights=need_weights)
        x = x + self.drop(h)
        x = x + self.ffn(self.final_layer_norm(x))
        return _fp16_clamp(x), w


class MBartDecoderLayer(BartDecoderLayer):
    """Pre-norm: causal self-attention, cross-attention, feed-forward, each as x + f(LN(x))."""

    def forward(self, x, self_mask, is_causal, enc, cross_mask, cache, need_weights=False):
        h, w_self = self.self_attn(
            self.self_attn_layer_norm(x),
            mask=self_mask,
            cache=cache,
            is_causal=is_causal,
            need_weights=need_weights,
        )
        x = x + self.drop(h)
        w_cross = None
        if enc is not None:  # a standalone decoder (MBartForCausalLM) has no encoder output to read
            h, w_cross = self.encoder_attn(
                self.encoder_attn_layer_norm(x), enc, mask=cross_mask, cache=cache, need_weights=need_weights
            )
            x = x + self.drop(h)
        return x + self.ffn(self.final_layer_norm(x)), w_self, w_cross


def _add_modules(stack: nn.Module, config: PretrainedConfig) -> None:
    BartEncoder.add_embedding_modules(stack, config)
    stack.layer_norm = nn.LayerNorm(config.d_model)


class MBartEncoder(BartEncoder):
    layer_class = MBartEncoderLayer
    add_embedding_modules = _add_modules

    def finish(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer_norm(x)


class MBartDecoder(BartDecoder):
    layer_class = MBartDecoderLayer
    add_embedding_modules = _add_modules
    finish = MBartEncoder.finish


class MBartPreTrainedModel(BartPreTrainedModel):
    config_class = MBartConfig

    def shift_labels(self, labels: torch.Tensor) -> torch.Tensor:
        return shift_tokens_right(labels, self.config.pad_token_id)

    def default_decoder_input_ids(self, input_ids: torch.Tensor | None) -> torch.Tensor:
        if input_ids is None:
            raise ValueError("pass decoder_input_ids (or decoder_inputs_embeds), or input_ids to shift right")
        return shift_tokens_right(input_ids, self.config.pad_token_id)


class MBartModel(MBartPreTrainedModel, BartModel):
    encoder_class, decoder_class = MBartEncoder, MBartDecoder


class MBartForConditionalGeneration(MBartPreTrainedModel, BartForConditionalGeneration):
    """mBART with its LM head and ``final_logits_bias``: translation between the languages of mbart-large-50.

    >>> model.generate(input_ids, forced_bos_token_id=tokenizer.lang_code_to_id["ro_RO"])  # doctest: +SKIP
    """

    base_class = MBartModel


class MBartForSequenceClassification(MBartPreTrainedModel, BartForSequenceClassification):
    base_class = MBartModel


class MBartForQuestionAnswering(MBartPreTrainedModel, BartForQuestionAnswering):
    base_class = MBartModel


class MBartForCausalLM(MBartPreTrainedModel, BartForCausalLM):
    """mBART's (pre-norm) decoder alone, as a language model; see ``BartForCausalLM``."""

    decoder_class = MBartDecoder


# task -> class name, read by models/auto.py
TASK_CLASSES = {
    "base": "MBartModel",
    "causal-lm": "MBartForCausalLM",
    "seq2seq-lm": "MBartForConditionalGeneration",
    "sequence-classification": "MBartForSequenceClassification",
    "question-answering": "MBartForQuestionAnswering",
    "masked-lm": "MBartForConditionalGeneration",  # as the reference's AutoModelForMaskedLM
}
