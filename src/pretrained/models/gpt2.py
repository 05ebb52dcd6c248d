"""GPT-2: learned positions, pre-norm blocks, fused qkv. Module names as in the checkpoints
(``transformer.h.{i}.attn.c_attn``); the Conv1D weights keep their (in, out) checkpoint layout.

>>> import torch
>>> from pretrained.models.gpt2 import GPT2Config, GPT2LMHeadModel
>>> cfg = GPT2Config(vocab_size=99, n_embd=32, n_layer=2, n_head=4, n_positions=64)
>>> GPT2LMHeadModel(cfg)(torch.tensor([[1, 2, 3]])).logits.shape
torch.Size([1, 3, 99])
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..config import PretrainedConfig
from ..generation import GenerationMixin
from ..modeling import PreTrainedModel
from ..nn.activations import get_activation
from ..nn.causal_lm import (
    DecoderInputs,
    causal_attention,
    causal_lm_loss,
    keep_positions,
    last_token_logits,
    prepare_decoder,
)
from ..nn.heads import sequence_classification_loss, span_output, token_loss
from ..nn.linear import Linear, linear, linear_act
from ..outputs import (
    BaseModelOutputWithPast,
    CausalLMOutput,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutputWithPast,
    TokenClassifierOutput,
)
from .llama import _head_kwargs, head_dropout


class GPT2Config(PretrainedConfig):
    model_type = "gpt2"
    attribute_map = {
        "hidden_size": "n_embd",
        "max_position_embeddings": "n_positions",
        "num_attention_heads": "n_head",
        "num_hidden_layers": "n_layer",
    }
    defaults = {
        "vocab_size": 50257,
        "n_positions": 1024,
        "n_embd": 768,
        "n_layer": 12,
        "n_head": 12,
        "n_inner": None,
        "activation_function": "gelu_new",
        "resid_pdrop": 0.1,
        "embd_pdrop": 0.1,
        "attn_pdrop": 0.1,
        "layer_norm_epsilon": 1e-5,
        "initializer_range": 0.02,
        "summary_type": "cls_index",
        "summary_use_proj": True,
        "summary_activation": None,
        "summary_proj_to_labels": True,
        "summary_first_dropout": 0.1,
        "scale_attn_weights": True,
        "use_cache": True,
        "bos_token_id": 50256,
        "eos_token_id": 50256,
        "scale_attn_by_inverse_layer_idx": False,
        "reorder_and_upcast_attn": False,
    }


class Conv1D(nn.Module):
    """GPT-2's linear layer with its weight stored (in, out), exactly as in the checkpoints: y = x W + b."""

    stores_in_out = (
        True  # the weight parameter is (in, out): loading may store it transposed (see modeling.py)
    )

    def __init__(self, n_out: int, n_in: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (..., in) -> (..., out)
        return linear(
            x, self.weight.t(), self.bias
        )  # a view: no copy; linear() picks the kernel for its layout


class GPT2Attention(nn.Module):
    def __init__(self, config: GPT2Config, layer_idx: int) -> None:
        super().__init__()
        C, nh = config.n_embd, config.n_head
        if C % nh:
            raise ValueError(f"n_embd {C} is not a multiple of n_head {nh}")
        self.n_heads, self.layer_idx = nh, layer_idx
        self.c_attn = Conv1D(3 * C, C)
        self.c_proj = Conv1D(C, C)
        self.attn_dropout_p = config.attn_pdrop
        self.resid_dropout = nn.Dropout(config.resid_pdrop)
        scale = (C // nh) ** -0.5 if config.scale_attn_weights else 1.0
        if config.scale_attn_by_inverse_layer_idx:
            scale /= layer_idx + 1
        if config.attention_implementation != "eager":  # the reference's default (SDPA) ignores both flags
            scale = (C // nh) ** -0.5
        self.scale = scale
        # the reference honours reorder_and_upcast_attn in eager attention only
        self.upcast = config.reorder_and_upcast_attn and config.attention_implementation == "eager"

    def forward(
        self, x: torch.Tensor, inputs: DecoderInputs, need_weights: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        B, T, C = x.shape
        nh, hs = self.n_heads, C // self.n_heads
        q, k, v = self.c_attn(x).split(C, dim=2)  # (B, T, C) each
        q = q.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, nh, hs).transpose(1, 2)
        v = v.view(B, T, nh, hs).transpose(1, 2)
        if inputs.cache is not None:
            k, v = inputs.cache.update(self.layer_idx, k, v)  # (B, nh, past+T, hs)
        mask, is_causal = inputs.plan.get()
        p = self.attn_dropout_p if self.training else 0.0
        if self.upcast and q.dtype != torch.float32:
            y, w = _upcast_attention(q, k, v, mask, is_causal, self.scale, p)
            w = w if need_weights else None
        else:
            y, w = causal_attention(
                q, k, v, mask, is_causal, scale=self.scale, dropout_p=p, need_weights=need_weights
            )
        y = y.transpose(1, 2).reshape(B, T, C)  # (B, T, C)
        return self.resid_dropout(self.c_proj(y)), w


def _upcast_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None,
    is_causal: bool,
    scale: float,
    dropout_p: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """reorder_and_upcast_attn as the reference computes it: scores and softmax in float32 (autocast off), the
    weights cast back to v's dtype before multiplying v. q/k/v (B, nh, T*, hs), bool mask (B|1, 1, Tq, Tk)."""
    with torch.autocast(q.device.type, enabled=False):
        scores = torch.matmul(q.float(), k.float().transpose(-1, -2)) * scale  # (B, nh, Tq, Tk)
        if is_causal:
            tq, tk = scores.shape[-2:]
            mask = torch.ones(tq, tk, dtype=torch.bool, device=q.device).tril(tk - tq)
        if mask is not None:
            scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
        weights = scores.softmax(dim=-1).to(v.dtype)
    out = torch.matmul(
        nn.functional.dropout(weights, p=dropout_p, training=dropout_p > 0), v
    )  # (B, nh, Tq, hs)
    return out, weights


class GPT2MLP(nn.Module):
    def __init__(self, inner: int, config: GPT2Config) -> None:
        super().__init__()
        self.c_fc = Conv1D(inner, config.n_embd)
        self.c_proj = Conv1D(config.n_embd, inner)
        self.act = get_activation(config.activation_function)
        self.act_name = config.activation_function
        self.dropout = nn.Dropout(config.resid_pdrop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = linear_act(x, self.c_fc.weight.t(), self.c_fc.bias, self.act_name)  # (B, T, inner): act fused in
        return self.dropout(self.c_proj(h))


class GPT2Block(nn.Module):
    def __init__(self, config: GPT2Config, layer_idx: int) -> None:
        super().__init__()
        if getattr(config, "add_cross_attention", False):
            raise NotImplementedError(
                "GPT-2 with add_cross_attention (an encoder-decoder decoder) is not supported"
            )
        C = config.n_embd
        self.ln_1 = nn.LayerNorm(C, eps=config.layer_norm_epsilon)
        self.attn = GPT2Attention(config, layer_idx)
        self.ln_2 = nn.LayerNorm(C, eps=config.layer_norm_epsilon)
        self.mlp = GPT2MLP(config.n_inner if config.n_inner is not None else 4 * C, config)

    def forward(self, x: torch.Tensor, inputs: DecoderInputs, need_weights: bool):
        h, w = self.attn(self.ln_1(x), inputs, need_weights)
        x = x + h
        return x + self.mlp(self.ln_2(x)), w


class GPT2PreTrainedModel(PreTrainedModel):
    config_class = GPT2Config
    base_model_prefix = "transformer"
    _ignore_unexpected = (".attn.bias", ".attn.masked_bias")  # old checkpoints saved the causal-mask buffers

    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        std = self.config.initializer_range
        if isinstance(module, Conv1D):
            module.weight.data.normal_(0.0, std)
            module.bias.data.zero_()
        for name, p in module.named_parameters():
            if name == "c_proj.weight":  # residual projections: scaled by depth, as in the reference
                p.data.normal_(0.0, std / math.sqrt(2 * self.config.n_layer))


class GPT2Model(GPT2PreTrainedModel):
    """The bare GPT-2 decoder: ``last_hidden_state`` (B, T, C) and the KV cache."""

    def __init__(self, config: GPT2Config) -> None:
        super().__init__(config)
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.n_positions, config.n_embd)
        self.drop = nn.Dropout(config.embd_pdrop)
        self.h = nn.ModuleList(GPT2Block(config, i) for i in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.wte

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        past_key_values=None,
        inputs_embeds: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        use_cache: bool | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
        cache_position: torch.Tensor | None = None,
    ) -> BaseModelOutputWithPast:
        cfg = self.config
        use_cache = cfg.use_cache if use_cache is None else use_cache
        inputs = prepare_decoder(
            input_ids,
            inputs_embeds,
            attention_mask,
            position_ids,
            past_key_values,
            use_cache,
            cfg.n_layer,
            cache_position,
        )
        if inputs.past + inputs.q_len > cfg.n_positions:
            raise ValueError(
                f"sequence length {inputs.past + inputs.q_len} (cached {inputs.past} + new {inputs.q_len}) > "
                f"max_position_embeddings (n_positions) {cfg.n_positions}; truncate the prompt or generate fewer tokens"
            )
        x = self.wte(input_ids) if inputs_embeds is None else inputs_embeds  # (B, T, C)
        x = x + self.wpe(inputs.position_ids)
        if token_type_ids is not None:
            x = x + self.wte(token_type_ids)
        x = self.drop(x)
        want_h = cfg.output_hidden_states if output_hidden_states is None else output_hidden_states
        want_a = cfg.output_attentions if output_attentions is None else output_attentions
        hidden, attns = [], []
        for block in self.h:
            if want_h:
                hidden.append(x)
            x, w = block(x, inputs, want_a)
            attns.append(w)
        x = self.ln_f(x)
        hidden.append(x)
        return BaseModelOutputWithPast(
            x,
            inputs.cache if use_cache else None,
            tuple(hidden) if want_h else None,
            tuple(attns) if want_a else None,
        )


class GPT2LMHeadModel(GPT2PreTrainedModel, GenerationMixin):
    """GPT-2 with its language-model head (tied to ``wte``): next-token logits (B, T, V)."""

    _tied_weights_keys = ("lm_head.weight",)

    def __init__(self, config: GPT2Config) -> None:
        super().__init__(config)
        self.transformer = GPT2Model(config)
        self.lm_head = Linear(config.n_embd, config.vocab_size, bias=False)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        past_key_values=None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        use_cache: bool | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
        logits_to_keep: int | torch.Tensor = 0,
        token_type_ids: torch.Tensor | None = None,
        cache_position: torch.Tensor | None = None,
        *,
        num_items_in_batch: int | torch.Tensor | None = None,
        ignore_index: int = -100,
        shift_labels: torch.Tensor | None = None,
    ) -> CausalLMOutput:
        out = self.transformer(
            input_ids,
            attention_mask,
            position_ids,
            past_key_values,
            inputs_embeds,
            token_type_ids,
            use_cache,
            output_hidden_states,
            output_attentions,
            cache_position=cache_position,
        )
        logits = self.lm_head(keep_positions(out.last_hidden_state, logits_to_keep))  # (B, T_kept, V)
        loss = None
        if labels is not None:
            loss = causal_lm_loss(logits, labels, num_items_in_batch, ignore_index, shift_labels)
        return CausalLMOutput(loss, logits, out.past_key_values, out.hidden_states, out.attentions)


class GPT2ForSequenceClassification(GPT2PreTrainedModel):
    """GPT-2 scoring each sequence at its last non-pad token: logits (B, num_labels)."""

    def __init__(self, config: GPT2Config) -> None:
        super().__init__(config)
        self.transformer = GPT2Model(config)
        self.score = Linear(config.n_embd, config.num_labels, bias=False)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        **kwargs,
    ) -> SequenceClassifierOutputWithPast:
        kwargs.pop("return_dict", None)
        out = self.transformer(input_ids, attention_mask, **kwargs)
        logits = last_token_logits(self.score(out.last_hidden_state), input_ids, self.config.pad_token_id)
        loss = sequence_classification_loss(logits, labels, self.config) if labels is not None else None
        return SequenceClassifierOutputWithPast(
            loss, logits, out.past_key_values, out.hidden_states, out.attentions
        )


class GPT2ForTokenClassification(GPT2PreTrainedModel):
    """A label per token from GPT-2's (causal) hidden states: logits (B, T, num_labels)."""

    def __init__(self, config: GPT2Config) -> None:
        super().__init__(config)
        self.transformer = GPT2Model(config)
        self.dropout = nn.Dropout(head_dropout(config))
        self.classifier = Linear(config.n_embd, config.num_labels)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        **kwargs,
    ) -> TokenClassifierOutput:
        out = self.transformer(input_ids, attention_mask, **_head_kwargs(kwargs))
        logits = self.classifier(self.dropout(out.last_hidden_state))  # (B, T, num_labels)
        loss = token_loss(logits, labels) if labels is not None else None
        return TokenClassifierOutput(loss, logits, out.hidden_states, out.attentions)


class GPT2ForQuestionAnswering(GPT2PreTrainedModel):
    """Extractive QA on GPT-2: start/end logits (B, T) per token."""

    def __init__(self, config: GPT2Config) -> None:
        super().__init__(config)
        self.transformer = GPT2Model(config)
        self.qa_outputs = Linear(config.n_embd, 2)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        start_positions: torch.Tensor | None = None,
        end_positions: torch.Tensor | None = None,
        **kwargs,
    ) -> QuestionAnsweringModelOutput:
        out = self.transformer(input_ids, attention_mask, **_head_kwargs(kwargs))
        return span_output(self.qa_outputs(out.last_hidden_state), start_positions, end_positions, out)


# task -> class name, read by models/auto.py
TASK_CLASSES = {
    "base": "GPT2Model",
    "causal-lm": "GPT2LMHeadModel",
    "sequence-classification": "GPT2ForSequenceClassification",
    "token-classification": "GPT2ForTokenClassification",
    "question-answering": "GPT2ForQuestionAnswering",
    "pretraining": "GPT2LMHeadModel",  # as the reference's AutoModelForPreTraining
}
