"""DistilBERT: a 6-layer distilled BERT with its own weight names (``transformer.layer.{i}.attention.q_lin``).

No token types and no pooler; ``dim``/``n_layers``/``n_heads`` are readable as ``hidden_size``/``num_hidden_layers``/
``num_attention_heads``. Position embeddings are learned, or fixed sin/cos with ``sinusoidal_pos_embds``.

>>> import torch
>>> from pretrained.models.distilbert import DistilBertConfig, DistilBertModel
>>> cfg = DistilBertConfig(vocab_size=99, dim=32, n_layers=2, n_heads=4, hidden_dim=37)
>>> DistilBertModel(cfg)(torch.tensor([[1, 5, 6, 2]])).last_hidden_state.shape
torch.Size([1, 4, 32])
"""

from __future__ import annotations

import torch
from torch import nn

from ..config import PretrainedConfig
from ..modeling import PreTrainedModel
from ..nn.activations import get_activation
from ..nn.attention import attend
from ..nn.heads import sequence_classification_loss, span_output, token_loss
from ..nn.linear import Linear, linear_act
from ..nn.masks import padding_mask
from ..outputs import BaseModelOutput, MaskedLMOutput, SequenceClassifierOutput, TokenClassifierOutput
from .bert import _encoder_kwargs, choice_output, flat_choices, run_layers

LAYER_NORM_EPS = 1e-12  # fixed in DistilBERT, not a config field


class DistilBertConfig(PretrainedConfig):
    model_type = "distilbert"
    attribute_map = {"hidden_size": "dim", "num_attention_heads": "n_heads", "num_hidden_layers": "n_layers"}
    defaults = {
        "vocab_size": 30522,
        "max_position_embeddings": 512,
        "sinusoidal_pos_embds": False,
        "n_layers": 6,
        "n_heads": 12,
        "dim": 768,
        "hidden_dim": 4 * 768,
        "dropout": 0.1,
        "attention_dropout": 0.1,
        "activation": "gelu",
        "initializer_range": 0.02,
        "qa_dropout": 0.1,
        "seq_classif_dropout": 0.2,
        "pad_token_id": 0,
    }


def sinusoidal_table(n_pos: int, dim: int) -> torch.Tensor:
    """(n_pos, dim) table: sin on even columns, cos on odd ones, wavelength 10000^(2*(j//2)/dim) (float64 math)."""
    pos = torch.arange(n_pos, dtype=torch.float64)[:, None]  # (n_pos, 1)
    j = torch.arange(dim, dtype=torch.float64)[None, :]  # (1, dim)
    angle = pos / torch.pow(10000.0, 2 * torch.div(j, 2, rounding_mode="floor") / dim)  # (n_pos, dim)
    table = torch.empty(n_pos, dim, dtype=torch.float64)
    table[:, 0::2] = torch.sin(angle[:, 0::2])
    table[:, 1::2] = torch.cos(angle[:, 1::2])
    return table.float()


class SinusoidalPositions(nn.Embedding):
    """A fixed (not trained) sin/cos position table; checkpoints store it like a learned one."""

    def __init__(self, num_embeddings: int, embedding_dim: int) -> None:
        super().__init__(num_embeddings, embedding_dim)
        self.weight.requires_grad_(False)


class DistilBertEmbeddings(nn.Module):
    def __init__(self, config: PretrainedConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.dim, padding_idx=config.pad_token_id)
        positions = SinusoidalPositions if config.sinusoidal_pos_embds else nn.Embedding
        self.position_embeddings = positions(config.max_position_embeddings, config.dim)
        self.LayerNorm = nn.LayerNorm(config.dim, eps=LAYER_NORM_EPS)
        self.dropout = nn.Dropout(config.dropout)
        self.max_positions = config.max_position_embeddings

    def forward(
        self, input_ids: torch.Tensor | None, inputs_embeds: torch.Tensor | None = None
    ) -> torch.Tensor:
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of input_ids or inputs_embeds")
        x = self.word_embeddings(input_ids) if inputs_embeds is None else inputs_embeds  # (B, T, C)
        T = x.shape[1]
        if T > self.max_positions:
            raise ValueError(
                f"sequence length {T} > max_position_embeddings {self.max_positions}; truncate the input "
                f"(tokenizer(..., truncation=True, max_length={self.max_positions}))"
            )
        x = x + self.position_embeddings(torch.arange(T, device=x.device))  # (B, T, C)
        return self.dropout(self.LayerNorm(x))


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, config: PretrainedConfig) -> None:
        super().__init__()
        if config.dim % config.n_heads:
            raise ValueError(f"dim {config.dim} is not a multiple of n_heads {config.n_heads}")
        self.n_heads = config.n_heads
        self.q_lin = Linear(config.dim, config.dim)
        self.k_lin = Linear(config.dim, config.dim)
        self.v_lin = Linear(config.dim, config.dim)
        self.out_lin = Linear(config.dim, config.dim)
        self.dropout_p = config.attention_dropout

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None, need_weights: bool, first_only: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        B, T, C = x.shape
        nh, hs = self.n_heads, C // self.n_heads
        Tq = 1 if first_only else T  # first_only: only the first position asks (it still sees every key)
        q = self.q_lin(x[:, :Tq]).view(B, Tq, nh, hs).transpose(1, 2)  # (B, nh, Tq, hs)
        k = self.k_lin(x).view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        v = self.v_lin(x).view(B, T, nh, hs).transpose(1, 2)
        if first_only and mask is not None and mask.shape[-2] != 1:
            mask = mask[..., :1, :]
        p = self.dropout_p if self.training else 0.0
        y, w = attend(q, k, v, mask, dropout_p=p, need_weights=need_weights)
        return self.out_lin(y.transpose(1, 2).reshape(B, Tq, C)), w  # (B, Tq, C)


class FFN(nn.Module):
    def __init__(self, config: PretrainedConfig) -> None:
        super().__init__()
        self.lin1 = Linear(config.dim, config.hidden_dim)
        self.lin2 = Linear(config.hidden_dim, config.dim)
        self.activation = config.activation
        get_activation(config.activation)  # an unknown name fails here, at build time
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = linear_act(x, self.lin1.weight, self.lin1.bias, self.activation)  # (B, T, hidden_dim)
        return self.dropout(self.lin2(h))  # (B, T, C)


class TransformerBlock(nn.Module):
    """Post-norm block: attention + residual -> ``sa_layer_norm``; FFN + residual -> ``output_layer_norm``."""

    def __init__(self, config: PretrainedConfig) -> None:
        super().__init__()
        self.attention = MultiHeadSelfAttention(config)
        self.sa_layer_norm = nn.LayerNorm(config.dim, eps=LAYER_NORM_EPS)
        self.ffn = FFN(config)
        self.output_layer_norm = nn.LayerNorm(config.dim, eps=LAYER_NORM_EPS)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None, need_weights: bool = False, first_only: bool = False
    ):
        h, w = self.attention(x, mask, need_weights, first_only)
        h = self.sa_layer_norm(h + (x[:, :1] if first_only else x))  # (B, T, C), or (B, 1, C) with first_only
        return self.output_layer_norm(self.ffn(h) + h), w


class Transformer(nn.Module):
    def __init__(self, config: PretrainedConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList(TransformerBlock(config) for _ in range(config.n_layers))

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None,
        output_hidden_states: bool,
        output_attentions: bool,
        first_only: bool = False,
    ) -> BaseModelOutput:
        return BaseModelOutput(
            *run_layers(self.layer, x, mask, output_hidden_states, output_attentions, first_only)
        )


class DistilBertPreTrainedModel(PreTrainedModel):
    config_class = DistilBertConfig
    base_model_prefix = "distilbert"
    _ignore_unexpected = ("embeddings.position_ids",)  # a buffer older checkpoints saved

    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if isinstance(module, SinusoidalPositions):
            module.weight.data.copy_(sinusoidal_table(module.num_embeddings, module.embedding_dim))


class DistilBertModel(DistilBertPreTrainedModel):
    """The bare encoder: ``last_hidden_state`` (B, T, dim)."""

    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__(config)
        self.embeddings = DistilBertEmbeddings(config)
        self.transformer = Transformer(config)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embeddings.word_embeddings

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
        first_token_only: bool = False,
    ) -> BaseModelOutput:
        """``first_token_only=True`` (ignored when hidden states or attentions are asked for) computes the last
        layer for the first token alone: ``last_hidden_state`` is then (B, 1, C)."""
        x = self.embeddings(input_ids, inputs_embeds)  # (B, T, C)
        mask = padding_mask(attention_mask, x.dtype)  # (B, 1, 1, T) or None
        want_h = self.config.output_hidden_states if output_hidden_states is None else output_hidden_states
        want_a = self.config.output_attentions if output_attentions is None else output_attentions
        return self.transformer(x, mask, want_h, want_a, first_token_only and not (want_h or want_a))


class DistilBertForMaskedLM(DistilBertPreTrainedModel):
    _tied_weights_keys = ("vocab_projector.weight",)

    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__(config)
        self.activation = get_activation(config.activation)
        self.distilbert = DistilBertModel(config)
        self.vocab_transform = Linear(config.dim, config.dim)
        self.vocab_layer_norm = nn.LayerNorm(config.dim, eps=LAYER_NORM_EPS)
        self.vocab_projector = Linear(config.dim, config.vocab_size)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.vocab_projector

    def forward(self, input_ids=None, attention_mask=None, labels: torch.Tensor | None = None, **kwargs):
        out = self.distilbert(input_ids, attention_mask, **_encoder_kwargs(kwargs))
        h = self.vocab_layer_norm(self.activation(self.vocab_transform(out.last_hidden_state)))  # (B, T, C)
        logits = self.vocab_projector(h)  # (B, T, V)
        loss = token_loss(logits, labels) if labels is not None else None
        return MaskedLMOutput(loss, logits, out.hidden_states, out.attentions)


class DistilBertForSequenceClassification(DistilBertPreTrainedModel):
    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__(config)
        self.distilbert = DistilBertModel(config)
        self.pre_classifier = Linear(config.dim, config.dim)
        self.classifier = Linear(config.dim, config.num_labels)
        self.dropout = nn.Dropout(config.seq_classif_dropout)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels: torch.Tensor | None = None, **kwargs):
        # the head reads [CLS] only: at inference the last layer computes nothing else
        first = not self.training
        out = self.distilbert(input_ids, attention_mask, first_token_only=first, **_encoder_kwargs(kwargs))
        pooled = torch.relu(self.pre_classifier(out.last_hidden_state[:, 0]))  # (B, C) from [CLS]
        logits = self.classifier(self.dropout(pooled))  # (B, num_labels)
        loss = sequence_classification_loss(logits, labels, self.config) if labels is not None else None
        return SequenceClassifierOutput(loss, logits, out.hidden_states, out.attentions)


class DistilBertForTokenClassification(DistilBertPreTrainedModel):
    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__(config)
        self.distilbert = DistilBertModel(config)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = Linear(config.dim, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels: torch.Tensor | None = None, **kwargs):
        out = self.distilbert(input_ids, attention_mask, **_encoder_kwargs(kwargs))
        logits = self.classifier(self.dropout(out.last_hidden_state))  # (B, T, num_labels)
        loss = token_loss(logits, labels) if labels is not None else None
        return TokenClassifierOutput(loss, logits, out.hidden_states, out.attentions)


class DistilBertForQuestionAnswering(DistilBertPreTrainedModel):
    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__(config)
        if config.num_labels != 2:
            raise ValueError(
                f"DistilBertForQuestionAnswering needs config.num_labels == 2, got {config.num_labels}"
            )
        self.distilbert = DistilBertModel(config)
        self.qa_outputs = Linear(config.dim, config.num_labels)
        self.dropout = nn.Dropout(config.qa_dropout)
        self.post_init()

    def forward(
        self, input_ids=None, attention_mask=None, start_positions=None, end_positions=None, **kwargs
    ):
        out = self.distilbert(input_ids, attention_mask, **_encoder_kwargs(kwargs))
        logits = self.qa_outputs(self.dropout(out.last_hidden_state))  # (B, T, 2)
        return span_output(logits, start_positions, end_positions, out)


# task -> class name, read by models/auto.py
class DistilBertForMultipleChoice(DistilBertPreTrainedModel):
    """A score per choice from [CLS]: inputs (B, num_choices, T) -> logits (B, num_choices)."""

    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__(config)
        self.distilbert = DistilBertModel(config)
        self.pre_classifier = Linear(config.dim, config.dim)
        self.classifier = Linear(config.dim, 1)
        self.dropout = nn.Dropout(config.seq_classif_dropout)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels: torch.Tensor | None = None, **kwargs):
        n, input_ids, attention_mask, kwargs = flat_choices(input_ids, attention_mask, kwargs)
        out = self.distilbert(input_ids, attention_mask, first_token_only=not self.training, **kwargs)
        pooled = torch.relu(self.pre_classifier(out.last_hidden_state[:, 0]))  # (B * n, C) from [CLS]
        return choice_output(self.classifier(self.dropout(pooled)), n, labels, out)


TASK_CLASSES = {
    "base": "DistilBertModel",
    "masked-lm": "DistilBertForMaskedLM",
    "sequence-classification": "DistilBertForSequenceClassification",
    "token-classification": "DistilBertForTokenClassification",
    "question-answering": "DistilBertForQuestionAnswering",
    "multiple-choice": "DistilBertForMultipleChoice",
    "pretraining": "DistilBertForMaskedLM",  # as the reference's AutoModelForPreTraining
}
