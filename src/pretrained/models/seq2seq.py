"""What T5 and the BART family (BART, mBART, Marian) share as encoder-decoder models.

- ``Seq2SeqPreTrainedModel``: one embedding module is used by ``shared``, ``encoder.embed_tokens`` and
  ``decoder.embed_tokens`` (and by ``lm_head`` unless ``tie_word_embeddings`` is False), so those aliases are
  neither expected in a checkpoint nor written to one; old checkpoints that only name the encoder's embeddings
  still load. Labels become decoder inputs by ``shift_labels``.
- ``Seq2SeqModel``: the bare forward (encoder, or the given ``encoder_outputs``, then decoder).
- ``Seq2SeqLM``: the same plus the LM head (``lm_logits``), the loss and ``generate``.

>>> from pretrained.models.bart import BartConfig, BartModel
>>> model = BartModel(BartConfig(vocab_size=99, d_model=16, encoder_layers=1, decoder_layers=1,
...     encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=8, decoder_ffn_dim=8))
>>> sorted(model._tied_keys())
['decoder.embed_tokens.weight', 'encoder.embed_tokens.weight']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ..generation import GenerationMixin
from ..modeling import PreTrainedModel
from ..nn.heads import sequence_classification_loss, span_loss
from ..nn.kv_cache import EncoderDecoderCache, KVCache
from ..nn.seq2seq import lm_loss, shift_tokens_right
from ..outputs import (
    BaseModelOutput,
    ModelOutput,
    Seq2SeqLMOutput,
    Seq2SeqModelOutput,
    Seq2SeqSequenceClassifierOutput,
    Tensors,
)


class Seq2SeqPreTrainedModel(PreTrainedModel):
    """Base of the encoder-decoder models: accessors, alias-aware tying, label shifting."""

    def _base(self) -> nn.Module:
        return getattr(self, self.base_model_prefix, self)

    def get_encoder(self) -> nn.Module:
        return self._base().encoder

    def get_decoder(self) -> nn.Module:
        return self._base().decoder

    def get_input_embeddings(self) -> nn.Module:
        return self.get_encoder().embed_tokens

    def tie_weights(self) -> None:
        """The LM head shares the decoder's token embeddings (the shared ones) unless tie_word_embeddings is False."""
        out = self.get_output_embeddings()
        if out is not None and getattr(self.config, "tie_word_embeddings", True):
            out.weight = self.get_decoder().embed_tokens.weight

    def _tied_keys(self) -> set[str]:
        """Every parameter name after the first one of a shared tensor (module aliases and a tied ``lm_head``)."""
        first: dict[int, str] = {}
        aliases = set()
        for name, p in self.named_parameters(remove_duplicate=False):
            if id(p) in first:
                aliases.add(name)
            else:
                first[id(p)] = name
        return aliases

    def _match_keys(self, state_dict: dict[str, torch.Tensor], expected: Any) -> dict[str, torch.Tensor]:
        """Bare/head prefixes as usual; ``shared.weight`` taken from ``encoder.embed_tokens.weight`` when absent."""
        state_dict = super()._match_keys(state_dict, expected)
        for key in expected:
            if key.endswith("shared.weight") and key not in state_dict:
                legacy = key.removesuffix("shared.weight") + "encoder.embed_tokens.weight"
                if legacy in state_dict:
                    state_dict = {**state_dict, key: state_dict[legacy]}
        return state_dict

    def shift_labels(self, labels: torch.Tensor) -> torch.Tensor:
        """Decoder inputs for teacher forcing: the labels shifted right behind ``decoder_start_token_id``."""
        return shift_tokens_right(labels, self.config.pad_token_id, self.config.decoder_start_token_id)

    def prepare_decoder_input_ids_from_labels(self, labels: torch.Tensor) -> torch.Tensor:
        return self.shift_labels(labels)

    def default_decoder_input_ids(self, input_ids: torch.Tensor | None) -> torch.Tensor:
        """Decoder inputs when none are given (BART-style denoising shifts ``input_ids``; others need them)."""
        raise ValueError(
            f"{type(self).__name__} needs decoder_input_ids (or decoder_inputs_embeds, or labels)"
        )

    def encode_decode(
        self,
        input_ids: torch.Tensor | None,
        attention_mask: torch.Tensor | None,
        decoder_input_ids: torch.Tensor | None,
        decoder_attention_mask: torch.Tensor | None,
        encoder_outputs: Any,
        past_key_values: EncoderDecoderCache | None,
        inputs_embeds: torch.Tensor | None,
        decoder_inputs_embeds: torch.Tensor | None,
        use_cache: bool | None,
        output_attentions: bool | None,
        output_hidden_states: bool | None,
    ) -> Seq2SeqModelOutput:
        """Encode (unless ``encoder_outputs`` is given), then decode with cross-attention over the encoder output."""
        if decoder_input_ids is None and decoder_inputs_embeds is None:
            decoder_input_ids = self.default_decoder_input_ids(input_ids)
        if encoder_outputs is None:
            enc = self.get_encoder()(
                input_ids=input_ids,
                attention_mask=attention_mask,
                inputs_embeds=inputs_embeds,
                output_attentions=output_attentions,
                output_hidden_states=output_hidden_states,
            )
        else:
            enc = as_encoder_output(encoder_outputs)
        dec = self.get_decoder()(
            input_ids=decoder_input_ids,
            attention_mask=decoder_attention_mask,
            encoder_hidden_states=enc.last_hidden_state,
            encoder_attention_mask=attention_mask,
            past_key_values=past_key_values,
            inputs_embeds=decoder_inputs_embeds,
            use_cache=use_cache,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
        )
        return Seq2SeqModelOutput(
            last_hidden_state=dec.last_hidden_state,
            past_key_values=dec.past_key_values,
            decoder_hidden_states=dec.hidden_states,
            decoder_attentions=dec.attentions,
            cross_attentions=dec.cross_attentions,
            encoder_last_hidden_state=enc.last_hidden_state,
            encoder_hidden_states=enc.hidden_states,
            encoder_attentions=enc.attentions,
        )


class Seq2SeqModel(Seq2SeqPreTrainedModel):
    """The bare encoder-decoder forward: ``last_hidden_state`` is the decoder's (B, T, C)."""

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        decoder_input_ids: torch.Tensor | None = None,
        decoder_attention_mask: torch.Tensor | None = None,
        encoder_outputs: Any = None,
        past_key_values: EncoderDecoderCache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        decoder_inputs_embeds: torch.Tensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> Seq2SeqModelOutput:
        return self.encode_decode(
            input_ids, attention_mask, decoder_input_ids, decoder_attention_mask, encoder_outputs,
            past_key_values, inputs_embeds, decoder_inputs_embeds, use_cache, output_attentions,
            output_hidden_states,
        )  # fmt: skip


class Seq2SeqLM(Seq2SeqPreTrainedModel, GenerationMixin):
    """An encoder-decoder with an LM head: teacher-forced loss from ``labels``, and ``generate``.

    Subclasses implement ``lm_logits(h)`` (decoder states (B, T, C) -> logits (B, T, V)).
    """

    # BART-style heads drop the KV cache when given labels; the reference's T5 keeps it (``past_key_values`` set)
    labels_drop_cache: bool = True

    def get_output_embeddings(self) -> nn.Module:
        return self.lm_head

    def lm_logits(self, h: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        decoder_input_ids: torch.Tensor | None = None,
        decoder_attention_mask: torch.Tensor | None = None,
        encoder_outputs: Any = None,
        past_key_values: EncoderDecoderCache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        decoder_inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        logits_to_keep: int = 0,
    ) -> Seq2SeqLMOutput:
        """``labels`` (B, T) with -100 ignored give the mean cross-entropy; without decoder inputs they are
        shifted right into them. ``logits_to_keep=k`` computes only the last k positions' logits."""
        if labels is not None:
            if self.labels_drop_cache:
                use_cache = False  # teacher forcing: nothing to cache
            if decoder_input_ids is None and decoder_inputs_embeds is None:
                decoder_input_ids = self.shift_labels(labels)
        out = self.encode_decode(
            input_ids, attention_mask, decoder_input_ids, decoder_attention_mask, encoder_outputs,
            past_key_values, inputs_embeds, decoder_inputs_embeds, use_cache, output_attentions,
            output_hidden_states,
        )  # fmt: skip
        h = out.last_hidden_state if logits_to_keep <= 0 else out.last_hidden_state[:, -logits_to_keep:]
        logits = self.lm_logits(h)  # (B, T, V)
        return Seq2SeqLMOutput(
            loss=lm_loss(logits, labels) if labels is not None else None,
            logits=logits,
            **passed_on(out),
        )


def passed_on(out: Seq2SeqModelOutput) -> dict[str, Any]:
    """The encoder-decoder's outputs a head passes on unchanged: the cache, hidden states and attentions."""
    return dict(
        past_key_values=out.past_key_values,
        decoder_hidden_states=out.decoder_hidden_states,
        decoder_attentions=out.decoder_attentions,
        cross_attentions=out.cross_attentions,
        encoder_last_hidden_state=out.encoder_last_hidden_state,
        encoder_hidden_states=out.encoder_hidden_states,
        encoder_attentions=out.encoder_attentions,
    )


def new_cache(num_layers: int, source_length: int) -> EncoderDecoderCache:
    """An empty decoder cache: self-attention (grows per step) and cross-attention (sized to the source, filled on
    the first step)."""
    return EncoderDecoderCache(KVCache(num_layers), KVCache(num_layers, max_length=source_length))


def as_encoder_output(encoder_outputs: Any) -> BaseModelOutput:
    """Accept the encoder's output as a ``BaseModelOutput``, a tensor, or a tuple (last_hidden_state, ...)."""
    if isinstance(encoder_outputs, BaseModelOutput):
        return encoder_outputs
    if isinstance(encoder_outputs, torch.Tensor):
        return BaseModelOutput(encoder_outputs)
    if hasattr(encoder_outputs, "last_hidden_state"):
        return BaseModelOutput(
            encoder_outputs.last_hidden_state,
            getattr(encoder_outputs, "hidden_states", None),
            getattr(encoder_outputs, "attentions", None),
        )
    if isinstance(encoder_outputs, tuple | list) and encoder_outputs:
        return BaseModelOutput(*encoder_outputs[:3])
    raise ValueError(
        "encoder_outputs must be the encoder's output (BaseModelOutput, tensor or tuple); "
        f"got {type(encoder_outputs).__name__}"
    )


@dataclass
class Seq2SeqQuestionAnsweringModelOutput(ModelOutput):
    loss: torch.Tensor | None = None
    start_logits: torch.Tensor | None = None
    end_logits: torch.Tensor | None = None
    past_key_values: Any = None
    decoder_hidden_states: Tensors | None = None
    decoder_attentions: Tensors | None = None
    cross_attentions: Tensors | None = None
    encoder_last_hidden_state: torch.Tensor | None = None
    encoder_hidden_states: Tensors | None = None
    encoder_attentions: Tensors | None = None


def seq2seq_span_output(
    logits: torch.Tensor,
    start_positions: torch.Tensor | None,
    end_positions: torch.Tensor | None,
    out: Seq2SeqModelOutput,
) -> Seq2SeqQuestionAnsweringModelOutput:
    """Extractive QA over the decoder's states: (B, T, 2) logits -> start/end (B, T), the span loss when both
    positions are given, and the encoder-decoder's other outputs."""
    start, end = (t.squeeze(-1).contiguous() for t in logits.split(1, dim=-1))  # (B, T) each
    loss = None
    if start_positions is not None and end_positions is not None:
        loss = span_loss(start, end, start_positions, end_positions)
    return Seq2SeqQuestionAnsweringModelOutput(
        loss=loss,
        start_logits=start,
        end_logits=end,
        **passed_on(out),
    )


def eos_classification(
    model: nn.Module, out: Seq2SeqModelOutput, input_ids: torch.Tensor, labels: torch.Tensor | None
) -> Seq2SeqSequenceClassifierOutput:
    """Sequence classification of an encoder-decoder (BART's, T5's): the decoder's state at the last eos token of
    ``input_ids`` through ``model.classification_head``; the loss from ``labels`` by the config's problem type."""
    h = out.last_hidden_state  # (B, T, C)
    if h.shape[1] != input_ids.shape[1]:
        raise ValueError(
            f"{type(model).__name__} pools the decoder states at the eos tokens of input_ids: decoder inputs of "
            f"length {h.shape[1]} do not line up with input_ids of length {input_ids.shape[1]}"
        )
    eos_id = model.config.eos_token_id
    eos = input_ids.eq(eos_id).to(h.device)  # (B, T)
    counts = eos.sum(1)
    if bool((counts != counts[0]).any()) or int(counts[0]) == 0:
        raise ValueError(
            f"every input must hold the same number (>= 1) of eos tokens (id {eos_id}); got {counts.tolist()}"
        )
    pooled = h[eos, :].view(h.shape[0], -1, h.shape[-1])[:, -1, :]  # (B, C) at the last eos
    logits = model.classification_head(pooled)  # (B, num_labels)
    loss = sequence_classification_loss(logits, labels, model.config) if labels is not None else None
    return Seq2SeqSequenceClassifierOutput(
        loss=loss,
        logits=logits,
        **passed_on(out),
    )
