"""ELECTRA: BERT's encoder with embeddings of ``embedding_size`` projected to ``hidden_size`` (``embeddings_project``).

Discriminator checkpoints load into ``ElectraForPreTraining`` (replaced-token detection), generator checkpoints into
``ElectraForMaskedLM``; both into the classification heads. Blocks come from ``bert.py``.

>>> import torch
>>> from pretrained.models.electra import ElectraConfig, ElectraModel
>>> cfg = ElectraConfig(vocab_size=99, embedding_size=16, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
...                     intermediate_size=37)
>>> ElectraModel(cfg)(torch.tensor([[1, 5, 6, 2]])).last_hidden_state.shape
torch.Size([1, 4, 32])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..config import PretrainedConfig
from ..nn.activations import get_activation
from ..nn.heads import sequence_classification_loss, span_output, token_loss
from ..nn.kv_cache import KVCache
from ..nn.linear import Linear
from ..outputs import (
    BaseModelOutputWithPastAndCrossAttentions,
    ElectraForPreTrainingOutput,
    MaskedLMOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)
from .bert import (
    BertConfig,
    BertEmbeddings,
    BertEncoder,
    BertPreTrainedModel,
    EncoderCausalLM,
    _encoder_kwargs,
    choice_output,
    encode,
    flat_choices,
)
from .roberta import ClassificationHead, classifier_dropout


class ElectraConfig(BertConfig):
    model_type = "electra"
    defaults = {
        **BertConfig.defaults,
        "embedding_size": 128,
        "hidden_size": 256,
        "num_attention_heads": 4,
        "intermediate_size": 1024,
        "summary_type": "first",
        "summary_use_proj": True,
        "summary_activation": "gelu",
        "summary_last_dropout": 0.1,
    }


class ElectraPreTrainedModel(BertPreTrainedModel):
    config_class = ElectraConfig
    base_model_prefix = "electra"
    _ignore_unexpected = ("embeddings.position_ids",)  # a buffer older checkpoints saved


class ElectraModel(ElectraPreTrainedModel):
    """The bare encoder: ``last_hidden_state`` (B, T, hidden_size); no pooler."""

    def __init__(self, config: ElectraConfig) -> None:
        super().__init__(config)
        self.embeddings = BertEmbeddings(config, embedding_size=config.embedding_size)
        if config.embedding_size != config.hidden_size:
            self.embeddings_project = Linear(config.embedding_size, config.hidden_size)
        self.encoder = BertEncoder(config)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embeddings.word_embeddings

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
        first_token_only: bool = False,
        past_key_values: KVCache | None = None,
        use_cache: bool | None = None,
    ) -> BaseModelOutputWithPastAndCrossAttentions:
        x, hidden, attns, cache = encode(
            self,
            self.config,
            input_ids,
            attention_mask,
            token_type_ids,
            position_ids,
            inputs_embeds,
            output_hidden_states,
            output_attentions,
            first_token_only,
            past_key_values,
            bool(use_cache),  # unlike BERT's, the reference's ELECTRA keeps a cache only when asked to
        )
        return BaseModelOutputWithPastAndCrossAttentions(x, cache, hidden, attns)


class ElectraDiscriminatorPredictions(nn.Module):
    def __init__(self, config: PretrainedConfig) -> None:
        super().__init__()
        self.dense = Linear(config.hidden_size, config.hidden_size)
        self.activation = get_activation(config.hidden_act)
        self.dense_prediction = Linear(config.hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dense_prediction(self.activation(self.dense(x))).squeeze(-1)  # (B, T)


class ElectraGeneratorPredictions(nn.Module):
    def __init__(self, config: PretrainedConfig) -> None:
        super().__init__()
        self.activation = get_activation("gelu")
        self.LayerNorm = nn.LayerNorm(config.embedding_size, eps=config.layer_norm_eps)
        self.dense = Linear(config.hidden_size, config.embedding_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.activation(self.dense(x)))  # (B, T, E)


class ElectraForPreTraining(ElectraPreTrainedModel):
    """Replaced-token detection: one logit per token (B, T); ``labels`` 1 = replaced, loss over unmasked tokens."""

    def __init__(self, config: ElectraConfig) -> None:
        super().__init__(config)
        self.electra = ElectraModel(config)
        self.discriminator_predictions = ElectraDiscriminatorPredictions(config)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels: torch.Tensor | None = None, **kwargs):
        out = self.electra(input_ids, attention_mask, **_encoder_kwargs(kwargs))
        logits = self.discriminator_predictions(out.last_hidden_state)  # (B, T)
        loss = None
        if labels is not None:
            T = logits.shape[-1]
            if attention_mask is not None:
                active = attention_mask.view(-1, T) == 1  # (B, T)
                loss = F.binary_cross_entropy_with_logits(logits.view(-1, T)[active], labels[active].float())
            else:
                loss = F.binary_cross_entropy_with_logits(logits.view(-1, T), labels.float())
        return ElectraForPreTrainingOutput(loss, logits, out.hidden_states, out.attentions)


class ElectraForMaskedLM(ElectraPreTrainedModel):
    _tied_weights_keys = ("generator_lm_head.weight",)

    def __init__(self, config: ElectraConfig) -> None:
        super().__init__(config)
        self.electra = ElectraModel(config)
        self.generator_predictions = ElectraGeneratorPredictions(config)
        self.generator_lm_head = Linear(config.embedding_size, config.vocab_size)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.generator_lm_head

    def forward(self, input_ids=None, attention_mask=None, labels: torch.Tensor | None = None, **kwargs):
        out = self.electra(input_ids, attention_mask, **_encoder_kwargs(kwargs))
        logits = self.generator_lm_head(self.generator_predictions(out.last_hidden_state))  # (B, T, V)
        loss = token_loss(logits, labels) if labels is not None else None
        return MaskedLMOutput(loss, logits, out.hidden_states, out.attentions)


class ElectraForCausalLM(EncoderCausalLM, ElectraPreTrainedModel):
    """ELECTRA's generator as a left-to-right LM (``config.is_decoder=True``): next-token logits (B, T, V)."""

    _tied_weights_keys = ("generator_lm_head.weight",)

    def __init__(self, config: ElectraConfig) -> None:
        super().__init__(config)
        self.electra = ElectraModel(config)
        self.generator_predictions = ElectraGeneratorPredictions(config)
        self.generator_lm_head = Linear(config.embedding_size, config.vocab_size)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.generator_lm_head

    def lm_logits(self, h: torch.Tensor) -> torch.Tensor:
        return self.generator_lm_head(self.generator_predictions(h))  # (B, T, V)


class ElectraForSequenceClassification(ElectraPreTrainedModel):
    def __init__(self, config: ElectraConfig) -> None:
        super().__init__(config)
        self.electra = ElectraModel(config)
        self.classifier = ClassificationHead(config, activation="gelu")
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels: torch.Tensor | None = None, **kwargs):
        # the head reads the first token only: at inference the last layer computes nothing else
        first = not self.training
        out = self.electra(input_ids, attention_mask, first_token_only=first, **_encoder_kwargs(kwargs))
        logits = self.classifier(out.last_hidden_state)  # (B, num_labels)
        loss = sequence_classification_loss(logits, labels, self.config) if labels is not None else None
        return SequenceClassifierOutput(loss, logits, out.hidden_states, out.attentions)


class ElectraForTokenClassification(ElectraPreTrainedModel):
    def __init__(self, config: ElectraConfig) -> None:
        super().__init__(config)
        self.electra = ElectraModel(config)
        self.dropout = nn.Dropout(classifier_dropout(config))
        self.classifier = Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels: torch.Tensor | None = None, **kwargs):
        out = self.electra(input_ids, attention_mask, **_encoder_kwargs(kwargs))
        logits = self.classifier(self.dropout(out.last_hidden_state))  # (B, T, num_labels)
        loss = token_loss(logits, labels) if labels is not None else None
        return TokenClassifierOutput(loss, logits, out.hidden_states, out.attentions)


class ElectraForQuestionAnswering(ElectraPreTrainedModel):
    def __init__(self, config: ElectraConfig) -> None:
        super().__init__(config)
        self.electra = ElectraModel(config)
        self.qa_outputs = Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self, input_ids=None, attention_mask=None, start_positions=None, end_positions=None, **kwargs
    ):
        out = self.electra(input_ids, attention_mask, **_encoder_kwargs(kwargs))
        return span_output(self.qa_outputs(out.last_hidden_state), start_positions, end_positions, out)


# task -> class name, read by models/auto.py
class ElectraSequenceSummary(nn.Module):
    """One vector per sequence (``config.summary_*``): its first token ("first"; "last" and "mean" too), then an
    optional projection, activation and dropouts."""

    def __init__(self, config: ElectraConfig) -> None:
        super().__init__()
        self.summary_type = getattr(config, "summary_type", "last")
        if self.summary_type not in ("first", "last", "mean"):
            raise NotImplementedError(
                f"summary_type={self.summary_type!r}: supported are 'first', 'last' and 'mean'"
            )
        self.summary: nn.Module = nn.Identity()
        if getattr(config, "summary_use_proj", False):
            to_labels = getattr(config, "summary_proj_to_labels", False) and config.num_labels > 0
            self.summary = Linear(config.hidden_size, config.num_labels if to_labels else config.hidden_size)
        name = getattr(config, "summary_activation", None)
        self.activation = get_activation(name) if name else nn.Identity()
        self.first_dropout = nn.Dropout(getattr(config, "summary_first_dropout", 0.0) or 0.0)
        self.last_dropout = nn.Dropout(getattr(config, "summary_last_dropout", 0.0) or 0.0)

    def forward(self, h: torch.Tensor) -> torch.Tensor:  # (B, T, C) -> (B, C)
        if self.summary_type == "first":
            x = h[:, 0]
        elif self.summary_type == "last":
            x = h[:, -1]
        else:
            x = h.mean(dim=1)
        x = self.summary(self.first_dropout(x))
        return self.last_dropout(self.activation(x))


class ElectraForMultipleChoice(ElectraPreTrainedModel):
    """A score per choice from the sequence summary: inputs (B, num_choices, T) -> logits (B, num_choices)."""

    def __init__(self, config: ElectraConfig) -> None:
        super().__init__(config)
        self.electra = ElectraModel(config)
        self.sequence_summary = ElectraSequenceSummary(config)
        self.classifier = Linear(config.hidden_size, 1)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels: torch.Tensor | None = None, **kwargs):
        n, input_ids, attention_mask, kwargs = flat_choices(input_ids, attention_mask, kwargs)
        first = not self.training and self.sequence_summary.summary_type == "first"
        out = self.electra(input_ids, attention_mask, first_token_only=first, **kwargs)
        return choice_output(self.classifier(self.sequence_summary(out.last_hidden_state)), n, labels, out)


TASK_CLASSES = {
    "base": "ElectraModel",
    "causal-lm": "ElectraForCausalLM",
    "pretraining": "ElectraForPreTraining",
    "masked-lm": "ElectraForMaskedLM",
    "sequence-classification": "ElectraForSequenceClassification",
    "token-classification": "ElectraForTokenClassification",
    "question-answering": "ElectraForQuestionAnswering",
    "multiple-choice": "ElectraForMultipleChoice",
}
