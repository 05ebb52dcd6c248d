"""``GenerationMixin.generate``: greedy, sampling and beam search for decoder-only and encoder-decoder models.

Causal-LM and seq2seq-LM classes inherit it (``class GPT2LMHeadModel(GPT2PreTrainedModel, GenerationMixin)``).
Each step feeds only the new token, keeps only the last position's logits (``logits_to_keep=1``), and writes
into a KV cache preallocated for ``max_length`` tokens; ids and masks live in preallocated buffers.

>>> ids = model.generate(input_ids=prompt_ids, max_new_tokens=20)  # doctest: +SKIP
>>> ids = model.generate(**batch, do_sample=True, top_p=0.9, num_return_sequences=3)  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import inspect
import logging
from typing import Any

import torch
from torch import nn

from .beam import beam_search
from .build import build_logits_processor, build_stopping_criteria
from .config import GENERATION_CONFIG_NAME, GenerationConfig
from .outputs import (
    GenerateBeamDecoderOnlyOutput,
    GenerateBeamEncoderDecoderOutput,
    GenerateDecoderOnlyOutput,
    GenerateEncoderDecoderOutput,
)
from .prepare import Inputs, StepRunner, prepare_inputs, resolve_lengths

log = logging.getLogger(__name__)

_SIGNATURES: dict[type, frozenset[str]] = {}


def _forward_params(model: nn.Module) -> frozenset[str]:
    cls = type(model)
    if cls not in _SIGNATURES:
        _SIGNATURES[cls] = frozenset(inspect.signature(model.forward).parameters)
    return _SIGNATURES[cls]


class GenerationMixin:
    """Adds ``generate`` and ``generation_config`` to a model whose forward follows the causal-LM or seq2seq
    contract (``past_key_values``, ``use_cache``, ``logits_to_keep``, a ``.logits`` output).

    >>> from pretrained.models.gpt2 import GPT2Config, GPT2LMHeadModel
    >>> model = GPT2LMHeadModel(GPT2Config(vocab_size=50, n_embd=16, n_layer=1, n_head=2))
    >>> model.generate([[1, 2, 3]], max_new_tokens=4, min_new_tokens=4).shape
    torch.Size([1, 7])
    """

    # -- generation_config: read at load time, else derived from the model config ----------------------
    @property
    def generation_config(self) -> GenerationConfig:
        """Default decoding parameters (``generation_config.json``, else derived from ``config``)."""
        cfg = self.__dict__.get("_generation_config")
        if cfg is None:
            cfg = GenerationConfig.from_model_config(self.config)
            self.__dict__["_generation_config"] = cfg
        return cfg

    @generation_config.setter
    def generation_config(self, value: GenerationConfig | None) -> None:
        self.__dict__["_generation_config"] = value

    @classmethod
    def can_generate(cls) -> bool:
        return True

    def _load_generation_config(self, folder: Any) -> None:
        """Called by ``from_pretrained``: ``generation_config.json`` when the folder has one."""
        from pathlib import Path

        path = Path(folder) / GENERATION_CONFIG_NAME
        if path.is_file():
            self.generation_config = GenerationConfig.from_pretrained(folder)
        else:
            log.info("%s: no %s; generation defaults come from config.json", folder, GENERATION_CONFIG_NAME)
            self.generation_config = GenerationConfig.from_model_config(self.config)

    # -- generate -------------------------------------------------------------------------------------
    def generate(
        self,
        input_ids: torch.Tensor | list | None = None,
        attention_mask: torch.Tensor | None = None,
        generation_config: GenerationConfig | None = None,
        streamer: Any = None,
        *,
        logits_processor: list | None = None,
        stopping_criteria: list | None = None,
        prefix_allowed_tokens_fn: Any = None,
        tokenizer: Any = None,
        use_model_defaults: bool | None = None,
        negative_prompt_ids: torch.Tensor | None = None,
        negative_prompt_attention_mask: torch.Tensor | None = None,
        synced_gpus: bool | None = None,
        **kwargs: Any,
    ) -> torch.Tensor | Any:
        """Generate token ids: (B*num_return_sequences, prompt+new) for decoders, (B*n, 1+new) for seq2seq.

        ``kwargs`` set ``GenerationConfig`` fields for this call (``max_new_tokens``, ``do_sample``, ``top_p``,
        ``num_beams``...) or pass model inputs (``encoder_outputs``, ``decoder_input_ids``,
        ``decoder_attention_mask``). ``tokenizer`` is needed for ``stop_strings``. Finished rows are padded with
        ``pad_token_id``. With ``return_dict_in_generate=True`` returns a ``Generate*Output``.

        >>> out = model.generate(input_ids=ids, max_new_tokens=5, num_beams=3, return_dict_in_generate=True,
        ...                      output_scores=True)  # doctest: +SKIP
        >>> out.sequences.shape, out.sequences_scores.shape  # doctest: +SKIP
        (torch.Size([1, 9]), torch.Size([1]))
        """
        if synced_gpus:
            raise NotImplementedError(
                "synced_gpus=True: generation synchronized across GPUs is not supported"
            )
        kwargs.pop("trust_remote_code", None)  # for custom_generate code from the Hub, which we do not run
        negative = (negative_prompt_ids, negative_prompt_attention_mask)
        if "inputs" in kwargs:
            if input_ids is not None:
                raise ValueError("pass the prompt as input_ids or inputs, not both")
            input_ids = kwargs.pop("inputs")
        try:
            with torch.inference_mode():
                out = self._generate(
                    input_ids,
                    attention_mask,
                    generation_config,
                    streamer,
                    logits_processor,
                    stopping_criteria,
                    prefix_allowed_tokens_fn,
                    tokenizer,
                    use_model_defaults,
                    kwargs,
                    negative,
                )
        except BaseException as e:
            if streamer is not None and hasattr(streamer, "on_error"):
                streamer.on_error(e)  # a consumer thread must not wait forever
            raise
        return _normal_tensors(out)

    def _generate(
        self,
        input_ids: Any,
        attention_mask: Any,
        generation_config: GenerationConfig | None,
        streamer: Any,
        logits_processor: list | None,
        stopping_criteria: list | None,
        prefix_allowed_tokens_fn: Any,
        tokenizer: Any,
        use_model_defaults: bool | None,
        kwargs: dict[str, Any],
        negative_prompt: tuple[Any, Any] = (None, None),
    ) -> Any:
        cfg, model_kwargs = self._prepare_generation_config(generation_config, use_model_defaults, kwargs)
        cfg.check_supported()
        if cfg.guidance_scale not in (None, 1) and getattr(self.config, "is_encoder_decoder", False):
            raise NotImplementedError(
                "guidance_scale: classifier-free guidance is implemented for decoder-only models"
            )
        if cfg.do_sample:
            cfg.validate_sampling()
        if streamer is not None and cfg.num_beams > 1:
            raise ValueError("`streamer` cannot be used with beam search: set num_beams=1")
        decoder_only = not getattr(self.config, "is_encoder_decoder", False)
        if decoder_only and "logits_to_keep" in _forward_params(self):  # steps keep the last logits anyway
            model_kwargs.pop("logits_to_keep", None)
        inputs = prepare_inputs(self, cfg, input_ids, attention_mask, model_kwargs)
        expand = max(cfg.num_beams, cfg.num_return_sequences)
        if expand > 1:
            inputs.expand(expand)
        if streamer is not None:
            streamer.put(inputs.ids.cpu())
        resolve_lengths(self, cfg, inputs, explicit=kwargs)
        eos = inputs.eos
        processors = build_logits_processor(
            cfg,
            input_ids_seq_length=inputs.ids.shape[1],
            encoder_input_ids=inputs.prompt_ids,
            eos_token_id=eos,
            prefix_allowed_tokens_fn=prefix_allowed_tokens_fn,
            custom=logits_processor,
            device=inputs.ids.device,
            guidance_model=self,
            negative_prompt=negative_prompt,
        )
        criteria = build_stopping_criteria(
            cfg,
            eos_token_id=eos,
            tokenizer=tokenizer,
            max_position_embeddings=getattr(self.config, "max_position_embeddings", None),
            custom=stopping_criteria,
        )
        runner = StepRunner(self, cfg, inputs, _forward_params(self))
        if cfg.num_beams > 1:
            return self._run_beam_search(runner, inputs, cfg, processors, criteria)
        return self._run_sample(runner, inputs, cfg, processors, criteria, streamer)

    def _prepare_generation_config(
        self, generation_config: GenerationConfig | None, use_model_defaults: bool | None, kwargs: dict
    ) -> tuple[GenerationConfig, dict[str, Any]]:
        """kwargs > the given config > the model's generation_config > ``GenerationConfig()`` (the reference's
        priority); returns the call's config and the kwargs that are model inputs."""
        base = self.generation_config
        if generation_config is None:
            base = self._legacy_generation_config(base)
            cfg = copy.deepcopy(base)
        else:
            cfg = copy.deepcopy(generation_config)
            if use_model_defaults is True or (use_model_defaults is None and _version(base) >= (4, 50)):
                defaults = GenerationConfig()
                for key, value in vars(base).items():
                    if key.startswith("_") or key == "transformers_version":
                        continue
                    default = getattr(defaults, key, None)
                    if getattr(cfg, key, None) == default and value != default:
                        setattr(cfg, key, value)
                if cfg.temperature == 0.0:
                    cfg.do_sample = False
            else:
                for key in ("bos_token_id", "eos_token_id", "pad_token_id", "decoder_start_token_id"):
                    if getattr(cfg, key) is None:
                        setattr(cfg, key, getattr(base, key))
        model_kwargs = cfg.update(**kwargs)
        return cfg, model_kwargs

    def _legacy_generation_config(self, base: GenerationConfig) -> GenerationConfig:
        """The reference's legacy rule: generation parameters set on the model *config* after loading (e.g.
        ``model.config.num_beams = 4``) still count while the generation config is the untouched one derived from
        the model config."""
        if not getattr(base, "_from_model_config", False):
            return base
        if getattr(base, "_original_object_hash", None) != hash(base):
            return base
        if not _non_default_generation_parameters(self.config):
            return base
        new = GenerationConfig.from_model_config(self.config)
        if new != base:
            log.warning(
                "You have modified the pretrained model configuration to control generation; this is deprecated: "
                "set model.generation_config instead"
            )
            self.generation_config = new
            return new
        return base

    # -- decoding loops -------------------------------------------------------------------------------
    def _run_sample(
        self, runner: StepRunner, inputs: Inputs, cfg: GenerationConfig, processors, criteria, streamer
    ) -> Any:
        """Greedy (argmax) or multinomial sampling, one token per step."""
        ids, cur_len = inputs.buffer(cfg.max_length), inputs.ids.shape[1]  # (B, max_length)
        batch = ids.shape[0]
        unfinished = torch.ones(batch, dtype=torch.long, device=ids.device)
        pad = inputs.pad_token_id
        pad_finished = pad is not None and any(hasattr(c, "eos_token_id") for c in criteria)
        record = _Record(cfg, self.config)
        while True:
            out = runner(ids[:, :cur_len])
            logits = out.logits[:, -1, :].to(copy=True, dtype=torch.float32)  # (B, V)
            scores = processors(ids[:, :cur_len], logits)
            record.step(out, scores, logits)
            del out
            if cfg.do_sample:
                next_tokens = torch.multinomial(nn.functional.softmax(scores, dim=-1), num_samples=1).squeeze(
                    1
                )
            else:
                next_tokens = torch.argmax(scores, dim=-1)
            if pad_finished:  # finished rows get padding
                next_tokens = next_tokens * unfinished + pad * (1 - unfinished)
            ids[:, cur_len] = next_tokens
            cur_len += 1
            if streamer is not None:
                streamer.put(next_tokens.cpu())
            unfinished = unfinished & ~criteria(ids[:, :cur_len], record.scores_tuple())
            if unfinished.max() == 0:
                break
        if streamer is not None:
            streamer.end()
        sequences = ids[:, :cur_len].clone()
        if not cfg.return_dict_in_generate:
            return sequences
        return record.output(sequences, inputs, runner.cache)

    def _run_beam_search(
        self, runner: StepRunner, inputs: Inputs, cfg: GenerationConfig, processors, criteria
    ):
        record = _Record(cfg, self.config)
        result = beam_search(
            runner,
            inputs.ids,
            cfg=cfg,
            processors=processors,
            criteria=criteria,
            pad_token_id=inputs.pad_token_id,
            eos_token_id=inputs.eos,
            reorder_cache=runner.reorder_cache,
            on_step=record.step,
        )
        if not cfg.return_dict_in_generate:
            return result.sequences
        if record.scores is not None:  # requested: otherwise None, as the reference leaves it
            record.scores = result.scores
        if record.logits is not None:
            record.logits = result.logits
        return record.output(
            result.sequences,
            inputs,
            runner.cache,
            beam_indices=result.beam_indices,
            sequences_scores=result.sequences_scores if cfg.output_scores else None,
        )


class _Record:
    """Collects per-step scores, logits, attentions and hidden states for ``return_dict_in_generate``."""

    def __init__(self, cfg: GenerationConfig, model_config: Any) -> None:
        on = bool(cfg.return_dict_in_generate)
        self.cfg, self.enc_dec = cfg, bool(getattr(model_config, "is_encoder_decoder", False))
        self.scores: list | None = [] if on and cfg.output_scores else None
        self.logits: list | None = [] if on and cfg.output_logits else None
        self.attentions: list | None = [] if on and cfg.output_attentions else None
        self.cross: list | None = [] if on and cfg.output_attentions and self.enc_dec else None
        self.hidden: list | None = [] if on and cfg.output_hidden_states else None

    def step(self, out: Any, scores: torch.Tensor | None = None, logits: torch.Tensor | None = None) -> None:
        if self.scores is not None and scores is not None:
            self.scores.append(scores)
        if self.logits is not None and logits is not None:
            self.logits.append(logits)
        if self.attentions is not None:
            self.attentions.append(out.decoder_attentions if self.enc_dec else out.attentions)
        if self.cross is not None:
            self.cross.append(out.cross_attentions)
        if self.hidden is not None:
            self.hidden.append(out.decoder_hidden_states if self.enc_dec else out.hidden_states)

    def scores_tuple(self) -> tuple | None:
        return tuple(self.scores) if self.scores is not None else None

    def output(self, sequences: torch.Tensor, inputs: Inputs, cache: Any, **beam: Any) -> Any:
        def tup(x: list | None) -> tuple | None:
            return tuple(x) if x is not None else None

        common = dict(
            sequences=sequences, scores=tup(self.scores), logits=tup(self.logits), past_key_values=cache
        )
        if self.enc_dec:
            enc = inputs.encoder_outputs
            return (GenerateBeamEncoderDecoderOutput if beam else GenerateEncoderDecoderOutput)(
                **common,
                **beam,
                encoder_attentions=enc.attentions if self.cfg.output_attentions else None,
                encoder_hidden_states=enc.hidden_states if self.cfg.output_hidden_states else None,
                decoder_attentions=tup(self.attentions),
                cross_attentions=tup(self.cross),
                decoder_hidden_states=tup(self.hidden),
            )
        return (GenerateBeamDecoderOnlyOutput if beam else GenerateDecoderOnlyOutput)(
            **common, **beam, attentions=tup(self.attentions), hidden_states=tup(self.hidden)
        )


# the generation parameters a model config used to hold, with their global defaults (the reference's list)
_LEGACY_GENERATION_DEFAULTS: dict[str, Any] = {
    "max_length": 20, "min_length": 0, "do_sample": False, "early_stopping": False, "num_beams": 1,
    "temperature": 1.0, "top_k": 50, "top_p": 1.0, "typical_p": 1.0, "repetition_penalty": 1.0,
    "length_penalty": 1.0, "no_repeat_ngram_size": 0, "encoder_no_repeat_ngram_size": 0, "bad_words_ids": None,
    "num_return_sequences": 1, "output_scores": False, "return_dict_in_generate": False,
    "forced_bos_token_id": None, "forced_eos_token_id": None, "remove_invalid_values": False,
    "exponential_decay_length_penalty": None, "suppress_tokens": None, "begin_suppress_tokens": None,
    "num_beam_groups": 1, "diversity_penalty": 0.0,
}  # fmt: skip


def _non_default_generation_parameters(config: Any) -> dict[str, Any]:
    """The legacy generation parameters of a model config that differ from its class's defaults (or, when the
    class cannot be built without arguments, from the global defaults)."""
    try:
        default_config = type(config)()
    except (TypeError, ValueError):
        default_config = None
    found = {}
    for name, global_default in _LEGACY_GENERATION_DEFAULTS.items():
        if not hasattr(config, name) or getattr(config, name) is None:
            continue
        value = getattr(config, name)
        default = getattr(default_config, name, None) if default_config is not None else global_default
        if value != default:
            found[name] = value
    return found


def _normal_tensors(out: Any) -> Any:
    """Clone the returned ids (and beam fields) outside inference mode, so they can feed a training step."""
    if isinstance(out, torch.Tensor):
        return out.clone()
    for name in ("sequences", "sequences_scores", "beam_indices"):
        value = getattr(out, name, None)
        if isinstance(value, torch.Tensor):
            setattr(out, name, value.clone())
    return out


def _version(cfg: GenerationConfig) -> tuple[int, ...]:
    parts = []
    for piece in str(getattr(cfg, "transformers_version", "0") or "0").split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


__all__ = ["GenerationMixin"]
