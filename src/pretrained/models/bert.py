"""BERT: bidirectional encoder, module names as in the checkpoints (``encoder.layer.{i}.attention.self.query``).

The encoder blocks here are shared by RoBERTa, XLM-RoBERTa and ELECTRA, which name their weights the same way.

>>> from pretrained.models.bert import BertConfig, BertModel
>>> import torch
>>> cfg = BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37)
>>> BertModel(cfg)(torch.tensor([[1, 2, 3]])).last_hidden_state.shape
torch.Size([1, 3, 32])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..config import PretrainedConfig
from ..generation import GenerationMixin
from ..modeling import PreTrainedModel
from ..nn.activations import get_activation
from ..nn.attention import attend
from ..nn.causal_lm import causal_lm_loss, keep_positions
from ..nn.heads import sequence_classification_loss, span_output, token_loss
from ..nn.kv_cache import KVCache
from ..nn.linear import Linear, linear_act
from ..nn.masks import causal_mask, padding_mask
from ..outputs import (
    CausalLMOutput,
    MaskedLMOutput,
    ModelOutput,
    MultipleChoiceModelOutput,
    NextSentencePredictorOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)


class BertConfig(PretrainedConfig):
    model_type = "bert"
    defaults = {
        "vocab_size": 30522,
        "hidden_size": 768,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "intermediate_size": 3072,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": 512,
        "type_vocab_size": 2,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-12,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "use_cache": True,
        "classifier_dropout": None,
    }


class BertEmbeddings(nn.Module):
    def __init__(self, config: PretrainedConfig, embedding_size: int | None = None) -> None:
        super().__init__()
        position_type(config)  # an unknown type fails here, at build time
        self.absolute = config.position_embedding_type == "absolute"
        dim = embedding_size or config.hidden_size
        self.word_embeddings = nn.Embedding(config.vocab_size, dim, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, dim)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, dim)
        self.LayerNorm = nn.LayerNorm(dim, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.max_positions = config.max_position_embeddings

    def forward(
        self,
        input_ids: torch.Tensor | None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        past: int = 0,
    ) -> torch.Tensor:
        """``past``: tokens already cached (a decoder's later steps), where the default positions start."""
        x = self.word_embeddings(input_ids) if inputs_embeds is None else inputs_embeds  # (B, T, C)
        B, T = x.shape[:2]
        if position_ids is None:
            if past + T > self.max_positions:
                raise ValueError(
                    f"sequence length {past + T} > max_position_embeddings {self.max_positions}; truncate the "
                    f"input (tokenizer(..., truncation=True, max_length={self.max_positions}))"
                )
            position_ids = torch.arange(past, past + T, device=x.device)[None]  # (1, T)
        if token_type_ids is None:
            token_type_ids = torch.zeros(B, T, dtype=torch.long, device=x.device)
        x = x + self.token_type_embeddings(token_type_ids)
        if self.absolute:  # relative types keep the table (it is in the checkpoints) but do not add it
            x = x + self.position_embeddings(position_ids)
        return self.dropout(self.LayerNorm(x))


POSITION_TYPES = ("absolute", "relative_key", "relative_key_query")


def position_type(config: PretrainedConfig) -> str:
    """``config.position_embedding_type``, checked: "absolute" (learned table added to the embeddings), or
    "relative_key" / "relative_key_query" (a learned embedding per query-key distance, in every attention layer)."""
    kind = getattr(config, "position_embedding_type", "absolute") or "absolute"
    if kind not in POSITION_TYPES:
        raise ValueError(f"config.position_embedding_type={kind!r} is not one of {POSITION_TYPES}")
    return kind


def relative_position_scores(
    q: torch.Tensor,
    k: torch.Tensor,
    table: nn.Embedding,
    max_positions: int,
    with_key: bool,
    cached: bool = False,
) -> torch.Tensor:
    """Shaw et al.'s relative-position attention terms (unscaled), as the reference's eager BERT attention.

    q (B, nh, Tq, hs) at positions 0..Tq-1, k (B, nh, Tk, hs); ``table`` embeds distances q_pos - k_pos (offset
    by ``max_positions - 1``). Returns (B, nh, Tq, Tk): q·d, plus k·d with ``with_key`` ("relative_key_query").
    ``cached`` (a decoder running with a KV cache): every query is taken at the last position, Tk - 1, as the
    reference does (exact for one-token steps).
    """
    Tq, Tk = q.shape[2], k.shape[2]
    q_pos = torch.full((Tq,), Tk - 1, device=q.device) if cached else torch.arange(Tq, device=q.device)
    distance = q_pos[:, None] - torch.arange(Tk, device=q.device)[None, :]  # (Tq, Tk)
    d = table(distance + max_positions - 1).to(q.dtype)  # (Tq, Tk, hs)
    scores = torch.einsum("bhld,lrd->bhlr", q, d)
    if with_key:
        scores = scores + torch.einsum("bhrd,lrd->bhlr", k, d)
    return scores


class BertSelfAttention(nn.Module):
    def __init__(self, config: PretrainedConfig, layer_idx: int = 0) -> None:
        super().__init__()
        self.layer_idx = layer_idx
        if config.hidden_size % config.num_attention_heads:
            raise ValueError(
                f"hidden_size {config.hidden_size} is not a multiple of num_attention_heads {config.num_attention_heads}"
            )
        self.n_heads = config.num_attention_heads
        self.query = Linear(config.hidden_size, config.hidden_size)
        self.key = Linear(config.hidden_size, config.hidden_size)
        self.value = Linear(config.hidden_size, config.hidden_size)
        self.dropout_p = config.attention_probs_dropout_prob
        self.position_type = position_type(config)
        if self.position_type != "absolute":
            self.max_positions = config.max_position_embeddings
            head_size = config.hidden_size // config.num_attention_heads
            self.distance_embedding = nn.Embedding(2 * config.max_position_embeddings - 1, head_size)

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None,
        need_weights: bool,
        first_only: bool = False,
        cache: KVCache | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        B, T, C = x.shape
        nh, hs = self.n_heads, C // self.n_heads
        Tq = 1 if first_only else T  # first_only: only the first position asks (it still sees every key)
        q = self.query(x[:, :Tq]).view(B, Tq, nh, hs).transpose(1, 2)  # (B, nh, Tq, hs)
        k = self.key(x).view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        v = self.value(x).view(B, T, nh, hs).transpose(1, 2)
        if cache is not None:  # a decoder (config.is_decoder): attend over the cached tokens too
            k, v = cache.update(self.layer_idx, k, v)  # (B, nh, past+T, hs)
        if first_only and mask is not None and mask.shape[-2] != 1:
            mask = mask[..., :1, :]
        if self.position_type != "absolute":  # relative terms join the scores as an additive, pre-scaled bias
            with_key = self.position_type == "relative_key_query"
            rel = relative_position_scores(
                q, k, self.distance_embedding, self.max_positions, with_key, cached=cache is not None
            )
            rel = rel * hs**-0.5  # (B, nh, Tq, past+T)
            mask = rel if mask is None else rel + mask
        p = self.dropout_p if self.training else 0.0
        y, w = attend(q, k, v, mask, dropout_p=p, need_weights=need_weights)
        return y.transpose(1, 2).reshape(B, Tq, C), w  # (B, Tq, C)


class BertSelfOutput(nn.Module):
    def __init__(self, config: PretrainedConfig) -> None:
        super().__init__()
        self.dense = Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, h: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(h)) + residual)


class BertAttention(nn.Module):
    def __init__(self, config: PretrainedConfig, layer_idx: int = 0) -> None:
        super().__init__()
        self.self = BertSelfAttention(config, layer_idx)
        self.output = BertSelfOutput(config)

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None,
        need_weights: bool,
        first_only: bool = False,
        cache: KVCache | None = None,
    ):
        h, w = self.self(x, mask, need_weights, first_only, cache)
        return self.output(h, x[:, :1] if first_only else x), w


class BertIntermediate(nn.Module):
    def __init__(self, config: PretrainedConfig) -> None:
        super().__init__()
        self.dense = Linear(config.hidden_size, config.intermediate_size)
        self.hidden_act = config.hidden_act
        get_activation(config.hidden_act)  # an unknown name fails here, at build time

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, C) -> (B, T, intermediate)
        return linear_act(x, self.dense.weight, self.dense.bias, self.hidden_act)


class BertOutput(BertSelfOutput):
    def __init__(self, config: PretrainedConfig) -> None:
        super().__init__(config)
        self.dense = Linear(config.intermediate_size, config.hidden_size)


class BertLayer(nn.Module):
    def __init__(self, config: PretrainedConfig, layer_idx: int = 0) -> None:
        super().__init__()
        if getattr(config, "add_cross_attention", False):
            raise NotImplementedError(
                f"{config.model_type} with add_cross_attention (the decoder of an encoder-decoder) is not supported"
            )
        self.attention = BertAttention(config, layer_idx)
        self.intermediate = BertIntermediate(config)
        self.output = BertOutput(config)

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None,
        need_weights: bool = False,
        first_only: bool = False,
        cache: KVCache | None = None,
    ):
        h, w = self.attention(x, mask, need_weights, first_only, cache)
        return self.output(self.intermediate(h), h), w  # (B, T, C), or (B, 1, C) with first_only


class BertEncoder(nn.Module):
    def __init__(self, config: PretrainedConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList(BertLayer(config, i) for i in range(config.num_hidden_layers))

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None,
        output_hidden_states: bool,
        output_attentions: bool,
        first_only: bool = False,
        cache: KVCache | None = None,
    ) -> tuple[torch.Tensor, tuple | None, tuple | None]:
        return run_layers(self.layer, x, mask, output_hidden_states, output_attentions, first_only, cache)


def run_layers(
    layers: nn.ModuleList,
    x: torch.Tensor,
    mask: torch.Tensor | None,
    output_hidden_states: bool,
    output_attentions: bool,
    first_only: bool = False,
    cache: KVCache | None = None,
) -> tuple[torch.Tensor, tuple | None, tuple | None]:
    """Post-norm encoder layers in turn: (last hidden state, hidden states or None, attentions or None).

    ``first_only``: the last layer computes the first position alone (all a [CLS] head reads). ``cache``: a
    decoder's keys and values, extended by each layer."""
    hidden: list[torch.Tensor] = []
    attns: list[torch.Tensor] = []
    last = len(layers) - 1
    for i, layer in enumerate(layers):
        if output_hidden_states:  # kept only when asked: each is a (B, T, C) activation
            hidden.append(x)
        if cache is None:
            x, w = layer(x, mask, output_attentions, first_only and i == last)
        else:
            x, w = layer(x, mask, output_attentions, first_only and i == last, cache)
        attns.append(w)
    hidden.append(x)
    return x, tuple(hidden) if output_hidden_states else None, tuple(attns) if output_attentions else None


class BertPooler(nn.Module):
    def __init__(self, config: PretrainedConfig) -> None:
        super().__init__()
        self.dense = Linear(config.hidden_size, config.hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.dense(x[:, 0]))  # (B, C) from the first token


class BertPreTrainedModel(PreTrainedModel):
    config_class = BertConfig
    base_model_prefix = "bert"

    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if isinstance(module, BertLMPredictionHead):
            module.bias.data.zero_()


def encode(
    model: nn.Module,
    config: PretrainedConfig,
    input_ids,
    attention_mask,
    token_type_ids,
    position_ids,
    inputs_embeds,
    output_hidden_states,
    output_attentions,
    first_token_only: bool = False,
    past_key_values: KVCache | None = None,
    use_cache: bool | None = None,
) -> tuple[torch.Tensor, tuple | None, tuple | None, KVCache | None]:
    """Embeddings + encoder of a BERT-style ``model`` (one with ``.embeddings`` and ``.encoder``): (last hidden
    state, hidden states or None, attentions or None, KV cache or None).

    ``first_token_only`` (ignored when hidden states or attentions are asked for): the last layer computes the
    first position alone, so the returned hidden state is (B, 1, C): what pooler and [CLS] heads read.
    With ``config.is_decoder`` the attention is causal and, with ``use_cache`` (default ``config.use_cache``), keys
    and values are kept in a KV cache (``past_key_values``) that the next call continues from."""
    if (input_ids is None) == (inputs_embeds is None):
        raise ValueError("pass exactly one of input_ids or inputs_embeds")
    cache = decoder_cache(config, past_key_values, use_cache)
    past = cache.get_seq_length() if cache is not None else 0
    x = model.embeddings(input_ids, token_type_ids, position_ids, inputs_embeds, past)  # (B, T, E)
    project = getattr(model, "embeddings_project", None)  # ELECTRA: embedding size != hidden size
    if project is not None:
        x = project(x)  # (B, T, C)
    if config.is_decoder:
        T, K = x.shape[1], past + x.shape[1]
        if attention_mask is not None and (attention_mask.dim() != 2 or attention_mask.shape[1] != K):
            raise ValueError(
                f"attention_mask must be (batch, past + new tokens) = ({x.shape[0]}, {K}); "
                f"got {tuple(attention_mask.shape)}"
            )
        mask = causal_mask(attention_mask, T, K, x.dtype, x.device)  # (B|1, 1, T, past+T)
    else:
        mask = padding_mask(attention_mask, x.dtype)  # (B, 1, 1, T) or None
    want_h = config.output_hidden_states if output_hidden_states is None else output_hidden_states
    want_a = config.output_attentions if output_attentions is None else output_attentions
    first = first_token_only and not (want_h or want_a)
    return (*model.encoder(x, mask, want_h, want_a, first, cache), cache)


def decoder_cache(
    config: PretrainedConfig, past_key_values: KVCache | None, use_cache: bool | None
) -> KVCache | None:
    """The KV cache a forward extends: only decoders (``config.is_decoder``) have one, as in the reference."""
    if not config.is_decoder:
        if past_key_values is not None:
            raise ValueError(
                "past_key_values needs a decoder: this model's config.is_decoder is False (bidirectional attention)"
            )
        return None
    if past_key_values is not None and not isinstance(past_key_values, KVCache):
        raise TypeError(
            "past_key_values must be a pretrained.nn.kv_cache.KVCache (from a previous output), "
            f"got {type(past_key_values).__name__}"
        )
    use_cache = config.use_cache if use_cache is None else use_cache
    if past_key_values is None and use_cache:
        return KVCache(config.num_hidden_layers)
    return past_key_values if use_cache or past_key_values is not None else None


@dataclass
class BaseModelOutputWithPoolingAndCrossAttentions(ModelOutput):
    """BERT's bare output; ``past_key_values`` is set only for a decoder (``config.is_decoder``) using its cache."""

    last_hidden_state: torch.Tensor | None = None
    pooler_output: torch.Tensor | None = None
    past_key_values: KVCache | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    attentions: tuple[torch.Tensor, ...] | None = None
    cross_attentions: tuple[torch.Tensor, ...] | None = None


class BertModel(BertPreTrainedModel):
    """The bare encoder: ``last_hidden_state`` (B, T, C) and ``pooler_output`` (B, C)."""

    def __init__(self, config: BertConfig, add_pooling_layer: bool = True) -> None:
        super().__init__(config)
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config) if add_pooling_layer else None
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
    ) -> BaseModelOutputWithPoolingAndCrossAttentions:
        """``first_token_only=True`` computes the last layer for the first token alone (``last_hidden_state`` is
        then (B, 1, C); ``pooler_output`` is unchanged): ~7% less work when only the pooled output is used."""
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
            use_cache,
        )
        pooled = self.pooler(x) if self.pooler is not None else None
        return BaseModelOutputWithPoolingAndCrossAttentions(x, pooled, cache, hidden, attns)


def _encoder_kwargs(kwargs: dict) -> dict:
    kwargs.pop("return_dict", None)
    return kwargs


class BertForSequenceClassification(BertPreTrainedModel):
    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config)
        p = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dropout = nn.Dropout(p)
        self.classifier = Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels: torch.Tensor | None = None, **kwargs):
        # the pooler reads the first token only: at inference the last layer computes nothing else
        out = self.bert(
            input_ids, attention_mask, first_token_only=not self.training, **_encoder_kwargs(kwargs)
        )
        logits = self.classifier(self.dropout(out.pooler_output))  # (B, num_labels)
        loss = sequence_classification_loss(logits, labels, self.config) if labels is not None else None
        return SequenceClassifierOutput(loss, logits, out.hidden_states, out.attentions)


class BertForTokenClassification(BertPreTrainedModel):
    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config, add_pooling_layer=False)
        p = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dropout = nn.Dropout(p)
        self.classifier = Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels: torch.Tensor | None = None, **kwargs):
        out = self.bert(input_ids, attention_mask, **_encoder_kwargs(kwargs))
        logits = self.classifier(self.dropout(out.last_hidden_state))  # (B, T, num_labels)
        loss = token_loss(logits, labels) if labels is not None else None
        return TokenClassifierOutput(loss, logits, out.hidden_states, out.attentions)


class BertForQuestionAnswering(BertPreTrainedModel):
    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config, add_pooling_layer=False)
        self.qa_outputs = Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self, input_ids=None, attention_mask=None, start_positions=None, end_positions=None, **kwargs
    ):
        out = self.bert(input_ids, attention_mask, **_encoder_kwargs(kwargs))
        return span_output(self.qa_outputs(out.last_hidden_state), start_positions, end_positions, out)


class BertPredictionHeadTransform(nn.Module):
    def __init__(self, config: PretrainedConfig) -> None:
        super().__init__()
        self.dense = Linear(config.hidden_size, config.hidden_size)
        self.act = get_activation(config.hidden_act)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.act(self.dense(x)))


class BertLMPredictionHead(nn.Module):
    def __init__(self, config: PretrainedConfig) -> None:
        super().__init__()
        self.transform = BertPredictionHeadTransform(config)
        self.decoder = Linear(config.hidden_size, config.vocab_size, bias=False)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(self.transform(x), self.decoder.weight, self.bias)  # (B, T, V)


class BertOnlyMLMHead(nn.Module):
    def __init__(self, config: PretrainedConfig) -> None:
        super().__init__()
        self.predictions = BertLMPredictionHead(config)


class BertWithMLMHead(BertPreTrainedModel):
    """BERT without pooler and with the masked-LM head (``cls.predictions``), whose decoder is tied to the word
    embeddings: the body of ``BertForMaskedLM`` and ``BertLMHeadModel``."""

    _tied_weights_keys = ("cls.predictions.decoder.weight",)
    _ignore_unexpected = ("cls.predictions.decoder.bias",)
    _missing_aliases = {"cls.predictions.bias": "cls.predictions.decoder.bias"}  # one tensor, two names

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config, add_pooling_layer=False)
        self.cls = BertOnlyMLMHead(config)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.cls.predictions.decoder


class BertForMaskedLM(BertWithMLMHead):
    def forward(self, input_ids=None, attention_mask=None, labels: torch.Tensor | None = None, **kwargs):
        out = self.bert(input_ids, attention_mask, **_encoder_kwargs(kwargs))
        logits = self.cls.predictions(out.last_hidden_state)  # (B, T, V)
        loss = token_loss(logits, labels) if labels is not None else None
        return MaskedLMOutput(loss, logits, out.hidden_states, out.attentions)


@dataclass
class BertForPreTrainingOutput(ModelOutput):
    loss: torch.Tensor | None = None
    prediction_logits: torch.Tensor | None = None
    seq_relationship_logits: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    attentions: tuple[torch.Tensor, ...] | None = None


class BertPreTrainingHeads(nn.Module):
    def __init__(self, config: PretrainedConfig) -> None:
        super().__init__()
        self.predictions = BertLMPredictionHead(config)
        self.seq_relationship = Linear(config.hidden_size, 2)


class BertForPreTraining(BertPreTrainedModel):
    """BERT's two pre-training heads: masked-token logits (B, T, V) and next-sentence logits (B, 2) from the
    pooler. The loss is their sum, computed when both ``labels`` and ``next_sentence_label`` are given."""

    _tied_weights_keys = ("cls.predictions.decoder.weight",)
    _ignore_unexpected = ("cls.predictions.decoder.bias",)
    _missing_aliases = {"cls.predictions.bias": "cls.predictions.decoder.bias"}  # one tensor, two names

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config)
        self.cls = BertPreTrainingHeads(config)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.cls.predictions.decoder

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        labels: torch.Tensor | None = None,
        next_sentence_label: torch.Tensor | None = None,
        **kwargs,
    ) -> BertForPreTrainingOutput:
        out = self.bert(input_ids, attention_mask, **_encoder_kwargs(kwargs))
        logits = self.cls.predictions(out.last_hidden_state)  # (B, T, V)
        nsp = self.cls.seq_relationship(out.pooler_output)  # (B, 2)
        loss = None
        if labels is not None and next_sentence_label is not None:
            loss = token_loss(logits, labels) + F.cross_entropy(nsp.view(-1, 2), next_sentence_label.view(-1))
        return BertForPreTrainingOutput(loss, logits, nsp, out.hidden_states, out.attentions)


class BertOnlyNSPHead(nn.Module):
    def __init__(self, config: PretrainedConfig) -> None:
        super().__init__()
        self.seq_relationship = Linear(config.hidden_size, 2)


class BertForNextSentencePrediction(BertPreTrainedModel):
    """Whether the second sentence follows the first: logits (B, 2) from the pooler (0 = is next)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config)
        self.cls = BertOnlyNSPHead(config)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels: torch.Tensor | None = None, **kwargs):
        out = self.bert(
            input_ids, attention_mask, first_token_only=not self.training, **_encoder_kwargs(kwargs)
        )
        logits = self.cls.seq_relationship(out.pooler_output)  # (B, 2)
        loss = F.cross_entropy(logits.view(-1, 2), labels.view(-1)) if labels is not None else None
        return NextSentencePredictorOutput(loss, logits, out.hidden_states, out.attentions)


def flat_choices(
    input_ids: torch.Tensor | None, attention_mask: torch.Tensor | None, kwargs: dict
) -> tuple[int, torch.Tensor | None, torch.Tensor | None, dict]:
    """Multiple-choice inputs (B, num_choices, T) as one batch (B * num_choices, T) for the encoder; returns
    num_choices, the flat ids and mask, and the other encoder arguments flattened alike (``inputs_embeds``
    (B, num_choices, T, C) -> (B * num_choices, T, C))."""
    kwargs = _encoder_kwargs(kwargs)
    embeds = kwargs.get("inputs_embeds")
    if input_ids is None and embeds is None:
        raise ValueError("multiple choice needs input_ids (batch, choices, length) or inputs_embeds")
    if input_ids is not None and input_ids.dim() != 3:
        raise ValueError(
            f"multiple choice takes input_ids of shape (batch, choices, length); got {tuple(input_ids.shape)}"
        )
    num_choices = (input_ids if input_ids is not None else embeds).shape[1]

    def flat(t: torch.Tensor | None) -> torch.Tensor | None:
        return None if t is None else t.reshape(-1, t.shape[-1])  # (B * num_choices, T)

    for key in ("token_type_ids", "position_ids"):
        if kwargs.get(key) is not None:
            kwargs[key] = flat(kwargs[key])
    if embeds is not None:
        kwargs["inputs_embeds"] = embeds.reshape(-1, embeds.shape[-2], embeds.shape[-1])
    return num_choices, flat(input_ids), flat(attention_mask), kwargs


def choice_output(
    logits: torch.Tensor, num_choices: int, labels: torch.Tensor | None, out: ModelOutput
) -> MultipleChoiceModelOutput:
    """One score per (example, choice): logits (B * num_choices, 1) -> (B, num_choices), and the cross-entropy
    over the choices when ``labels`` (B,) are given."""
    logits = logits.view(-1, num_choices)  # (B, num_choices)
    loss = F.cross_entropy(logits, labels.view(-1)) if labels is not None else None
    return MultipleChoiceModelOutput(loss, logits, out.hidden_states, out.attentions)


class BertForMultipleChoice(BertPreTrainedModel):
    """A score per choice from the pooler: inputs (B, num_choices, T) -> logits (B, num_choices)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config)
        p = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dropout = nn.Dropout(p)
        self.classifier = Linear(config.hidden_size, 1)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels: torch.Tensor | None = None, **kwargs):
        n, input_ids, attention_mask, kwargs = flat_choices(input_ids, attention_mask, kwargs)
        out = self.bert(input_ids, attention_mask, first_token_only=not self.training, **kwargs)
        return choice_output(self.classifier(self.dropout(out.pooler_output)), n, labels, out)


class EncoderCausalLM(GenerationMixin):
    """Next-token prediction with a BERT-family encoder: the family's ``ForCausalLM`` classes (``BertLMHeadModel``).

    Attention is causal (and the KV cache kept) only with ``config.is_decoder=True``, as in the reference, which
    otherwise only warns. Subclasses hold the bare model under ``base_model_prefix`` and implement ``lm_logits``.
    """

    def lm_logits(self, h: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        past_key_values: KVCache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        use_cache: bool | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
        logits_to_keep: int | torch.Tensor = 0,
    ) -> CausalLMOutput:
        """``labels`` (B, T): the next-token loss (position t predicts labels[t + 1]; -100 ignored), no cache."""
        if labels is not None:
            use_cache = False
        out = getattr(self, self.base_model_prefix)(
            input_ids,
            attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
            output_hidden_states=output_hidden_states,
            output_attentions=output_attentions,
            past_key_values=past_key_values,
            use_cache=use_cache,
        )
        logits = self.lm_logits(keep_positions(out.last_hidden_state, logits_to_keep))  # (B, T_kept, V)
        loss = causal_lm_loss(logits, labels) if labels is not None else None
        return CausalLMOutput(loss, logits, out.past_key_values, out.hidden_states, out.attentions)


class BertLMHeadModel(EncoderCausalLM, BertWithMLMHead):
    """BERT as a left-to-right LM (``config.is_decoder=True``): next-token logits (B, T, V) from the MLM head."""

    def lm_logits(self, h: torch.Tensor) -> torch.Tensor:
        return self.cls.predictions(h)  # (B, T, V)


# task -> class name, read by models/auto.py
TASK_CLASSES = {
    "base": "BertModel",
    "causal-lm": "BertLMHeadModel",
    "pretraining": "BertForPreTraining",
    "masked-lm": "BertForMaskedLM",
    "sequence-classification": "BertForSequenceClassification",
    "token-classification": "BertForTokenClassification",
    "question-answering": "BertForQuestionAnswering",
    "multiple-choice": "BertForMultipleChoice",
    "next-sentence-prediction": "BertForNextSentencePrediction",
}
