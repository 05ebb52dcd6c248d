"""T5 (v1.0 and v1.1): pre-norm encoder-decoder with RMS layer norms, relative position buckets and no attention
scaling. Module names follow the checkpoints (``encoder.block.{i}.layer.0.SelfAttention.q``,
``decoder.block.{i}.layer.1.EncDecAttention``, ``layer.{-1}.DenseReluDense.wi`` / ``wi_0``/``wi_1``).

v1.0 uses a ReLU feed-forward (``wi``/``wo``) and an LM head tied to the shared embeddings, whose input is scaled by
d_model**-0.5; v1.1 (``feed_forward_proj="gated-gelu"``) a gated feed-forward (``wi_0``, ``wi_1``) and an untied
head (``tie_word_embeddings=False``), unscaled. Only layer 0 of each stack holds ``relative_attention_bias``; its
bias (bidirectional buckets in the encoder, causal in the decoder) is shared by every layer of the stack.

>>> import torch
>>> from pretrained.models.t5 import T5Config, T5ForConditionalGeneration
>>> cfg = T5Config(vocab_size=99, d_model=16, d_kv=4, d_ff=8, num_layers=1, num_heads=2, decoder_start_token_id=0)
>>> T5ForConditionalGeneration(cfg).eval()(torch.tensor([[5, 6, 1]]), labels=torch.tensor([[7, 1]])).logits.shape
torch.Size([1, 2, 99])
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..config import PretrainedConfig
from ..nn.activations import get_activation
from ..nn.cross_attention import attend_grouped, cross_attention_kv, cross_source, self_attention_kv
from ..nn.heads import token_loss
from ..nn.kv_cache import EncoderDecoderCache
from ..nn.linear import Linear, fuse_weights, fused_weight, linear, linear_act
from ..nn.seq2seq import causal_padding_mask, check_source, expanded_mask
from ..outputs import (
    BaseModelOutput,
    BaseModelOutputWithPastAndCrossAttentions,
    Seq2SeqSequenceClassifierOutput,
    TokenClassifierOutput,
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


class T5Config(PretrainedConfig):
    model_type = "t5"
    attribute_map = {
        "hidden_size": "d_model",
        "num_attention_heads": "num_heads",
        "num_hidden_layers": "num_layers",
        "head_dim": "d_kv",
    }
    defaults = {
        "vocab_size": 32128,
        "d_model": 512,
        "d_kv": 64,
        "d_ff": 2048,
        "num_layers": 6,
        "num_decoder_layers": None,
        "num_heads": 8,
        "relative_attention_num_buckets": 32,
        "relative_attention_max_distance": 128,
        "dropout_rate": 0.1,
        "classifier_dropout": 0.0,
        "layer_norm_epsilon": 1e-6,
        "initializer_factor": 1.0,
        "feed_forward_proj": "relu",
        "is_encoder_decoder": True,
        "use_cache": True,
        "pad_token_id": 0,
        "eos_token_id": 1,
    }

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        if self.num_decoder_layers is None:
            self.num_decoder_layers = self.num_layers
        parts = self.feed_forward_proj.split("-")
        if len(parts) > 2 or (len(parts) == 2 and parts[0] != "gated"):
            raise ValueError(
                f"config.feed_forward_proj={self.feed_forward_proj!r}: expected 'ACT' or 'gated-ACT' "
                "(e.g. 'relu' for T5 v1.0, 'gated-gelu' for T5 v1.1)"
            )
        # stored values win, as in the reference (they are written to config.json)
        if "dense_act_fn" not in kwargs:
            self.dense_act_fn = "gelu_new" if self.feed_forward_proj == "gated-gelu" else parts[-1]
        if "is_gated_act" not in kwargs:
            self.is_gated_act = parts[0] == "gated"


class T5LayerNorm(nn.Module):
    """RMS norm without mean subtraction or bias; the output takes the weight's dtype when it is half precision."""

    def __init__(self, hidden_size: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.variance_epsilon = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        variance = x.to(torch.float32).pow(2).mean(-1, keepdim=True)  # (B, T, 1)
        x = x * torch.rsqrt(variance + self.variance_epsilon)
        if self.weight.dtype in (torch.float16, torch.bfloat16):
            x = x.to(self.weight.dtype)
        return self.weight * x


def _linear(n_in: int, n_out: int, std: float) -> nn.Linear:
    """A bias-free projection remembering its initialization std (Mesh TensorFlow's fan-in rules)."""
    layer = Linear(n_in, n_out, bias=False)
    layer.init_std = std
    return layer


def _clamp_fp16(x: torch.Tensor) -> torch.Tensor:
    """The reference's fp16 guard after every T5 sub-layer."""
    if x.dtype != torch.float16:
        return x
    bound = torch.finfo(x.dtype).max - (1000 if bool(torch.isinf(x).any()) else 0)
    return x.clamp(-bound, bound)


def _attend_half(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    bias: torch.Tensor | None,
    dropout_p: float,
    training: bool,
    need_weights: bool,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Half-precision attention computed as the reference does (scores in the model dtype, softmax in float32):
    fused kernels round differently, which T5's unscaled scores amplify. q: (B, nh, T, d); k, v: (B_kv, nh, S, d)
    where B_kv = B / g holds one row per run of g query rows (cross-attention over a shared encoder output)."""
    B, nh, T, d = q.shape
    g = B // k.shape[0]
    if g > 1:
        q = q.unflatten(0, (-1, g)).transpose(1, 2).reshape(-1, nh, g * T, d)  # (B/g, nh, g*T, d)
    scores = q @ k.transpose(-1, -2)  # (B/g, nh, g*T, S)
    if bias is not None:
        scores += bias  # in place, as the reference: under autocast a float32 bias still yields half scores
    w = torch.softmax(scores.float(), dim=-1).type_as(scores)
    w = nn.functional.dropout(w, p=dropout_p, training=training)
    y = w @ v  # (B/g, nh, g*T, d)
    if g > 1:
        y, w = (t.unflatten(2, (g, T)).transpose(1, 2).flatten(0, 1) for t in (y, w))  # (B, nh, T, ...)
    return y, (w if need_weights else None)


class T5DenseActDense(nn.Module):
    def __init__(self, config: T5Config) -> None:
        super().__init__()
        f = config.initializer_factor
        self.wi = _linear(config.d_model, config.d_ff, f * config.d_model**-0.5)
        self.wo = _linear(config.d_ff, config.d_model, f * config.d_ff**-0.5)
        self.dropout = nn.Dropout(config.dropout_rate)
        self.act = get_activation(config.dense_act_fn)
        self.act_name = config.dense_act_fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.dropout(linear_act(x, self.wi.weight, None, self.act_name))  # (B, T, d_ff): act fused in
        return self.wo(h.to(self.wo.weight.dtype))  # (B, T, C)


class T5DenseGatedActDense(nn.Module):
    def __init__(self, config: T5Config) -> None:
        super().__init__()
        f = config.initializer_factor
        self.wi_0 = _linear(config.d_model, config.d_ff, f * config.d_model**-0.5)
        self.wi_1 = _linear(config.d_model, config.d_ff, f * config.d_model**-0.5)
        self.wo = _linear(config.d_ff, config.d_model, f * config.d_ff**-0.5)
        self.dropout = nn.Dropout(config.dropout_rate)
        self.act = get_activation(config.dense_act_fn)
        self.act_name = config.dense_act_fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fused = fused_weight([self.wi_0, self.wi_1])
        if fused is not None:  # both input projections in one matmul (see fuse_weights)
            gate, up = linear(x, *fused).chunk(2, dim=-1)  # (B, T, d_ff) each
            gate = self.act(gate)
        else:
            gate, up = linear_act(x, self.wi_0.weight, None, self.act_name), self.wi_1(x)  # act fused in
        h = self.dropout(gate * up)  # (B, T, d_ff)
        return self.wo(h.to(self.wo.weight.dtype))  # (B, T, C)


class T5LayerFF(nn.Module):
    def __init__(self, config: T5Config) -> None:
        super().__init__()
        self.DenseReluDense = (T5DenseGatedActDense if config.is_gated_act else T5DenseActDense)(config)
        self.layer_norm = T5LayerNorm(config.d_model, eps=config.layer_norm_epsilon)
        self.dropout = nn.Dropout(config.dropout_rate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.dropout(self.DenseReluDense(self.layer_norm(x)))


def relative_position_bucket(rel: torch.Tensor, bidirectional: bool, num_buckets: int, max_distance: int):
    """Mesh TensorFlow's bucketing of (key - query) distances: exact when small, logarithmic up to max_distance."""
    buckets = torch.zeros_like(rel)
    if bidirectional:
        num_buckets //= 2
        buckets += (rel > 0).long() * num_buckets
        rel = rel.abs()
    else:
        rel = -torch.min(rel, torch.zeros_like(rel))
    max_exact = num_buckets // 2
    large = (
        max_exact
        + (
            torch.log(rel.float() / max_exact)
            / math.log(max_distance / max_exact)
            * (num_buckets - max_exact)
        ).long()
    )
    large = torch.min(large, torch.full_like(large, num_buckets - 1))
    return buckets + torch.where(rel < max_exact, rel, large)


class T5Attention(nn.Module):
    """Unscaled multi-head attention; scores get the additive ``bias`` (relative positions + mask)."""

    def __init__(self, config: T5Config, layer_idx: int, has_relative_attention_bias: bool = False) -> None:
        super().__init__()
        f, d = config.initializer_factor, config.d_model
        self.n_heads, self.d_kv, self.layer_idx = config.num_heads, config.d_kv, layer_idx
        inner = self.n_heads * self.d_kv
        self.q = _linear(d, inner, f * (d * self.d_kv) ** -0.5)
        self.k = _linear(d, inner, f * d**-0.5)
        self.v = _linear(d, inner, f * d**-0.5)
        self.o = _linear(inner, d, f * inner**-0.5)
        if has_relative_attention_bias:
            self.relative_attention_bias = nn.Embedding(config.relative_attention_num_buckets, self.n_heads)
            self.relative_attention_bias.init_std = f * d**-0.5
        self.dropout = config.dropout_rate

    def heads(self, x: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        return x.view(B, T, self.n_heads, self.d_kv).transpose(1, 2)  # (B, nh, T, d_kv)

    def forward(self, x, bias, kv_states=None, cache: EncoderDecoderCache | None = None, need_weights=False):
        B, T, _ = x.shape
        fused = fused_weight([self.q, self.k, self.v]) if kv_states is None else None
        if fused is not None:  # q, k and v in one matmul (see fuse_weights)
            q, k, v = linear(x, *fused).split(self.q.weight.shape[0], dim=-1)  # (B, T, inner) each
            k, v = self_attention_kv(cache, self.layer_idx, self.heads(k), self.heads(v))
            q = self.heads(q)  # (B, nh, T, d_kv)
        elif kv_states is None:
            q = self.heads(self.q(x))  # (B, nh, T, d_kv)
            k, v = self_attention_kv(cache, self.layer_idx, self.heads(self.k(x)), self.heads(self.v(x)))
        else:
            q = self.heads(self.q(x))
            k, v = cross_attention_kv(
                cache, self.layer_idx, lambda: (self.heads(self.k(kv_states)), self.heads(self.v(kv_states)))
            )
        p = self.dropout if self.training else 0.0
        if q.dtype in (torch.float16, torch.bfloat16):
            y, w = _attend_half(q, k, v, bias, p, self.training, need_weights)
        else:
            y, w = attend_grouped(q, k, v, bias, dropout_p=p, scale=1.0, need_weights=need_weights)
        return self.o(y.transpose(1, 2).reshape(B, T, -1)), w  # (B, T, C)


class T5LayerSelfAttention(nn.Module):
    def __init__(self, config: T5Config, layer_idx: int, has_relative_attention_bias: bool) -> None:
        super().__init__()
        self.SelfAttention = T5Attention(config, layer_idx, has_relative_attention_bias)
        self.layer_norm = T5LayerNorm(config.d_model, eps=config.layer_norm_epsilon)
        self.dropout = nn.Dropout(config.dropout_rate)

    def forward(self, x, bias, cache=None, need_weights=False):
        h, w = self.SelfAttention(self.layer_norm(x), bias, cache=cache, need_weights=need_weights)
        return x + self.dropout(h), w


class T5LayerCrossAttention(nn.Module):
    def __init__(self, config: T5Config, layer_idx: int) -> None:
        super().__init__()
        self.EncDecAttention = T5Attention(config, layer_idx)
        self.layer_norm = T5LayerNorm(config.d_model, eps=config.layer_norm_epsilon)
        self.dropout = nn.Dropout(config.dropout_rate)

    def forward(self, x, enc, mask, cache=None, need_weights=False):
        h, w = self.EncDecAttention(self.layer_norm(x), mask, enc, cache=cache, need_weights=need_weights)
        return x + self.dropout(h), w


class T5Block(nn.Module):
    """``layer`` = [self-attention, (cross-attention in the decoder), feed-forward], each pre-norm + residual."""

    def __init__(self, config: T5Config, layer_idx: int, is_decoder: bool) -> None:
        super().__init__()
        self.layer = nn.ModuleList([T5LayerSelfAttention(config, layer_idx, layer_idx == 0)])
        if is_decoder:
            self.layer.append(T5LayerCrossAttention(config, layer_idx))
        self.layer.append(T5LayerFF(config))

    def forward(self, x, bias, enc=None, cross_mask=None, cache=None, need_weights=False):
        x, w = self.layer[0](x, bias, cache, need_weights)
        x, wc = _clamp_fp16(x), None
        if len(self.layer) == 3:
            x, wc = self.layer[1](x, enc, cross_mask, cache, need_weights)
            x = _clamp_fp16(x)
        return _clamp_fp16(self.layer[-1](x)), w, wc


class T5Stack(nn.Module):
    """The encoder (bidirectional buckets) or the decoder (causal, cross-attending, cached)."""

    def __init__(self, config: T5Config, embed_tokens: nn.Embedding, is_decoder: bool) -> None:
        super().__init__()
        self.config, self.is_decoder = config, is_decoder
        self.embed_tokens = embed_tokens
        n_layers = config.num_decoder_layers if is_decoder else config.num_layers
        self.block = nn.ModuleList(T5Block(config, i, is_decoder) for i in range(n_layers))
        self.final_layer_norm = T5LayerNorm(config.d_model, eps=config.layer_norm_epsilon)
        self.dropout = nn.Dropout(config.dropout_rate)

    def position_bias(self, q_len: int, past: int, device: torch.device) -> torch.Tensor:
        """(1, nh, Tq, past+Tq) relative position bias from layer 0's ``relative_attention_bias``."""
        table = self.block[0].layer[0].SelfAttention.relative_attention_bias
        q_pos = torch.arange(past, past + q_len, device=device)[:, None]  # (Tq, 1)
        rel = torch.arange(past + q_len, device=device)[None, :] - q_pos  # (Tq, Tk) key - query
        c = self.config
        buckets = relative_position_bucket(
            rel, not self.is_decoder, c.relative_attention_num_buckets, c.relative_attention_max_distance
        )
        # contiguous once here: attention would otherwise copy the permuted view in every layer
        return table(buckets).permute(2, 0, 1)[None].contiguous()  # (1, nh, Tq, Tk)

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
        check_source(input_ids, inputs_embeds, "decoder_input_ids" if self.is_decoder else "input_ids")
        x = self.embed_tokens(input_ids) if inputs_embeds is None else inputs_embeds  # (B, T, C)
        T, cache, cross_mask = x.shape[1], None, None
        if self.is_decoder:
            if encoder_hidden_states is None:
                raise ValueError(
                    "the decoder needs encoder_hidden_states (run the encoder, or pass encoder_outputs)"
                )
            use_cache = self.config.use_cache if use_cache is None else use_cache
            cache = (
                past_key_values
                if past_key_values is not None or not use_cache
                else new_cache(len(self.block), encoder_hidden_states.shape[1])
            )
            past = cache.get_seq_length() if cache is not None else 0
            mask = causal_padding_mask(attention_mask, T, past, x.dtype, x.device)  # (B|1, 1, T, past+T)
            cross_mask = expanded_mask(encoder_attention_mask, encoder_hidden_states)  # (B, 1, 1, S) or None
            # one row per beam group
            encoder_hidden_states, cross_mask = cross_source(cache, encoder_hidden_states, cross_mask)
        else:
            past, mask = 0, expanded_mask(attention_mask, x)  # (B, 1, 1, T) or None
        bias = self.position_bias(T, past, x.device).to(x.dtype)  # (1, nh, T, past+T)
        bias = bias if mask is None else bias + mask
        want_a = self.config.output_attentions if output_attentions is None else output_attentions
        want_h = self.config.output_hidden_states if output_hidden_states is None else output_hidden_states
        x = self.dropout(x)
        hidden, attns, cross = [], [], []
        for block in self.block:
            if want_h:  # kept only when asked: each is a (B, T, C) activation
                hidden.append(x)
            x, w, wc = block(x, bias, encoder_hidden_states, cross_mask, cache, want_a)
            attns.append(w)
            cross.append(wc)
        x = self.dropout(self.final_layer_norm(x))
        hidden.append(x)
        return BaseModelOutputWithPastAndCrossAttentions(
            x,
            cache,
            tuple(hidden) if want_h else None,
            tuple(attns) if want_a else None,
            tuple(cross) if want_a and self.is_decoder else None,
        )


class T5PreTrainedModel(Seq2SeqPreTrainedModel):
    config_class = T5Config
    base_model_prefix = "transformer"
    _ignore_unexpected = ("decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight",)

    def _fuse_for_inference(self) -> None:
        """Self-attention q/k/v, and the gated FFN's two input projections, each stored as one buffer."""
        for module in self.modules():
            if isinstance(module, T5LayerSelfAttention):
                fuse_weights([module.SelfAttention.q, module.SelfAttention.k, module.SelfAttention.v])
            elif isinstance(module, T5DenseGatedActDense):
                fuse_weights([module.wi_0, module.wi_1])

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, T5LayerNorm):
            module.weight.data.fill_(self.config.initializer_factor)
        elif isinstance(module, (nn.Linear, nn.Embedding)):
            module.weight.data.normal_(0.0, getattr(module, "init_std", self.config.initializer_factor))
            if getattr(module, "bias", None) is not None:
                module.bias.data.zero_()

    @classmethod
    def _from_state_dict(
        cls, config, state_dict, torch_dtype, ignore_mismatched, consume=False, init_kwargs=None
    ):
        """As the reference, a float16 load keeps the feed-forward output projections (``wo``) in float32."""
        wo = {
            k: v for k, v in state_dict.items() if k.endswith(".wo.weight")
        }  # read before the dict is consumed
        model, info = super()._from_state_dict(
            config, state_dict, torch_dtype, ignore_mismatched, consume, init_kwargs
        )
        if model.dtype == torch.float16:
            for name, module in model.named_modules():
                if name.endswith(".wo"):
                    src = wo.get(f"{name}.weight", module.weight)
                    module.weight = nn.Parameter(src.detach().to(torch.float32), requires_grad=True)
        return model, info

    def _build(self, config: T5Config, decoder: bool = True) -> None:
        self.shared = nn.Embedding(config.vocab_size, config.d_model)
        self.shared.init_std = config.initializer_factor
        self.encoder = T5Stack(config, self.shared, is_decoder=False)
        if decoder:
            self.decoder = T5Stack(config, self.shared, is_decoder=True)

    _shift_right = Seq2SeqPreTrainedModel.shift_labels  # the reference's name


class T5Model(T5PreTrainedModel, Seq2SeqModel):
    """The bare encoder-decoder: ``last_hidden_state`` is the decoder's (B, T, C); needs ``decoder_input_ids``."""

    def __init__(self, config: T5Config) -> None:
        super().__init__(config)
        self._build(config)
        self.post_init()


class T5ForConditionalGeneration(T5PreTrainedModel, Seq2SeqLM):
    """T5 with its LM head: translation, summarization, any text-to-text task.

    >>> model.generate(input_ids, max_new_tokens=20)  # doctest: +SKIP
    """

    labels_drop_cache = False  # as the reference: a forward with labels still returns past_key_values

    def __init__(self, config: T5Config) -> None:
        super().__init__(config)
        self._build(config)
        self.lm_head = Linear(config.d_model, config.vocab_size, bias=False)
        self.lm_head.init_std = config.initializer_factor
        self.post_init()

    def lm_logits(self, h: torch.Tensor) -> torch.Tensor:
        if self.config.tie_word_embeddings:
            h = h * self.config.d_model**-0.5  # Mesh TensorFlow rescales before the tied projection
        return self.lm_head(h)  # (B, T, V)


class T5EncoderModel(T5PreTrainedModel):
    """Only T5's encoder (sentence embeddings, T5-XXL text encoders); decoder weights in a checkpoint are skipped."""

    def __init__(self, config: T5Config) -> None:
        super().__init__(config)
        self._build(config, decoder=False)
        self.post_init()

    def get_decoder(self) -> None:
        return None

    @classmethod
    def _rename(cls, state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        state_dict = super()._rename(state_dict)
        return {
            k: v for k, v in state_dict.items() if "decoder" not in k
        }  # skipped unreported, as the reference

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> BaseModelOutput:
        out = self.encoder(
            input_ids,
            attention_mask,
            inputs_embeds=inputs_embeds,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
        )
        return BaseModelOutput(out.last_hidden_state, out.hidden_states, out.attentions)


def _shift_source(model: T5PreTrainedModel, input_ids: torch.Tensor | None) -> torch.Tensor:
    """Decoder inputs of T5's classification and QA heads when none are given: ``input_ids`` shifted right."""
    if input_ids is None:
        raise ValueError(
            f"{type(model).__name__} needs input_ids (shifted right into decoder_input_ids), or decoder_input_ids"
        )
    return model.shift_labels(input_ids)


class T5ClassificationHead(nn.Module):
    def __init__(self, config: T5Config) -> None:
        super().__init__()
        std = config.initializer_factor * config.d_model**-0.5
        self.dense = Linear(config.d_model, config.d_model)
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.out_proj = Linear(config.d_model, config.num_labels)
        self.dense.init_std = self.out_proj.init_std = std

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C) -> (B, num_labels)
        return self.out_proj(self.dropout(torch.tanh(self.dense(self.dropout(x)))))


class T5ForSequenceClassification(T5PreTrainedModel):
    """Classifies from the decoder state at the last ``eos`` of each input (the decoder reads the input shifted
    right unless given ``decoder_input_ids``)."""

    def __init__(self, config: T5Config) -> None:
        super().__init__(config)
        self.transformer = T5Model(config)
        self.classification_head = T5ClassificationHead(config)
        self.post_init()

    default_decoder_input_ids = _shift_source

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        decoder_input_ids: torch.Tensor | None = None,
        decoder_attention_mask: torch.Tensor | None = None,
        encoder_outputs=None,
        inputs_embeds: torch.Tensor | None = None,
        decoder_inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> Seq2SeqSequenceClassifierOutput:
        if input_ids is None:
            raise ValueError("T5ForSequenceClassification needs input_ids (it pools at the eos tokens)")
        if labels is not None:
            use_cache = False
        out = self.encode_decode(
            input_ids, attention_mask, decoder_input_ids, decoder_attention_mask, encoder_outputs, None,
            inputs_embeds, decoder_inputs_embeds, use_cache, output_attentions, output_hidden_states,
        )  # fmt: skip
        return eos_classification(self, out, input_ids, labels)


class T5ForTokenClassification(T5PreTrainedModel):
    """A label per token from T5's encoder: logits (B, T, num_labels)."""

    def __init__(self, config: T5Config) -> None:
        super().__init__(config)
        self.transformer = T5EncoderModel(config)
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.classifier = Linear(config.d_model, config.num_labels)
        self.classifier.init_std = config.initializer_factor
        self.post_init()

    def get_decoder(self) -> None:
        return None

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> TokenClassifierOutput:
        out = self.transformer(
            input_ids,
            attention_mask,
            inputs_embeds=inputs_embeds,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
        )
        logits = self.classifier(self.dropout(out.last_hidden_state))  # (B, T, num_labels)
        loss = token_loss(logits, labels) if labels is not None else None
        return TokenClassifierOutput(loss, logits, out.hidden_states, out.attentions)


class T5ForQuestionAnswering(T5PreTrainedModel):
    """Extractive QA: start/end logits (B, T) from the decoder reading ``input_ids`` shifted right. As in the
    reference, ``shared``, ``encoder`` and ``decoder`` sit at the top level (no ``transformer.`` prefix)."""

    def __init__(self, config: T5Config) -> None:
        super().__init__(config)
        self._build(config)
        self.qa_outputs = Linear(config.d_model, config.num_labels)
        self.qa_outputs.init_std = config.initializer_factor * config.d_model**-0.5
        self.post_init()

    default_decoder_input_ids = _shift_source

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
        if self.config.num_labels != 2:
            raise ValueError(
                f"T5ForQuestionAnswering needs config.num_labels 2 (start, end); got {self.config.num_labels}"
            )
        if start_positions is not None and end_positions is not None:
            use_cache = False
        out = self.encode_decode(
            input_ids, attention_mask, decoder_input_ids, decoder_attention_mask, encoder_outputs, None,
            inputs_embeds, decoder_inputs_embeds, use_cache, output_attentions, output_hidden_states,
        )  # fmt: skip
        return seq2seq_span_output(
            self.qa_outputs(out.last_hidden_state), start_positions, end_positions, out
        )


# task -> class name, read by models/auto.py
TASK_CLASSES = {
    "base": "T5Model",
    "sequence-classification": "T5ForSequenceClassification",
    "token-classification": "T5ForTokenClassification",
    "question-answering": "T5ForQuestionAnswering",
    "seq2seq-lm": "T5ForConditionalGeneration",
    "pretraining": "T5ForConditionalGeneration",  # as the reference's AutoModelForPreTraining
}
