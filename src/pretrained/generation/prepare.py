"""Input preparation for ``generate``: special tokens, masks, the encoder pass, lengths, and the per-step forward.

>>> from pretrained.generation import GenerationConfig
>>> cfg = GenerationConfig(eos_token_id=[2, 3])
>>> special_tokens(cfg, batch_size=1, has_mask=True, device="cpu")
(tensor([2, 3]), 2)
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import math
from dataclasses import dataclass
from typing import Any

import torch

from .config import GenerationConfig

log = logging.getLogger(__name__)

_SEQ2SEQ_INPUTS = ("encoder_outputs", "decoder_input_ids", "decoder_attention_mask")


@dataclass
class Inputs:
    """Everything the decoding loop needs, batch-expanded for beams / return sequences."""

    ids: torch.Tensor  # (B, T) prompt (decoder-only) or decoder start ids (seq2seq)
    attention_mask: torch.Tensor | None  # (B, T) decoder-only padding mask
    prompt_ids: torch.Tensor  # (B0, S) the un-expanded prompt / encoder input (for encoder-side processors)
    eos: torch.Tensor | None  # (n_eos,)
    pad_token_id: int | None
    encoder_outputs: Any = None
    encoder_mask: torch.Tensor | None = None  # (B, S)
    decoder_attention_mask: torch.Tensor | None = None  # (B, T)
    group: int = 1  # each prompt's rows: consecutive groups of ``group`` identical rows after ``expand``
    embeds: torch.Tensor | None = None  # (B, T_e, C) decoder-only inputs_embeds, fed at the first step only

    @property
    def offset(self) -> int:
        """Positions before ``ids``'s first one: the prompt embeddings that have no ids (0 without embeddings)."""
        return 0 if self.embeds is None else self.embeds.shape[1] - self.ids.shape[1]

    def expand(self, n: int) -> None:
        """Repeat each row ``n`` times (beams / num_return_sequences)."""
        self.group *= n

        def rep(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t.repeat_interleave(n, dim=0)

        self.ids = rep(self.ids)
        self.attention_mask = rep(self.attention_mask)
        self.encoder_mask = rep(self.encoder_mask)
        self.decoder_attention_mask = rep(self.decoder_attention_mask)
        self.embeds = rep(self.embeds)
        if self.encoder_outputs is not None:
            self.encoder_outputs = expand_encoder_outputs(self.encoder_outputs, n)

    def buffer(self, max_length: int | float) -> torch.Tensor:
        """(B, max_length) ids buffer holding the prompt; later positions are written as tokens come."""
        fill = self.pad_token_id if self.pad_token_id is not None else 0
        size = (self.ids.shape[0], buffer_length(max_length))
        out = torch.full(size, fill, dtype=torch.long, device=self.ids.device)
        out[:, : self.ids.shape[1]] = self.ids
        return out


def buffer_length(max_length: int | float) -> int:
    """Room for a sequence of at most ``max_length`` tokens. A fractional max_length (``max_new_tokens=1.5``)
    stops generation at the first length >= it, as the reference's comparison does."""
    return math.ceil(max_length)


def expand_encoder_outputs(outputs: Any, n: int) -> Any:
    """Repeat the tensor fields of an encoder output ``n`` times along the batch."""
    if dataclasses.is_dataclass(outputs):
        changes = {
            f.name: getattr(outputs, f.name).repeat_interleave(n, dim=0)
            for f in dataclasses.fields(outputs)
            if isinstance(getattr(outputs, f.name), torch.Tensor)
        }
        return dataclasses.replace(outputs, **changes)
    if isinstance(outputs, tuple | list):
        return type(outputs)(
            o.repeat_interleave(n, dim=0) if isinstance(o, torch.Tensor) else o for o in outputs
        )
    raise TypeError(f"encoder_outputs of type {type(outputs).__name__}: pass the encoder's output object")


def special_tokens(
    cfg: GenerationConfig, *, batch_size: int, has_mask: bool, device: Any
) -> tuple[torch.Tensor | None, int | None]:
    """(eos ids as a 1-D tensor or None, pad id); a missing pad id falls back to the first EOS, as the reference."""
    eos = None
    if cfg.eos_token_id is not None:
        eos = torch.as_tensor(cfg.eos_token_id, dtype=torch.long, device=device).reshape(-1)
        if (eos < 0).any():
            log.warning("eos_token_id=%s has negative ids: generation will not stop early", cfg.eos_token_id)
    pad = cfg.pad_token_id
    if pad is None and eos is not None:
        level = logging.WARNING if batch_size > 1 else logging.INFO
        if not has_mask and batch_size > 1:
            log.warning(
                "no attention_mask and no pad_token_id: pass the tokenizer's attention_mask for padded batches"
            )
        pad = int(eos[0])
        log.log(level, "Setting `pad_token_id` to `eos_token_id`:%d for open-end generation.", pad)
    return eos, pad


def prepare_inputs(
    model: Any, cfg: GenerationConfig, input_ids: Any, attention_mask: Any, model_kwargs: dict[str, Any]
) -> Inputs:
    """Check and assemble the prompt, its mask and (seq2seq) the encoder output and decoder start ids."""
    enc_dec = bool(getattr(model.config, "is_encoder_decoder", False))
    _check_model_kwargs(model_kwargs, enc_dec)
    encoder_outputs = model_kwargs.get("encoder_outputs")
    input_ids = _as_ids(input_ids, "input_ids", model.device)
    embeds = model_kwargs.get("inputs_embeds")
    if embeds is not None:
        return _embeds_inputs(model, cfg, input_ids, attention_mask, embeds, model_kwargs, enc_dec)
    if input_ids is None:
        input_ids = _initial_ids(model, cfg, encoder_outputs, attention_mask)
    batch = input_ids.shape[0]
    eos, pad = special_tokens(
        cfg, batch_size=batch, has_mask=attention_mask is not None, device=input_ids.device
    )
    if attention_mask is not None:
        attention_mask = _as_ids(attention_mask, "attention_mask", input_ids.device)
        if attention_mask.shape != input_ids.shape:
            raise ValueError(
                f"attention_mask has shape {tuple(attention_mask.shape)} but input_ids has {tuple(input_ids.shape)}"
            )
    elif encoder_outputs is None:
        attention_mask = _infer_mask(input_ids, pad, eos)
    _check_context(model, input_ids.shape[1], "encoder input" if enc_dec else "prompt")
    if not enc_dec:
        if pad is not None and batch > 1 and bool((input_ids[:, -1] == pad).any()):
            log.warning(
                "A decoder-only architecture is being used, but right-padding was detected! For correct "
                "generation results, please set `padding_side='left'` when initializing the tokenizer."
            )
        return Inputs(input_ids, attention_mask, input_ids, eos, pad)
    if encoder_outputs is None:
        encoder_outputs = _run_encoder(model, cfg, input_ids, attention_mask)
    dec_ids, dec_mask = _decoder_start(cfg, model_kwargs, batch, input_ids.device)
    return Inputs(dec_ids, None, input_ids, eos, pad, encoder_outputs, attention_mask, dec_mask)


def _embeds_inputs(
    model: Any,
    cfg: GenerationConfig,
    input_ids: torch.Tensor | None,
    attention_mask: Any,
    embeds: torch.Tensor,
    model_kwargs: dict[str, Any],
    enc_dec: bool,
) -> Inputs:
    """``inputs_embeds`` (B, T_e, C) as the prompt, the reference's way: an encoder-decoder encodes them; a
    decoder-only model takes them at the first step, then the new tokens' ids (the returned ids are ``input_ids``,
    empty unless given, followed by the new tokens)."""
    if not isinstance(embeds, torch.Tensor) or embeds.dim() != 3:
        shape = tuple(embeds.shape) if isinstance(embeds, torch.Tensor) else type(embeds).__name__
        raise ValueError(f"inputs_embeds must be a (batch, seq_len, hidden) tensor, got {shape}")
    batch, length = embeds.shape[:2]
    if attention_mask is not None:
        attention_mask = _as_ids(attention_mask, "attention_mask", embeds.device)
    if enc_dec:
        if input_ids is not None:
            raise ValueError("You passed `inputs_embeds` and `input_ids` to `.generate()`. Please pick one.")
        eos, pad = special_tokens(
            cfg, batch_size=batch, has_mask=attention_mask is not None, device=embeds.device
        )
        if attention_mask is None:
            attention_mask = torch.ones(batch, length, dtype=torch.long, device=embeds.device)
        _check_context(model, length, "encoder input")
        encoder_outputs = model_kwargs.get("encoder_outputs")
        if encoder_outputs is None:
            encoder_outputs = _run_encoder(model, cfg, None, attention_mask, embeds)
        dec_ids, dec_mask = _decoder_start(cfg, model_kwargs, batch, embeds.device)
        return Inputs(dec_ids, None, embeds, eos, pad, encoder_outputs, attention_mask, dec_mask)
    if "inputs_embeds" not in inspect.signature(model.forward).parameters:
        raise ValueError(f"{type(model).__name__} does not take inputs_embeds; pass input_ids")
    if input_ids is None:
        input_ids = torch.ones(batch, 0, dtype=torch.long, device=embeds.device)
    eos, pad = special_tokens(
        cfg, batch_size=batch, has_mask=attention_mask is not None, device=embeds.device
    )
    if attention_mask is None:  # inferred from input_ids when they are given, as the reference
        ids = input_ids if input_ids.shape[1] > 0 else None
        attention_mask = (
            _infer_mask(ids, pad, eos)
            if ids is not None
            else torch.ones(batch, length, dtype=torch.long, device=embeds.device)
        )
    if attention_mask.shape != (batch, length):
        raise ValueError(
            f"attention_mask has shape {tuple(attention_mask.shape)} but inputs_embeds has {length} positions "
            f"for a batch of {batch}"
        )
    _check_context(model, length, "prompt")
    # the embeddings are fed once: later steps need the cache (the reference forces it too)
    cfg.use_cache = True
    return Inputs(input_ids, attention_mask.to(embeds.device), input_ids, eos, pad, embeds=embeds)


def _check_model_kwargs(model_kwargs: dict[str, Any], enc_dec: bool) -> None:
    model_kwargs = {k: v for k, v in model_kwargs.items() if k != "inputs_embeds"}
    allowed = _SEQ2SEQ_INPUTS if enc_dec else ()
    unused = [k for k, v in model_kwargs.items() if v is not None and k not in allowed]
    if unused:
        raise ValueError(
            f"The following `model_kwargs` are not used by the model: {unused} (note: typos in the generate "
            "arguments will also show up in this list)"
        )


def _as_ids(value: Any, name: str, device: Any) -> torch.Tensor | None:
    if value is None:
        return None
    if not isinstance(value, torch.Tensor):
        value = torch.tensor(value, device=device)
        value = value[None] if value.dim() == 1 else value
    if value.dim() != 2:
        raise ValueError(
            f"{name} must be (batch, seq_len); got shape {tuple(value.shape)} (use ids[None] for one)"
        )
    if value.is_floating_point() or value.is_complex():
        raise ValueError(f"{name} must hold integer ids, got dtype {value.dtype}")
    return value.long()


def _initial_ids(
    model: Any, cfg: GenerationConfig, encoder_outputs: Any, attention_mask: Any
) -> torch.Tensor:
    if encoder_outputs is not None:  # dummy encoder ids, never encoded
        hidden = encoder_outputs[0] if not hasattr(encoder_outputs, "last_hidden_state") else None
        hidden = hidden if hidden is not None else encoder_outputs.last_hidden_state
        return torch.full(hidden.shape[:2], -100, dtype=torch.long, device=hidden.device)
    if cfg.bos_token_id is None:
        raise ValueError("`bos_token_id` has to be defined when no `input_ids` are provided.")
    batch = attention_mask.shape[0] if isinstance(attention_mask, torch.Tensor) else 1
    return torch.full((batch, 1), cfg.bos_token_id, dtype=torch.long, device=model.device)


def _infer_mask(ids: torch.Tensor, pad: int | None, eos: torch.Tensor | None) -> torch.Tensor:
    """The reference's rule: mask out pad ids when the prompt has some and pad is not an EOS id."""
    if pad is not None and bool((ids == pad).any()) and (eos is None or not bool((eos == pad).any())):
        return ids.ne(pad).long()
    return torch.ones_like(ids)


def _check_context(model: Any, length: int, what: str) -> None:
    if not has_position_table(model):  # rotary models read any position, as the reference lets them
        return
    limit = getattr(model.config, "max_position_embeddings", None)
    if isinstance(limit, int) and length > limit:
        raise ValueError(
            f"{what} has {length} tokens but the model's context is max_position_embeddings={limit}; "
            "shorten or truncate it"
        )


def _run_encoder(
    model: Any,
    cfg: GenerationConfig,
    ids: torch.Tensor | None,
    mask: torch.Tensor | None,
    embeds: torch.Tensor | None = None,
) -> Any:
    encoder = model.get_encoder()
    params = inspect.signature(encoder.forward).parameters
    kwargs = {
        "input_ids": ids,
        "inputs_embeds": embeds,
        "attention_mask": mask,
        "output_attentions": cfg.output_attentions,
        "output_hidden_states": cfg.output_hidden_states,
        "return_dict": True,
    }
    return encoder(
        **{k: v for k, v in kwargs.items() if k in params and (v is not None or k == "attention_mask")}
    )


def _decoder_start(
    cfg: GenerationConfig, model_kwargs: dict[str, Any], batch: int, device: Any
) -> tuple[torch.Tensor, torch.Tensor | None]:
    start = cfg.decoder_start_token_id if cfg.decoder_start_token_id is not None else cfg.bos_token_id
    if start is None:
        raise ValueError(
            "`decoder_start_token_id` or `bos_token_id` has to be defined for encoder-decoder generation."
        )
    start_col = torch.as_tensor(start, dtype=torch.long, device=device).reshape(-1, 1)
    if start_col.shape[0] == 1:
        start_col = start_col.expand(batch, 1)
    elif start_col.shape[0] != batch:
        raise ValueError(f"decoder_start_token_id has {start_col.shape[0]} ids for a batch of {batch}")
    dec = _as_ids(model_kwargs.get("decoder_input_ids"), "decoder_input_ids", device)
    dec_mask = _as_ids(model_kwargs.get("decoder_attention_mask"), "decoder_attention_mask", device)
    if dec is None:
        return start_col.clone(), None
    if bool((dec[:, 0] != start_col[:, 0]).all()):  # the user's ids lack the start token: prepend it
        dec = torch.cat([start_col, dec], dim=-1)
        if dec_mask is not None:
            dec_mask = torch.cat([torch.ones_like(dec_mask[:, :1]), dec_mask], dim=-1)
    return dec, dec_mask


def resolve_lengths(model: Any, cfg: GenerationConfig, inputs: Inputs, explicit: dict[str, Any]) -> None:
    """Turn max_new_tokens / min_new_tokens into total lengths, as the reference does, and check them."""
    input_len = inputs.ids.shape[1]
    default_max = explicit.get("max_length") is None and cfg.max_length is not None
    default_min = explicit.get("min_length") is None and cfg.min_length is not None
    context = getattr(model.config, "max_position_embeddings", None)
    # decoder-only inputs_embeds without as many ids: max_length / min_length count the embeddings too
    embeds_len = inputs.embeds.shape[1] if inputs.embeds is not None else None
    embeds_only = embeds_len is not None and embeds_len != input_len
    if cfg.max_new_tokens is not None:
        if not default_max and cfg.max_length is not None:
            log.warning("both max_new_tokens and max_length are set: max_new_tokens takes precedence")
        cfg.max_length = cfg.max_new_tokens + input_len
    elif embeds_only:
        cfg.max_length -= embeds_len
    elif default_max and cfg.max_length == 20:  # the global default: 20 new tokens
        cfg.max_length = 20 + input_len
        if isinstance(context, int):
            cfg.max_length = min(cfg.max_length, context)
    if cfg.min_new_tokens is not None:
        if not default_min:
            log.warning("both min_new_tokens and min_length are set: min_new_tokens takes precedence")
        cfg.min_length = cfg.min_new_tokens + input_len
    elif embeds_only:
        cfg.min_length = max(cfg.min_length - embeds_len, 0)
    if cfg.max_length is None:
        raise ValueError("set max_new_tokens (or max_length) to bound generation")
    if input_len >= cfg.max_length:
        name = "decoder_input_ids" if getattr(model.config, "is_encoder_decoder", False) else "input_ids"
        raise ValueError(
            f"Input length of {name} is {input_len}, but `max_length` is set to {cfg.max_length}. This can lead "
            "to unexpected behavior. You should consider increasing `max_length` or, better yet, setting "
            "`max_new_tokens`."
        )
    if cfg.min_length is not None and cfg.min_length > cfg.max_length:
        log.warning(
            "min_length %d > max_length %d: generation stops at max_length", cfg.min_length, cfg.max_length
        )
    if isinstance(context, int) and cfg.max_length > context and not has_position_table(model):
        log.warning("max_length %d exceeds the model's context (%d positions)", cfg.max_length, context)


def has_position_table(model: Any) -> bool:
    """Whether the model's positions index a table of ``max_position_embeddings`` rows (learned or sinusoidal
    embeddings: GPT-2, BART, Marian), so generating past it fails; rotary models (no table) go on."""
    config = model.config
    return isinstance(getattr(config, "max_position_embeddings", None), int) and (
        getattr(config, "rope_theta", None) is None
    )


class StepRunner:
    """Runs the model on the new tokens of each step, with the cache, masks and positions the step needs."""

    def __init__(self, model: Any, cfg: GenerationConfig, inputs: Inputs, params: frozenset[str]) -> None:
        self.model, self.inputs, self.params = model, inputs, params
        self.enc_dec = bool(getattr(model.config, "is_encoder_decoder", False))
        self.use_cache = bool(cfg.use_cache)
        self.extra = {k: True for k in ("output_attentions", "output_hidden_states") if getattr(cfg, k)}
        if "logits_to_keep" in params:
            self.extra["logits_to_keep"] = 1
        if "return_dict" in params:
            self.extra["return_dict"] = True
        batch, max_length = inputs.ids.shape[0], buffer_length(cfg.max_length)
        self.embeds, self.offset = (
            inputs.embeds,
            inputs.offset,
        )  # offset: cache positions before the ids' first
        total = max_length + self.offset  # positions the longest sequence takes
        self.mask = self.positions = None
        if inputs.attention_mask is not None:  # decoder-only: (B, total) mask, later positions attended
            self.mask = torch.ones(batch, total, dtype=torch.long, device=inputs.ids.device)
            self.mask[:, : inputs.attention_mask.shape[1]] = inputs.attention_mask
            if "position_ids" in params:
                self.positions = (self.mask.cumsum(-1) - 1).masked_fill(self.mask == 0, 1)  # (B, max_length)
        self.dec_mask = None
        if inputs.decoder_attention_mask is not None:
            self.dec_mask = torch.ones(batch, max_length, dtype=torch.long, device=inputs.ids.device)
            self.dec_mask[:, : inputs.ids.shape[1]] = inputs.decoder_attention_mask
        self.cache = self._new_cache(total) if self.use_cache else None
        # a model with a position table fails past it: as the reference, only if a step actually gets there
        # (EOS may end every row before), with a clear error rather than an index error
        self.context = model.config.max_position_embeddings if has_position_table(model) else None
        self.max_length, self.prompt_len = max_length, inputs.ids.shape[1]
        self.top_prompt_position = self.prompt_len + self.offset - 1  # the largest position id in the prompt
        if self.positions is not None:
            self.top_prompt_position = int(inputs.attention_mask.sum(-1).max()) - 1
        # decoder-only prompts repeated for beams / return sequences are identical: prefill one copy of each
        outputs = ("output_attentions", "output_hidden_states")
        self.share_prefill = (
            inputs.group > 1
            and self.embeds is None
            and self.use_cache
            and not self.enc_dec
            and not any(k in self.extra for k in outputs)
        )

    def _new_cache(self, max_length: int) -> Any:
        encoder_len = None
        if self.enc_dec and self.inputs.encoder_mask is not None:
            encoder_len = self.inputs.encoder_mask.shape[1]
        from ..nn.kv_cache import EncoderDecoderCache, KVCache

        n_layers = _num_decoder_layers(self.model.config)
        cache = KVCache(n_layers, max_length=max_length - 1)  # the last token is never fed back
        return (
            EncoderDecoderCache(cache, KVCache(n_layers, max_length=encoder_len)) if self.enc_dec else cache
        )

    def __call__(self, ids: torch.Tensor) -> Any:
        """ids: (B, cur_len) everything so far; feeds the tokens the cache has not seen."""
        cur_len = ids.shape[1]
        if self.context is not None:
            self._check_context(cur_len)
        past = self.cache.get_seq_length() if self.cache is not None else 0
        kwargs: dict[str, Any] = {"past_key_values": self.cache, "use_cache": self.use_cache, **self.extra}
        # the prompt's embeddings at the first step; a single-position prompt's at every step, as the reference
        # (it feeds inputs_embeds whenever a step's new positions are as many as the embeddings)
        if self.embeds is not None and (past == 0 or self.embeds.shape[1] == 1):
            seen = past + self.embeds.shape[1]
            kwargs.update(inputs_embeds=self.embeds, attention_mask=self.mask[:, :seen])
            if self.positions is not None:
                kwargs["position_ids"] = self.positions[:, past:seen]
            return self._run(kwargs)
        new = ids[:, past - self.offset :] if self.use_cache else ids  # (B, T_new)
        cur_len += self.offset  # positions so far
        if self.enc_dec:
            kwargs.update(decoder_input_ids=new, encoder_outputs=self.inputs.encoder_outputs)
            kwargs["attention_mask"] = self.inputs.encoder_mask
            if self.dec_mask is not None:
                kwargs["decoder_attention_mask"] = self.dec_mask[:, :cur_len]
        else:
            kwargs.update(input_ids=new, attention_mask=self.mask[:, :cur_len])
            if self.positions is not None:
                kwargs["position_ids"] = self.positions[:, cur_len - new.shape[1] : cur_len]
            if past == 0 and self.share_prefill:
                return self._shared_prefill(kwargs)
        return self._run(kwargs)

    def _run(self, kwargs: dict[str, Any]) -> Any:
        out = self.model(**kwargs)
        if self.use_cache and out.past_key_values is not None:
            self.cache = out.past_key_values
        return out

    def _check_context(self, cur_len: int) -> None:
        """Raise before a step whose last position id is past the model's position table."""
        top = self.top_prompt_position + cur_len - self.prompt_len
        if top >= self.context:
            raise ValueError(
                f"max_length {self.max_length} (input length {self.prompt_len} + new tokens) exceeds the model's "
                f"context max_position_embeddings={self.context}, and generation reached it; ask for at most "
                f"{self.context - self.prompt_len} new tokens"
            )

    def _shared_prefill(self, kwargs: dict[str, Any]) -> Any:
        """Run the prompt once per group of identical rows, then repeat the cache and the logits for each row."""
        n = self.inputs.group
        for key in ("input_ids", "attention_mask", "position_ids"):
            if kwargs.get(key) is not None:
                kwargs[key] = kwargs[key][::n]  # (B / n, T): the first row of each group
        out = self.model(**kwargs)
        self.cache = out.past_key_values
        self.cache.batch_repeat_interleave(n)
        out.logits = out.logits.repeat_interleave(n, dim=0)  # (B, T_kept, V)
        return out

    def reorder_cache(self, beam_idx: torch.Tensor) -> None:
        if self.cache is not None:
            self.cache.reorder(beam_idx)


def _num_decoder_layers(config: Any) -> int:
    for name in ("num_decoder_layers", "decoder_layers", "num_hidden_layers", "n_layer", "num_layers"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    raise ValueError(f"{type(config).__name__} has no layer count (num_hidden_layers / decoder_layers)")
