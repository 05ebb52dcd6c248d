"""Llama and the families that differ from it only in configuration: Mistral (sliding window) and Qwen2 (q/k/v bias,
per-layer sliding window). Module names as in the checkpoints (``model.layers.{i}.self_attn.q_proj``), so all three
load with no renames.

>>> import torch
>>> from pretrained.models.llama import LlamaConfig, LlamaForCausalLM
>>> cfg = LlamaConfig(vocab_size=99, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
...                   num_attention_heads=4, num_key_value_heads=2)
>>> LlamaForCausalLM(cfg)(torch.tensor([[1, 2, 3]])).logits.shape
torch.Size([1, 3, 99])
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..config import PretrainedConfig
from ..generation import GenerationMixin
from ..modeling import PreTrainedModel
from ..nn.causal_lm import (
    DecoderInputs,
    causal_attention,
    causal_lm_loss,
    keep_positions,
    last_token_logits,
    prepare_decoder,
)
from ..nn.heads import sequence_classification_loss, span_output, token_loss
from ..nn.linear import Linear, fuse_weights, fused_weight, linear
from ..nn.mlp import GatedMLP
from ..nn.norms import RMSNorm
from ..nn.rope import RotaryEmbedding, rotary_tables, rotate
from ..outputs import (
    BaseModelOutputWithPast,
    CausalLMOutput,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutputWithPast,
    TokenClassifierOutput,
)

_LLAMA_DEFAULTS: dict[str, Any] = {
    "vocab_size": 32000,
    "hidden_size": 4096,
    "intermediate_size": 11008,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": None,
    "hidden_act": "silu",
    "max_position_embeddings": 2048,
    "initializer_range": 0.02,
    "rms_norm_eps": 1e-6,
    "use_cache": True,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "pretraining_tp": 1,
    "tie_word_embeddings": False,
    "rope_theta": 10000.0,
    "rope_scaling": None,
    "attention_bias": False,
    "attention_dropout": 0.0,
    "mlp_bias": False,
    "head_dim": None,
}


class LlamaConfig(PretrainedConfig):
    """Llama's config; the model reads the family's layout through the small methods below."""

    model_type = "llama"
    defaults = _LLAMA_DEFAULTS
    derive_head_dim = True  # write hidden_size // num_attention_heads into head_dim, as the reference does

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.num_key_value_heads is None:
            self.num_key_value_heads = self.num_attention_heads
        if self.derive_head_dim and self.head_dim is None:
            self.head_dim = self.hidden_size // self.num_attention_heads
        scaling = getattr(self, "rope_scaling", None)
        if isinstance(scaling, dict) and "type" in scaling:  # older configs name it "type"
            scaling["rope_type"] = scaling["type"]

    def attention_biases(self) -> tuple[bool, bool]:
        """(bias on q/k/v projections, bias on o_proj)."""
        return bool(self.attention_bias), bool(self.attention_bias)

    def mlp_has_bias(self) -> bool:
        return bool(self.mlp_bias)

    def sliding_window_for(self, layer_idx: int) -> int | None:
        return None


class MistralConfig(LlamaConfig):
    """Mistral: Llama with grouped-query attention over a sliding window of ``sliding_window`` tokens."""

    model_type = "mistral"
    derive_head_dim = False
    defaults = {
        **{
            k: v
            for k, v in _LLAMA_DEFAULTS.items()
            if k not in ("pretraining_tp", "attention_bias", "mlp_bias")
        },
        "intermediate_size": 14336,
        "num_key_value_heads": 8,
        "max_position_embeddings": 4096 * 32,
        "sliding_window": 4096,
        "rope_scaling": None,
    }

    def attention_biases(self) -> tuple[bool, bool]:
        return False, False

    def mlp_has_bias(self) -> bool:
        return False

    def sliding_window_for(self, layer_idx: int) -> int | None:
        return self.sliding_window


class Qwen2Config(LlamaConfig):
    """Qwen2: Llama with biased q/k/v projections and an optional sliding window on layers >= max_window_layers."""

    model_type = "qwen2"
    derive_head_dim = False
    defaults = {
        **{
            k: v
            for k, v in _LLAMA_DEFAULTS.items()
            if k not in ("pretraining_tp", "attention_bias", "mlp_bias", "head_dim")
        },
        "vocab_size": 151936,
        "intermediate_size": 22016,
        "num_key_value_heads": 32,
        "max_position_embeddings": 32768,
        "bos_token_id": None,
        "eos_token_id": None,
        "use_sliding_window": False,
        "sliding_window": 4096,
        "max_window_layers": 28,
        "layer_types": None,
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not self.use_sliding_window:
            self.sliding_window = None
        if self.layer_types is None:
            self.layer_types = [
                "sliding_attention"
                if self.sliding_window is not None and i >= self.max_window_layers
                else "full_attention"
                for i in range(self.num_hidden_layers)
            ]
        if len(self.layer_types) != self.num_hidden_layers:
            raise ValueError(
                f"config.layer_types has {len(self.layer_types)} entries for {self.num_hidden_layers} layers"
            )

    def attention_biases(self) -> tuple[bool, bool]:
        return True, False

    def mlp_has_bias(self) -> bool:
        return False

    def sliding_window_for(self, layer_idx: int) -> int | None:
        return self.sliding_window if self.layer_types[layer_idx] == "sliding_attention" else None


class LlamaAttention(nn.Module):
    def __init__(self, config: LlamaConfig, layer_idx: int) -> None:
        super().__init__()
        C = config.hidden_size
        self.n_heads, self.n_kv_heads = config.num_attention_heads, config.num_key_value_heads
        if self.n_heads % self.n_kv_heads:
            raise ValueError(
                f"num_attention_heads {self.n_heads} is not a multiple of num_key_value_heads {self.n_kv_heads}"
            )
        self.head_dim = getattr(config, "head_dim", None) or C // self.n_heads
        self.layer_idx, self.dropout_p = layer_idx, config.attention_dropout
        self.sliding_window = config.sliding_window_for(layer_idx)
        qkv_bias, o_bias = config.attention_biases()
        self.q_proj = Linear(C, self.n_heads * self.head_dim, bias=qkv_bias)
        self.k_proj = Linear(C, self.n_kv_heads * self.head_dim, bias=qkv_bias)
        self.v_proj = Linear(C, self.n_kv_heads * self.head_dim, bias=qkv_bias)
        self.o_proj = Linear(self.n_heads * self.head_dim, C, bias=o_bias)

    def forward(
        self,
        x: torch.Tensor,
        rope: tuple[torch.Tensor, torch.Tensor],
        inputs: DecoderInputs,
        need_weights: bool,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        B, T, _ = x.shape
        hs = self.head_dim
        fused = fused_weight([self.q_proj, self.k_proj, self.v_proj])
        nh, nkv = self.n_heads, self.n_kv_heads
        if fused is not None:  # q, k and v in one matmul (see fuse_weights), q and k rotated in one go
            qkv = linear(x, *fused)  # (B, T, (nh + 2 n_kv) hs)
            qk = qkv[..., : (nh + nkv) * hs].view(B, T, nh + nkv, hs).transpose(1, 2)  # (B, nh + n_kv, T, hs)
            q, k = rotate(qk, *rope).split([nh, nkv], dim=1)  # rope: cos, signed sin (B|1, 1, T, hs)
            v = qkv[..., (nh + nkv) * hs :].view(B, T, nkv, hs).transpose(1, 2)  # (B, n_kv, T, hs)
        else:
            q = self.q_proj(x).view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
            k = self.k_proj(x).view(B, T, nkv, hs).transpose(1, 2)  # (B, n_kv, T, hs)
            v = self.v_proj(x).view(B, T, nkv, hs).transpose(1, 2)
            q, k = rotate(q, *rope), rotate(k, *rope)
        if inputs.cache is not None:
            k, v = inputs.cache.update(self.layer_idx, k, v)  # (B, n_kv, past+T, hs)
        mask, is_causal = inputs.plan.get(self.sliding_window)
        p = self.dropout_p if self.training else 0.0
        y, w = causal_attention(
            q, k, v, mask, is_causal, scale=hs**-0.5, dropout_p=p, need_weights=need_weights
        )
        return self.o_proj(y.transpose(1, 2).reshape(B, T, -1)), w  # (B, T, C)


class LlamaDecoderLayer(nn.Module):
    def __init__(self, config: LlamaConfig, layer_idx: int) -> None:
        super().__init__()
        C = config.hidden_size
        self.self_attn = LlamaAttention(config, layer_idx)
        self.mlp = GatedMLP(
            hidden_size=C,
            intermediate_size=config.intermediate_size,
            act=config.hidden_act,
            bias=config.mlp_has_bias(),
        )
        self.input_layernorm = RMSNorm(C, eps=config.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(C, eps=config.rms_norm_eps)

    def forward(self, x: torch.Tensor, rope, inputs: DecoderInputs, need_weights: bool):
        h, w = self.self_attn(self.input_layernorm(x), rope, inputs, need_weights)
        x = x + h
        return x + self.mlp(self.post_attention_layernorm(x)), w


_FAMILY_PREFIX = {"llama": "Llama", "mistral": "Mistral", "qwen2": "Qwen2"}


class LlamaPreTrainedModel(PreTrainedModel):
    config_class = LlamaConfig
    base_model_prefix = "model"
    _ignore_unexpected = (".rotary_emb.inv_freq",)  # old checkpoints saved the RoPE frequencies

    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if isinstance(module, RMSNorm):
            module.weight.data.fill_(1.0)

    def _fuse_for_inference(self) -> None:
        """q/k/v, and the MLP's gate/up, each stored as one buffer (run as one matmul at inference)."""
        for module in self.modules():
            if isinstance(module, LlamaAttention):
                fuse_weights([module.q_proj, module.k_proj, module.v_proj])
            elif isinstance(module, GatedMLP):
                fuse_weights([module.gate_proj, module.up_proj])

    def _architecture_name(self) -> str:
        """The class name the reference uses for this config's family (``MistralForCausalLM``...)."""
        name = type(self).__name__
        for prefix in _FAMILY_PREFIX.values():
            name = name.removeprefix(prefix)
        return _FAMILY_PREFIX.get(self.config.model_type, "Llama") + name


class LlamaModel(LlamaPreTrainedModel):
    """The bare decoder: ``last_hidden_state`` (B, T, C) and the KV cache."""

    def __init__(self, config: LlamaConfig) -> None:
        super().__init__(config)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size, config.pad_token_id)
        self.layers = nn.ModuleList(LlamaDecoderLayer(config, i) for i in range(config.num_hidden_layers))
        self.norm = RMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.rotary_emb = RotaryEmbedding(config)  # not a module: no weights, frequencies computed lazily
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embed_tokens

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        past_key_values=None,
        inputs_embeds: torch.Tensor | None = None,
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
            len(self.layers),
            cache_position,
        )
        x = self.embed_tokens(input_ids) if inputs_embeds is None else inputs_embeds  # (B, T, C)
        rope = rotary_tables(*self.rotary_emb(inputs.position_ids, x.dtype))  # (B|1, 1, T, hs) each
        want_h = cfg.output_hidden_states if output_hidden_states is None else output_hidden_states
        want_a = cfg.output_attentions if output_attentions is None else output_attentions
        hidden, attns = [], []
        for layer in self.layers:
            if want_h:
                hidden.append(x)
            x, w = layer(x, rope, inputs, want_a)
            attns.append(w)
        x = self.norm(x)
        hidden.append(x)
        return BaseModelOutputWithPast(
            x,
            inputs.cache if use_cache else None,
            tuple(hidden) if want_h else None,
            tuple(attns) if want_a else None,
        )


class LlamaForCausalLM(LlamaPreTrainedModel, GenerationMixin):
    """Llama (or Mistral, Qwen2) with its language-model head: next-token logits (B, T, V)."""

    _tied_weights_keys = ("lm_head.weight",)

    def __init__(self, config: LlamaConfig) -> None:
        super().__init__(config)
        self.model = LlamaModel(config)
        self.lm_head = Linear(config.hidden_size, config.vocab_size, bias=False)
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
        cache_position: torch.Tensor | None = None,
        *,
        num_items_in_batch: int | torch.Tensor | None = None,
        ignore_index: int = -100,
        shift_labels: torch.Tensor | None = None,
    ) -> CausalLMOutput:
        out = self.model(
            input_ids,
            attention_mask,
            position_ids,
            past_key_values,
            inputs_embeds,
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


class LlamaForSequenceClassification(LlamaPreTrainedModel):
    """Scores each sequence at its last non-pad token: logits (B, num_labels)."""

    def __init__(self, config: LlamaConfig) -> None:
        super().__init__(config)
        self.model = LlamaModel(config)
        self.score = Linear(config.hidden_size, config.num_labels, bias=False)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        **kwargs,
    ) -> SequenceClassifierOutputWithPast:
        kwargs.pop("return_dict", None)
        out = self.model(input_ids, attention_mask, **_without_loss_keywords(kwargs))
        logits = last_token_logits(self.score(out.last_hidden_state), input_ids, self.config.pad_token_id)
        loss = sequence_classification_loss(logits, labels, self.config) if labels is not None else None
        return SequenceClassifierOutputWithPast(
            loss, logits, out.past_key_values, out.hidden_states, out.attentions
        )


def head_dropout(config: PretrainedConfig) -> float:
    """The token-classification head's dropout: ``classifier_dropout``, else ``hidden_dropout``, else 0.1."""
    for name in ("classifier_dropout", "hidden_dropout"):
        p = getattr(config, name, None)
        if p is not None:
            return p
    return 0.1


# loss keywords the reference's Trainer passes to every head (its generic heads take **kwargs); the
# classification heads ignore them, as the reference's do
LOSS_KEYWORDS = ("num_items_in_batch", "ignore_index", "shift_labels")


def _without_loss_keywords(kwargs: dict) -> dict:
    """``kwargs`` less the reference's loss keywords (``LOSS_KEYWORDS``): the caller reads what it uses first."""
    for key in LOSS_KEYWORDS:
        kwargs.pop(key, None)
    return kwargs


def _head_kwargs(kwargs: dict) -> dict:
    """A head's extra forward arguments for the bare decoder: no cache unless asked (heads return none)."""
    kwargs.pop("return_dict", None)
    kwargs.setdefault("use_cache", False)
    return kwargs


class LlamaForTokenClassification(LlamaPreTrainedModel):
    """A label per token from the decoder's (causal) hidden states: logits (B, T, num_labels)."""

    def __init__(self, config: LlamaConfig) -> None:
        super().__init__(config)
        self.model = LlamaModel(config)
        self.dropout = nn.Dropout(head_dropout(config))
        self.score = Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        **kwargs,
    ) -> TokenClassifierOutput:
        out = self.model(input_ids, attention_mask, **_head_kwargs(_without_loss_keywords(kwargs)))
        logits = self.score(self.dropout(out.last_hidden_state))  # (B, T, num_labels)
        loss = token_loss(logits.float(), labels) if labels is not None else None
        return TokenClassifierOutput(loss, logits, out.hidden_states, out.attentions)


class LlamaForQuestionAnswering(LlamaPreTrainedModel):
    """Extractive QA: start/end logits (B, T) per token. The decoder sits under ``transformer`` (the reference's
    name for Llama and Qwen2 here; Mistral's is ``model``), so the checkpoints' keys read ``transformer.layers...``."""

    base_model_prefix = "transformer"

    def __init__(self, config: LlamaConfig) -> None:
        super().__init__(config)
        setattr(self, self.base_model_prefix, LlamaModel(config))
        self.qa_outputs = Linear(config.hidden_size, 2)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        start_positions: torch.Tensor | None = None,
        end_positions: torch.Tensor | None = None,
        **kwargs,
    ) -> QuestionAnsweringModelOutput:
        if "ignore_index" in kwargs:
            raise TypeError(
                "ignore_index is not an argument of question answering: positions past the input are ignored"
            )
        items = kwargs.pop("num_items_in_batch", None)
        out = getattr(self, self.base_model_prefix)(
            input_ids, attention_mask, **_head_kwargs(_without_loss_keywords(kwargs))
        )
        return span_output(self.qa_outputs(out.last_hidden_state), start_positions, end_positions, out, items)


# The same classes under the reference's family names, reading their own config class when loaded directly.
class MistralModel(LlamaModel):
    config_class = MistralConfig


class MistralForCausalLM(LlamaForCausalLM):
    config_class = MistralConfig


class MistralForSequenceClassification(LlamaForSequenceClassification):
    config_class = MistralConfig


class MistralForTokenClassification(LlamaForTokenClassification):
    config_class = MistralConfig


class MistralForQuestionAnswering(LlamaForQuestionAnswering):
    config_class = MistralConfig
    base_model_prefix = "model"


class Qwen2Model(LlamaModel):
    config_class = Qwen2Config


class Qwen2ForCausalLM(LlamaForCausalLM):
    config_class = Qwen2Config


class Qwen2ForSequenceClassification(LlamaForSequenceClassification):
    config_class = Qwen2Config


class Qwen2ForTokenClassification(LlamaForTokenClassification):
    config_class = Qwen2Config


class Qwen2ForQuestionAnswering(LlamaForQuestionAnswering):
    config_class = Qwen2Config


# task -> class name, read by models/auto.py (models/mistral.py and models/qwen2.py name the family classes)
TASK_CLASSES = {
    "base": "LlamaModel",
    "causal-lm": "LlamaForCausalLM",
    "sequence-classification": "LlamaForSequenceClassification",
    "token-classification": "LlamaForTokenClassification",
    "question-answering": "LlamaForQuestionAnswering",
}
