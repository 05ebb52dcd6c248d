"""BART: a post-norm encoder-decoder with learned positions (offset 2) and an embedding layer norm.

Module names follow the checkpoints (``model.encoder.layers.{i}.self_attn.q_proj``, ``model.decoder.layers.{i}
.encoder_attn``, ``final_logits_bias``). The encoder/decoder stacks and layers here are shared by mBART (pre-norm
layers, final layer norms) and Marian (sinusoidal positions, no embedding layer norm).

>>> import torch
>>> from pretrained.models.bart import BartConfig, BartForConditionalGeneration
>>> cfg = BartConfig(vocab_size=99, d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
...     decoder_attention_heads=2, encoder_ffn_dim=8, decoder_ffn_dim=8, max_position_embeddings=32)
>>> model = BartForConditionalGeneration(cfg).eval()
>>> model(torch.tensor([[0, 5, 2]]), decoder_input_ids=torch.tensor([[2, 0]])).logits.shape
torch.Size([1, 2, 99])
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..config import PretrainedConfig
from ..generation import GenerationMixin
from ..nn.activations import get_activation
from ..nn.causal_lm import keep_positions
from ..nn.cross_attention import Seq2SeqAttention, cross_source
from ..nn.kv_cache import EncoderDecoderCache, KVCache
from ..nn.linear import Linear, linear_act
from ..nn.positions import check_positions
from ..nn.seq2seq import check_source, decoder_self_mask, expanded_mask, shift_tokens_right
from ..outputs import (
    BaseModelOutput,
    BaseModelOutputWithPastAndCrossAttentions,
    CausalLMOutput,
    Seq2SeqSequenceClassifierOutput,
)
from .seq2seq import (
    Seq2SeqLM,
    Seq2SeqModel,
    Seq2SeqPreTrainedModel,
    Seq2SeqQuestionAnsweringModelOutput,
    eos_classification,
    new_cache,
    seq2seq_span_output,
)


class BartConfig(PretrainedConfig):
    model_type = "bart"
    attribute_map = {"num_attention_heads": "encoder_attention_heads", "hidden_size": "d_model"}
    defaults = {
        "vocab_size": 50265,
        "max_position_embeddings": 1024,
        "encoder_layers": 12,
        "encoder_ffn_dim": 4096,
        "encoder_attention_heads": 16,
        "decoder_layers": 12,
        "decoder_ffn_dim": 4096,
        "decoder_attention_heads": 16,
        "encoder_layerdrop": 0.0,
        "decoder_layerdrop": 0.0,
        "activation_function": "gelu",
        "d_model": 1024,
        "dropout": 0.1,
        "attention_dropout": 0.0,
        "activation_dropout": 0.0,
        "init_std": 0.02,
        "classifier_dropout": 0.0,
        "scale_embedding": False,
        "use_cache": True,
        "num_labels": 3,
        "pad_token_id": 1,
        "bos_token_id": 0,
        "eos_token_id": 2,
        "is_encoder_decoder": True,
        "decoder_start_token_id": 2,
        "forced_bos_token_id": None,
        "forced_eos_token_id": 2,
    }

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        if "num_hidden_layers" not in kwargs:
            self.num_hidden_layers = self.encoder_layers
        if self.forced_bos_token_id is None and kwargs.get("force_bos_token_to_be_generated", False):
            self.forced_bos_token_id = self.bos_token_id  # old BART-CNN configs


class BartLearnedPositionalEmbedding(nn.Embedding):
    """Learned positions; position p is row p + 2 (fairseq's legacy offset)."""

    offset = 2

    def __init__(self, num_positions: int, dim: int) -> None:
        super().__init__(num_positions + self.offset, dim)

    def forward(self, position_ids: torch.Tensor) -> torch.Tensor:
        check_positions(position_ids, self.num_embeddings - self.offset)
        return super().forward(position_ids + self.offset)


class BartScaledWordEmbedding(nn.Embedding):
    """Token embeddings multiplied by ``embed_scale`` (sqrt(d_model) when config.scale_embedding)."""

    def __init__(
        self, num_embeddings: int, dim: int, padding_idx: int | None, embed_scale: float = 1.0
    ) -> None:
        super().__init__(num_embeddings, dim, padding_idx)
        self.embed_scale = embed_scale

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return super().forward(input_ids) * self.embed_scale


def _clamp_fp16(x: torch.Tensor) -> torch.Tensor:
    """The reference's fp16 guard: clamp when a layer produced inf/nan."""
    if x.dtype == torch.float16 and not torch.isfinite(x).all():
        bound = torch.finfo(x.dtype).max - 1000
        x = x.clamp(-bound, bound)
    return x


class _BartLayer(nn.Module):
    """What both layers hold: self-attention, its layer norm, the feed-forward (fc1/fc2) and its layer norm."""

    def __init__(self, config: PretrainedConfig, layer_idx: int, n_heads: int, ffn_dim: int) -> None:
        super().__init__()
        d = config.d_model
        self.self_attn = Seq2SeqAttention(
            dim=d, n_heads=n_heads, layer_idx=layer_idx, dropout=config.attention_dropout
        )
        self.self_attn_layer_norm = nn.LayerNorm(d)
        self.fc1 = Linear(d, ffn_dim)
        self.fc2 = Linear(ffn_dim, d)
        self.final_layer_norm = nn.LayerNorm(d)
        self.activation_fn = get_activation(config.activation_function)
        self.activation_name = config.activation_function
        self.dropout, self.activation_dropout = config.dropout, config.activation_dropout

    def drop(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout(x, p=self.dropout, training=self.training)

    def ffn(self, x: torch.Tensor) -> torch.Tensor:
        h = linear_act(
            x, self.fc1.weight, self.fc1.bias, self.activation_name
        )  # (B, T, ffn_dim): act fused in
        h = F.dropout(h, p=self.activation_dropout, training=self.training)
        return self.drop(self.fc2(h))  # (B, T, C)


class BartEncoderLayer(_BartLayer):
    """Post-norm: x = LN(x + attn(x)); x = LN(x + ffn(x))."""

    def __init__(self, config: PretrainedConfig, layer_idx: int) -> None:
        super().__init__(config, layer_idx, config.encoder_attention_heads, config.encoder_ffn_dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None, need_weights: bool = False):
        h, w = self.self_attn(x, mask=mask, need_weights=need_weights)
        x = self.self_attn_layer_norm(x + self.drop(h))
        x = self.final_layer_norm(x + self.ffn(x))
        return _clamp_fp16(x), w


class BartDecoderLayer(_BartLayer):
    """Post-norm: causal self-attention, cross-attention over the encoder output, feed-forward."""

    def __init__(self, config: PretrainedConfig, layer_idx: int) -> None:
        super().__init__(config, layer_idx, config.decoder_attention_heads, config.decoder_ffn_dim)
        self.encoder_attn = Seq2SeqAttention(
            dim=config.d_model,
            n_heads=config.decoder_attention_heads,
            layer_idx=layer_idx,
            dropout=config.attention_dropout,
        )
        self.encoder_attn_layer_norm = nn.LayerNorm(config.d_model)

    def forward(self, x, self_mask, is_causal, enc, cross_mask, cache, need_weights=False):
        h, w_self = self.self_attn(
            x, mask=self_mask, cache=cache, is_causal=is_causal, need_weights=need_weights
        )
        x = self.self_attn_layer_norm(x + self.drop(h))
        w_cross = None
        if enc is not None:  # a standalone decoder (the ForCausalLM classes) has no encoder output to read
            h, w_cross = self.encoder_attn(x, enc, mask=cross_mask, cache=cache, need_weights=need_weights)
            x = self.encoder_attn_layer_norm(x + self.drop(h))
        x = self.final_layer_norm(x + self.ffn(x))
        return x, w_self, w_cross


def _want(flag: bool | None, config: PretrainedConfig, name: str) -> bool:
    return bool(getattr(config, name)) if flag is None else flag


def _dropped(module: nn.Module, p: float) -> bool:
    """LayerDrop: while training, skip a layer with probability p."""
    return module.training and p > 0 and bool(torch.rand([]) < p)


class BartEncoder(nn.Module):
    """Token + position embeddings, embedding layer norm, then the encoder layers."""

    layer_class: type[nn.Module] = BartEncoderLayer
    n_layers_field, layerdrop_field = "encoder_layers", "encoder_layerdrop"

    def __init__(self, config: PretrainedConfig, embed_tokens: nn.Embedding) -> None:
        super().__init__()
        self.config = config
        self.embed_tokens = embed_tokens
        self.add_embedding_modules(config)
        n_layers = getattr(config, self.n_layers_field)
        self.layers = nn.ModuleList(self.layer_class(config, i) for i in range(n_layers))

    def add_embedding_modules(self, config: PretrainedConfig) -> None:
        """Positions and the embedding layer norm (what BART, mBART and Marian do differently)."""
        self.embed_positions = BartLearnedPositionalEmbedding(config.max_position_embeddings, config.d_model)
        self.layernorm_embedding = nn.LayerNorm(config.d_model)

    def embed(self, input_ids: torch.Tensor | None, inputs_embeds: torch.Tensor | None) -> torch.Tensor:
        x = self.embed_tokens(input_ids) if inputs_embeds is None else inputs_embeds  # (B, T, C)
        x = x + self.embed_positions(torch.arange(x.shape[1], device=x.device))
        return self.layernorm_embedding(x)

    def finish(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> BaseModelOutput:
        check_source(input_ids, inputs_embeds)
        x = F.dropout(self.embed(input_ids, inputs_embeds), p=self.config.dropout, training=self.training)
        mask = expanded_mask(attention_mask, x)  # (B, 1, 1, S) or None
        want_a = _want(output_attentions, self.config, "output_attentions")
        want_h = _want(output_hidden_states, self.config, "output_hidden_states")
        hidden, attns = [], []
        for layer in self.layers:
            if want_h:  # kept only when asked: each is a (B, T, C) activation
                hidden.append(x)
            if _dropped(self, getattr(self.config, self.layerdrop_field)):
                attns.append(None)
                continue
            x, w = layer(x, mask, want_a)
            attns.append(w)
        x = self.finish(x)
        hidden.append(x)
        return BaseModelOutput(x, tuple(hidden) if want_h else None, tuple(attns) if want_a else None)


class BartDecoder(BartEncoder):
    """Token + position embeddings (positions continue after the cached tokens), then the decoder layers."""

    layer_class = BartDecoderLayer
    n_layers_field, layerdrop_field = "decoder_layers", "decoder_layerdrop"
    standalone = False  # True in the ForCausalLM classes: no encoder, no cross-attention

    def embed(self, input_ids, inputs_embeds, past: int = 0) -> torch.Tensor:
        x = self.embed_tokens(input_ids) if inputs_embeds is None else inputs_embeds  # (B, T, C)
        x = x + self.embed_positions(torch.arange(past, past + x.shape[1], device=x.device))
        return self.layernorm_embedding(x)

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        encoder_hidden_states: torch.Tensor | None = None,
        encoder_attention_mask: torch.Tensor | None = None,
        past_key_values: EncoderDecoderCache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> BaseModelOutputWithPastAndCrossAttentions:
        check_source(input_ids, inputs_embeds, "input_ids" if self.standalone else "decoder_input_ids")
        if encoder_hidden_states is None and not self.standalone:
            raise ValueError(
                "the decoder needs encoder_hidden_states (run the encoder, or pass encoder_outputs)"
            )
        cache = past_key_values
        if cache is None and _want(use_cache, self.config, "use_cache"):
            source = None if encoder_hidden_states is None else encoder_hidden_states.shape[1]
            cache = new_cache(len(self.layers), source)
        past = cache.get_seq_length() if cache is not None else 0
        x = F.dropout(
            self.embed(input_ids, inputs_embeds, past), p=self.config.dropout, training=self.training
        )
        self_mask, is_causal = decoder_self_mask(attention_mask, x.shape[1], past, x.dtype, x.device)
        enc, cross_mask = None, None
        if encoder_hidden_states is not None:
            cross_mask = expanded_mask(encoder_attention_mask, encoder_hidden_states)  # (B, 1, 1, S) or None
            enc, cross_mask = cross_source(cache, encoder_hidden_states, cross_mask)  # one row per beam group
        want_a = _want(output_attentions, self.config, "output_attentions")
        want_h = _want(output_hidden_states, self.config, "output_hidden_states")
        hidden, attns, cross = [], [], []
        for layer in self.layers:
            if want_h:  # kept only when asked: each is a (B, T, C) activation
                hidden.append(x)
            if _dropped(self, getattr(self.config, self.layerdrop_field)):
                continue
            x, w, wc = layer(x, self_mask, is_causal, enc, cross_mask, cache, want_a)
            attns.append(w)
            cross.append(wc)
        x = self.finish(x)
        hidden.append(x)
        return BaseModelOutputWithPastAndCrossAttentions(
            x, cache, tuple(hidden) if want_h else None, tuple(attns) if want_a else None,
            tuple(cross) if want_a and enc is not None else None,
        )  # fmt: skip


class BartPreTrainedModel(Seq2SeqPreTrainedModel):
    config_class = BartConfig
    base_model_prefix = "model"
    _ignore_unexpected = ("encoder.version", "decoder.version")

    def _init_weights(self, module: nn.Module) -> None:
        std = self.config.init_std
        if isinstance(module, (nn.Linear, nn.Embedding)):
            module.weight.data.normal_(0.0, std)
            if isinstance(module, nn.Linear) and module.bias is not None:
                module.bias.data.zero_()
            if isinstance(module, nn.Embedding) and module.padding_idx is not None:
                module.weight.data[module.padding_idx].zero_()
        elif isinstance(module, nn.LayerNorm):
            module.weight.data.fill_(1.0)
            module.bias.data.zero_()
        elif isinstance(getattr(module, "final_logits_bias", None), torch.Tensor):
            module.final_logits_bias.zero_()

    def default_decoder_input_ids(self, input_ids: torch.Tensor | None) -> torch.Tensor:
        """BART denoising: without decoder inputs, the decoder reads ``input_ids`` shifted right."""
        if input_ids is None:
            raise ValueError("pass decoder_input_ids (or decoder_inputs_embeds), or input_ids to shift right")
        return shift_tokens_right(input_ids, self.config.pad_token_id, self.config.decoder_start_token_id)


class BartModel(BartPreTrainedModel, Seq2SeqModel):
    """The bare encoder-decoder; without decoder inputs the decoder reads ``input_ids`` shifted right."""

    encoder_class, decoder_class = BartEncoder, BartDecoder

    def __init__(self, config: BartConfig) -> None:
        super().__init__(config)
        self.shared, encoder_embeddings, decoder_embeddings = self.make_embeddings(config)
        self.encoder = self.encoder_class(config, encoder_embeddings)
        self.decoder = self.decoder_class(config, decoder_embeddings)
        self.post_init()

    @staticmethod
    def make_embeddings(config: PretrainedConfig) -> tuple[nn.Embedding | None, nn.Embedding, nn.Embedding]:
        """(shared, encoder's, decoder's) token embeddings: here one module used three times."""
        scale = math.sqrt(config.d_model) if config.scale_embedding else 1.0
        shared = BartScaledWordEmbedding(
            config.vocab_size, config.d_model, config.pad_token_id, embed_scale=scale
        )
        return shared, shared, shared


class BartForConditionalGeneration(BartPreTrainedModel, Seq2SeqLM):
    """BART with the LM head (tied to the shared embeddings) plus ``final_logits_bias``: summarization, translation.

    >>> model.generate(input_ids, num_beams=4, max_length=20)  # doctest: +SKIP
    """

    base_class: type[BartModel] = BartModel
    _ignore_missing = ("final_logits_bias",)  # zeros when absent, unreported (as the reference)

    def __init__(self, config: BartConfig) -> None:
        super().__init__(config)
        self.model = self.base_class(config)
        n = self.output_vocab_size(config)
        self.register_buffer("final_logits_bias", torch.zeros(1, n))
        self.lm_head = Linear(config.d_model, n, bias=False)
        self.post_init()

    def output_vocab_size(self, config: PretrainedConfig) -> int:
        return self.model.shared.num_embeddings

    def lm_logits(self, h: torch.Tensor) -> torch.Tensor:
        return self.lm_head(h) + self.final_logits_bias.to(h.dtype)  # (B, T, V)


class BartClassificationHead(nn.Module):
    def __init__(self, input_dim: int, inner_dim: int, num_classes: int, pooler_dropout: float) -> None:
        super().__init__()
        self.dense = Linear(input_dim, inner_dim)
        self.dropout = nn.Dropout(pooler_dropout)
        self.out_proj = Linear(inner_dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out_proj(self.dropout(torch.tanh(self.dense(self.dropout(x)))))


class BartForSequenceClassification(BartPreTrainedModel):
    """Classifies from the decoder state at the last ``eos`` of each (un-shifted) input."""

    base_class: type[BartModel] = BartModel

    def __init__(self, config: BartConfig) -> None:
        super().__init__(config)
        self.model = self.base_class(config)
        self.classification_head = BartClassificationHead(
            config.d_model, config.d_model, config.num_labels, config.classifier_dropout
        )
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        decoder_input_ids: torch.Tensor | None = None,
        decoder_attention_mask: torch.Tensor | None = None,
        encoder_outputs=None,
        labels: torch.Tensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> Seq2SeqSequenceClassifierOutput:
        if input_ids is None:
            raise ValueError("BartForSequenceClassification needs input_ids (it pools at the eos tokens)")
        if labels is not None:
            use_cache = False
        out = self.encode_decode(
            input_ids, attention_mask, decoder_input_ids, decoder_attention_mask, encoder_outputs, None, None,
            None, use_cache, output_attentions, output_hidden_states,
        )  # fmt: skip
        return eos_classification(self, out, input_ids, labels)


class BartForQuestionAnswering(BartPreTrainedModel):
    """Extractive QA: start/end logits (B, T) from the decoder reading ``input_ids`` shifted right."""

    base_class: type[BartModel] = BartModel

    def __init__(self, config: BartConfig) -> None:
        super().__init__(config)
        config.num_labels = 2  # start and end, as the reference sets it
        self.model = self.base_class(config)
        self.qa_outputs = Linear(config.d_model, 2)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        decoder_input_ids: torch.Tensor | None = None,
        decoder_attention_mask: torch.Tensor | None = None,
        encoder_outputs=None,
        start_positions: torch.Tensor | None = None,
        end_positions: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        decoder_inputs_embeds: torch.Tensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> Seq2SeqQuestionAnsweringModelOutput:
        if start_positions is not None and end_positions is not None:
            use_cache = False
        out = self.encode_decode(
            input_ids, attention_mask, decoder_input_ids, decoder_attention_mask, encoder_outputs, None,
            inputs_embeds, decoder_inputs_embeds, use_cache, output_attentions, output_hidden_states,
        )  # fmt: skip
        return seq2seq_span_output(
            self.qa_outputs(out.last_hidden_state), start_positions, end_positions, out
        )


class BartDecoderWrapper(BartPreTrainedModel):
    """Holds a standalone decoder under ``model.decoder``, the checkpoints' key layout for the ForCausalLM classes."""

    def __init__(self, config: BartConfig, decoder: nn.Module) -> None:
        super().__init__(config)
        self.decoder = decoder
        self.decoder.standalone = True


class BartForCausalLM(BartPreTrainedModel, GenerationMixin):
    """BART's decoder alone, as a language model (no encoder, no cross-attention): logits (B, T, V).

    As in the reference, the config becomes a decoder's (``is_decoder=True``, ``is_encoder_decoder=False``) and the
    ``labels`` loss is the cross-entropy of each position's logits with its own label (labels are not shifted).
    """

    decoder_class: type[nn.Module] = BartDecoder
    _tied_weights_keys = ("lm_head.weight",)

    def __init__(self, config: BartConfig) -> None:
        config.is_decoder = True
        config.is_encoder_decoder = False
        super().__init__(config)
        self.model = BartDecoderWrapper(config, self.decoder_class(config, self.token_embeddings(config)))
        self.lm_head = Linear(config.d_model, config.vocab_size, bias=False)
        self.post_init()

    @staticmethod
    def token_embeddings(config: PretrainedConfig) -> nn.Embedding:
        return BartModel.make_embeddings(config)[2]

    def get_encoder(self) -> None:
        return None

    def get_decoder(self) -> nn.Module:
        return self.model.decoder

    def get_input_embeddings(self) -> nn.Module:
        return self.model.decoder.embed_tokens

    def get_output_embeddings(self) -> nn.Module:
        return self.lm_head

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        past_key_values: KVCache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        logits_to_keep: int | torch.Tensor = 0,
    ) -> CausalLMOutput:
        """``past_key_values``: the KVCache of a previous output (the decoder's self-attention keys and values)."""
        cache = past_key_values
        if isinstance(cache, KVCache):
            cache = EncoderDecoderCache(cache, KVCache(cache.num_layers))  # nothing cross-attended
        elif cache is not None and not isinstance(cache, EncoderDecoderCache):
            raise TypeError(
                f"past_key_values must be the KVCache of a previous output, got {type(cache).__name__}"
            )
        out = self.model.decoder(
            input_ids=input_ids,
            attention_mask=attention_mask,
            past_key_values=cache,
            inputs_embeds=inputs_embeds,
            use_cache=use_cache,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
        )
        logits = self.lm_head(keep_positions(out.last_hidden_state, logits_to_keep))  # (B, T_kept, V)
        loss = None
        if labels is not None:  # no shift, as the reference's ForCausalLM of this family
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1).to(logits.device))
        past = out.past_key_values.self_attention if out.past_key_values is not None else None
        return CausalLMOutput(loss, logits, past, out.hidden_states, out.attentions)


# task -> class name, read by models/auto.py
TASK_CLASSES = {
    "base": "BartModel",
    "causal-lm": "BartForCausalLM",
    "question-answering": "BartForQuestionAnswering",
    "seq2seq-lm": "BartForConditionalGeneration",
    "sequence-classification": "BartForSequenceClassification",
    # as the reference's AutoModelForPreTraining and AutoModelForMaskedLM (denoising: the LM fills the masks)
    "pretraining": "BartForConditionalGeneration",
    "masked-lm": "BartForConditionalGeneration",
}
