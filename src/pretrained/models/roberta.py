"""RoBERTa: BERT's encoder blocks with padding-offset position ids, an ``lm_head`` and a two-layer classifier.

Weight names are the checkpoints' (``roberta.encoder.layer.{i}.attention.self.query``, ``lm_head.dense``,
``classifier.out_proj``); the blocks come from ``bert.py``. XLM-RoBERTa (``xlm_roberta.py``) reuses all of it.

>>> import torch
>>> from pretrained.models.roberta import RobertaConfig, RobertaModel
>>> cfg = RobertaConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37)
>>> RobertaModel(cfg)(torch.tensor([[0, 5, 6, 2]])).last_hidden_state.shape
torch.Size([1, 4, 32])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..config import PretrainedConfig
from ..nn.activations import get_activation
from ..nn.heads import sequence_classification_loss, span_output, token_loss
from ..nn.linear import Linear
from ..outputs import MaskedLMOutput, SequenceClassifierOutput, TokenClassifierOutput
from .bert import (
    BertConfig,
    BertEmbeddings,
    BertEncoder,
    BertModel,
    BertPooler,
    BertPreTrainedModel,
    EncoderCausalLM,
    _encoder_kwargs,
    choice_output,
    flat_choices,
)


class RobertaConfig(BertConfig):
    model_type = "roberta"
    defaults = {
        **BertConfig.defaults,
        "vocab_size": 50265,
        "pad_token_id": 1,
        "bos_token_id": 0,
        "eos_token_id": 2,
    }


def create_position_ids_from_input_ids(
    input_ids: torch.Tensor, padding_idx: int, past_key_values_length: int = 0
) -> torch.Tensor:
    """Positions that skip padding: non-pad tokens count from ``padding_idx + 1``, pad tokens get ``padding_idx``.

    >>> create_position_ids_from_input_ids(torch.tensor([[0, 5, 2, 1, 1]]), padding_idx=1).tolist()
    [[2, 3, 4, 1, 1]]
    """
    keep = input_ids.ne(padding_idx).int()  # (B, T)
    return ((torch.cumsum(keep, dim=1).type_as(keep) + past_key_values_length) * keep).long() + padding_idx


def classifier_dropout(config: PretrainedConfig) -> float:
    """``classifier_dropout`` when set, else ``hidden_dropout_prob`` (the reference's rule)."""
    return config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob


class RobertaEmbeddings(BertEmbeddings):
    """BERT's embeddings; positions start after ``pad_token_id`` and padding keeps position ``pad_token_id``."""

    def __init__(self, config: PretrainedConfig, embedding_size: int | None = None) -> None:
        super().__init__(config, embedding_size)
        if config.pad_token_id is None:
            raise ValueError(
                f"{config.model_type}: config.pad_token_id is required (position ids are offset by it)"
            )
        self.padding_idx = config.pad_token_id
        dim = embedding_size or config.hidden_size
        self.position_embeddings = nn.Embedding(
            config.max_position_embeddings, dim, padding_idx=self.padding_idx
        )

    def forward(
        self,
        input_ids: torch.Tensor | None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        past: int = 0,
    ) -> torch.Tensor:
        if position_ids is None:
            B, T = input_ids.shape if input_ids is not None else inputs_embeds.shape[:2]
            if past + T + self.padding_idx >= self.max_positions:
                longest = self.max_positions - self.padding_idx - 1
                raise ValueError(
                    f"sequence length {T} > {longest} (max_position_embeddings {self.max_positions} minus the "
                    f"padding offset {self.padding_idx + 1}); truncate the input "
                    f"(tokenizer(..., truncation=True, max_length={longest}))"
                )
            if input_ids is not None:
                position_ids = create_position_ids_from_input_ids(input_ids, self.padding_idx, past)  # (B, T)
            else:  # no ids to find padding in: sequential positions (from the start, as the reference)
                start = self.padding_idx + 1
                position_ids = torch.arange(start, start + T, device=inputs_embeds.device).expand(B, T)
        return super().forward(input_ids, token_type_ids, position_ids, inputs_embeds)


class RobertaPreTrainedModel(BertPreTrainedModel):
    config_class = RobertaConfig
    base_model_prefix = "roberta"
    _ignore_unexpected = ("embeddings.position_ids",)  # a buffer older checkpoints saved


class RobertaModel(RobertaPreTrainedModel):
    """The bare encoder: ``last_hidden_state`` (B, T, C) and ``pooler_output`` (B, C), as ``BertModel``."""

    def __init__(self, config: RobertaConfig, add_pooling_layer: bool = True) -> None:
        super().__init__(config)
        self.embeddings = RobertaEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config) if add_pooling_layer else None
        self.post_init()

    get_input_embeddings = BertModel.get_input_embeddings
    forward = BertModel.forward


class ClassificationHead(nn.Module):
    """Sentence classifier on the first token: dropout, dense, activation, dropout, ``out_proj``."""

    def __init__(self, config: PretrainedConfig, activation: str = "tanh") -> None:
        super().__init__()
        self.dense = Linear(config.hidden_size, config.hidden_size)
        self.act = get_activation(activation)
        self.dropout = nn.Dropout(classifier_dropout(config))
        self.out_proj = Linear(config.hidden_size, config.num_labels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dropout(x[:, 0])  # (B, C) from the <s> token
        return self.out_proj(self.dropout(self.act(self.dense(x))))  # (B, num_labels)


class RobertaLMHead(nn.Module):
    def __init__(self, config: PretrainedConfig) -> None:
        super().__init__()
        self.dense = Linear(config.hidden_size, config.hidden_size)
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.decoder = Linear(config.hidden_size, config.vocab_size, bias=False)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))  # checkpoints: lm_head.bias (= decoder.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layer_norm(F.gelu(self.dense(x)))  # (B, T, C)
        return F.linear(x, self.decoder.weight, self.bias)  # (B, T, V)


class RobertaWithLMHead(RobertaPreTrainedModel):
    """RoBERTa without pooler and with ``lm_head``, whose decoder is tied to the word embeddings: the body of
    ``RobertaForMaskedLM`` and ``RobertaForCausalLM``."""

    _tied_weights_keys = ("lm_head.decoder.weight",)
    _renames = {"lm_head.decoder.bias": "lm_head.bias"}  # the same tensor, saved under either name
    _missing_aliases = {"lm_head.bias": "lm_head.decoder.bias"}  # and reported missing under both

    def __init__(self, config: RobertaConfig) -> None:
        super().__init__(config)
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        self.lm_head = RobertaLMHead(config)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head.decoder


class RobertaForMaskedLM(RobertaWithLMHead):
    def forward(self, input_ids=None, attention_mask=None, labels: torch.Tensor | None = None, **kwargs):
        out = self.roberta(input_ids, attention_mask, **_encoder_kwargs(kwargs))
        logits = self.lm_head(out.last_hidden_state)  # (B, T, V)
        loss = token_loss(logits, labels) if labels is not None else None
        return MaskedLMOutput(loss, logits, out.hidden_states, out.attentions)


class RobertaForSequenceClassification(RobertaPreTrainedModel):
    def __init__(self, config: RobertaConfig) -> None:
        super().__init__(config)
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        self.classifier = ClassificationHead(config)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels: torch.Tensor | None = None, **kwargs):
        # the head reads the first token only: at inference the last layer computes nothing else
        first = not self.training
        out = self.roberta(input_ids, attention_mask, first_token_only=first, **_encoder_kwargs(kwargs))
        logits = self.classifier(out.last_hidden_state)  # (B, num_labels)
        loss = sequence_classification_loss(logits, labels, self.config) if labels is not None else None
        return SequenceClassifierOutput(loss, logits, out.hidden_states, out.attentions)


class RobertaForTokenClassification(RobertaPreTrainedModel):
    def __init__(self, config: RobertaConfig) -> None:
        super().__init__(config)
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        self.dropout = nn.Dropout(classifier_dropout(config))
        self.classifier = Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels: torch.Tensor | None = None, **kwargs):
        out = self.roberta(input_ids, attention_mask, **_encoder_kwargs(kwargs))
        logits = self.classifier(self.dropout(out.last_hidden_state))  # (B, T, num_labels)
        loss = token_loss(logits, labels) if labels is not None else None
        return TokenClassifierOutput(loss, logits, out.hidden_states, out.attentions)


class RobertaForQuestionAnswering(RobertaPreTrainedModel):
    def __init__(self, config: RobertaConfig) -> None:
        super().__init__(config)
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        self.qa_outputs = Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self, input_ids=None, attention_mask=None, start_positions=None, end_positions=None, **kwargs
    ):
        out = self.roberta(input_ids, attention_mask, **_encoder_kwargs(kwargs))
        return span_output(self.qa_outputs(out.last_hidden_state), start_positions, end_positions, out)


class RobertaForMultipleChoice(RobertaPreTrainedModel):
    """A score per choice from the pooler: inputs (B, num_choices, T) -> logits (B, num_choices)."""

    def __init__(self, config: RobertaConfig) -> None:
        super().__init__(config)
        self.roberta = RobertaModel(config)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.classifier = Linear(config.hidden_size, 1)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels: torch.Tensor | None = None, **kwargs):
        n, input_ids, attention_mask, kwargs = flat_choices(input_ids, attention_mask, kwargs)
        out = self.roberta(input_ids, attention_mask, first_token_only=not self.training, **kwargs)
        return choice_output(self.classifier(self.dropout(out.pooler_output)), n, labels, out)


class RobertaForCausalLM(EncoderCausalLM, RobertaWithLMHead):
    """RoBERTa as a left-to-right LM (``config.is_decoder=True``): next-token logits (B, T, V) from ``lm_head``."""

    def lm_logits(self, h: torch.Tensor) -> torch.Tensor:
        return self.lm_head(h)  # (B, T, V)


# task -> class name, read by models/auto.py
TASK_CLASSES = {
    "base": "RobertaModel",
    "causal-lm": "RobertaForCausalLM",
    "masked-lm": "RobertaForMaskedLM",
    "sequence-classification": "RobertaForSequenceClassification",
    "token-classification": "RobertaForTokenClassification",
    "question-answering": "RobertaForQuestionAnswering",
    "multiple-choice": "RobertaForMultipleChoice",
    "pretraining": "RobertaForMaskedLM",  # as the reference's AutoModelForPreTraining
}
