"""Assemble the logits processors and stopping criteria a ``GenerationConfig`` asks for, in the reference's order.

>>> from pretrained.generation import GenerationConfig
>>> cfg = GenerationConfig(do_sample=True, temperature=0.7, top_k=0, top_p=0.9)
>>> [type(p).__name__ for p in build_logits_processor(cfg, input_ids_seq_length=3)]
['TemperatureLogitsWarper', 'TopPLogitsWarper']
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import torch

from . import logits_process as lp
from . import penalties as pen
from . import stopping as st
from . import warpers as wp
from .config import GenerationConfig

log = logging.getLogger(__name__)


def build_logits_processor(
    cfg: GenerationConfig,
    *,
    input_ids_seq_length: int,
    encoder_input_ids: torch.Tensor | None = None,
    eos_token_id: torch.Tensor | None = None,
    prefix_allowed_tokens_fn: Callable[[int, torch.Tensor], list[int]] | None = None,
    custom: list | None = None,
    device: Any = "cpu",
    guidance_model: Any = None,
    negative_prompt: tuple[torch.Tensor | None, torch.Tensor | None] | None = None,
) -> lp.LogitsProcessorList:
    """The processors for ``cfg`` (``eos_token_id``: the 1-D tensor of EOS ids), then ``custom`` ones, then the
    sampling warpers (``do_sample`` only), then ``LogitNormalization`` when ``renormalize_logits``.
    ``guidance_model`` (the model) and ``negative_prompt`` ((ids, mask)) serve ``guidance_scale``."""
    procs = lp.LogitsProcessorList()
    if cfg.guidance_scale is not None and cfg.guidance_scale != 1:
        if guidance_model is None:
            raise ValueError("guidance_scale needs the model (generate() passes it as guidance_model)")
        negative_ids, negative_mask = negative_prompt if negative_prompt is not None else (None, None)
        procs.append(
            lp.UnbatchedClassifierFreeGuidanceLogitsProcessor(
                cfg.guidance_scale, guidance_model, negative_ids, negative_mask, use_cache=cfg.use_cache
            )
        )
    if cfg.sequence_bias is not None:
        procs.append(pen.SequenceBiasLogitsProcessor(cfg.sequence_bias))
    has_encoder_ids = encoder_input_ids is not None and encoder_input_ids.dim() == 2
    if cfg.encoder_repetition_penalty not in (None, 1.0) and has_encoder_ids:
        procs.append(
            pen.EncoderRepetitionPenaltyLogitsProcessor(cfg.encoder_repetition_penalty, encoder_input_ids)
        )
    if cfg.repetition_penalty not in (None, 1.0):
        procs.append(pen.RepetitionPenaltyLogitsProcessor(cfg.repetition_penalty))
    if cfg.no_repeat_ngram_size is not None and cfg.no_repeat_ngram_size > 0:
        procs.append(pen.NoRepeatNGramLogitsProcessor(cfg.no_repeat_ngram_size))
    if (cfg.encoder_no_repeat_ngram_size or 0) > 0 and has_encoder_ids:
        procs.append(
            pen.EncoderNoRepeatNGramLogitsProcessor(cfg.encoder_no_repeat_ngram_size, encoder_input_ids)
        )
    if cfg.bad_words_ids is not None:
        procs.append(pen.NoBadWordsLogitsProcessor(cfg.bad_words_ids, eos_token_id))
    if eos_token_id is not None and cfg.min_length is not None and cfg.min_length > 0:
        procs.append(lp.MinLengthLogitsProcessor(cfg.min_length, eos_token_id, device=device))
    if eos_token_id is not None and cfg.min_new_tokens is not None and cfg.min_new_tokens > 0:
        procs.append(
            lp.MinNewTokensLengthLogitsProcessor(
                input_ids_seq_length, cfg.min_new_tokens, eos_token_id, device
            )
        )
    if prefix_allowed_tokens_fn is not None:
        procs.append(lp.PrefixConstrainedLogitsProcessor(prefix_allowed_tokens_fn, cfg.num_beams))
    if cfg.forced_bos_token_id is not None:
        procs.append(lp.ForcedBOSTokenLogitsProcessor(cfg.forced_bos_token_id))
    if cfg.forced_eos_token_id is not None:
        procs.append(lp.ForcedEOSTokenLogitsProcessor(cfg.max_length, cfg.forced_eos_token_id, device=device))
    if cfg.remove_invalid_values is True:
        procs.append(lp.InfNanRemoveLogitsProcessor())
    if cfg.exponential_decay_length_penalty is not None:
        procs.append(
            lp.ExponentialDecayLengthPenalty(
                cfg.exponential_decay_length_penalty, eos_token_id, input_ids_seq_length
            )
        )
    if cfg.suppress_tokens is not None:
        procs.append(lp.SuppressTokensLogitsProcessor(cfg.suppress_tokens, device=device))
    if cfg.begin_suppress_tokens is not None:
        begin = input_ids_seq_length
        if input_ids_seq_length <= 1 and cfg.forced_bos_token_id is not None:
            begin += 1
        procs.append(lp.SuppressTokensAtBeginLogitsProcessor(cfg.begin_suppress_tokens, begin, device=device))
    procs = merge(procs, custom or [])
    if cfg.do_sample:
        procs.extend(_warpers(cfg, eos_token_id, device))
    if cfg.renormalize_logits is True:
        procs.append(lp.LogitNormalization())
    return procs


def _warpers(cfg: GenerationConfig, eos_token_id: torch.Tensor | None, device: Any) -> list:
    # beam sampling keeps at least one non-EOS candidate per beam
    keep = 1 if cfg.num_beams == 1 else (eos_token_id.shape[0] + 1 if eos_token_id is not None else 2)
    out: list = []
    if cfg.temperature is not None and cfg.temperature != 1.0:
        out.append(wp.TemperatureLogitsWarper(cfg.temperature))
    if cfg.top_k is not None and cfg.top_k != 0:
        out.append(wp.TopKLogitsWarper(top_k=cfg.top_k, min_tokens_to_keep=keep))
    if cfg.top_p is not None and cfg.top_p < 1.0:
        out.append(wp.TopPLogitsWarper(top_p=cfg.top_p, min_tokens_to_keep=keep))
    if cfg.min_p is not None:
        out.append(wp.MinPLogitsWarper(min_p=cfg.min_p, min_tokens_to_keep=keep))
    if cfg.typical_p is not None and cfg.typical_p < 1.0:
        out.append(wp.TypicalLogitsWarper(mass=cfg.typical_p, min_tokens_to_keep=keep))
    if cfg.epsilon_cutoff is not None and 0.0 < cfg.epsilon_cutoff < 1.0:
        out.append(wp.EpsilonLogitsWarper(epsilon=cfg.epsilon_cutoff, min_tokens_to_keep=keep))
    if cfg.eta_cutoff is not None and 0.0 < cfg.eta_cutoff < 1.0:
        out.append(wp.EtaLogitsWarper(epsilon=cfg.eta_cutoff, min_tokens_to_keep=keep, device=device))
    return out


def build_stopping_criteria(
    cfg: GenerationConfig,
    *,
    eos_token_id: torch.Tensor | None = None,
    tokenizer: Any = None,
    max_position_embeddings: int | None = None,
    custom: list | None = None,
) -> st.StoppingCriteriaList:
    """Max length, max time, stop strings (needs ``tokenizer``) and EOS, then ``custom`` criteria."""
    crit = st.StoppingCriteriaList()
    if cfg.max_length is not None:
        crit.append(st.MaxLengthCriteria(cfg.max_length, max_position_embeddings))
    if cfg.max_time is not None:
        crit.append(st.MaxTimeCriteria(cfg.max_time))
    if cfg.stop_strings is not None:
        if tokenizer is None:
            raise ValueError(
                "stop_strings needs the model's tokenizer to match text: pass it as generate(..., tokenizer=tok)"
            )
        crit.append(st.StopStringCriteria(tokenizer, cfg.stop_strings))
    if eos_token_id is not None:
        crit.append(st.EosTokenCriteria(eos_token_id))
    return merge(crit, custom or [])


def merge(defaults: list, custom: list) -> Any:
    """``defaults`` with any of the same type replaced by the user's, then the user's others appended."""
    if not custom:
        return defaults
    out = type(defaults)()
    for item in defaults:
        same = next((c for c in custom if type(c) is type(item)), None)
        if same is not None:
            log.warning(
                "a custom %s replaces the one generate() built from its arguments", type(item).__name__
            )
        out.append(same if same is not None else item)
    out.extend(c for c in custom if c not in out)
    return out
