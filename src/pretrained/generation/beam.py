"""Beam search (and beam sampling) with static shapes, step for step the reference's algorithm.

Per batch item we keep ``num_beams`` running hypotheses and the ``num_beams`` best finished ones, in
(B, beams, max_length) buffers. Each step takes the top ``K = max(2, 1 + n_eos) * num_beams`` continuations over
all beams, so that ``num_beams`` unfinished ones always remain; the model's cache is reordered in place.

>>> out = model.generate(input_ids=ids, num_beams=4, num_return_sequences=2)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

NEG = -1.0e9  # the reference's "never pick this" score


@dataclass
class BeamResult:
    sequences: torch.Tensor  # (B*n_return, prompt + generated)
    sequences_scores: torch.Tensor  # (B*n_return,)
    beam_indices: torch.Tensor  # (B*n_return, generated)
    scores: list[torch.Tensor]  # processed log-probs per step, (B*beams, V)
    logits: list[torch.Tensor]  # raw logits per step


def _gather(t: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """t (B, N, ...) -> (B, K, ...) picking ``idx`` (B, K) along dim 1."""
    while idx.dim() < t.dim():
        idx = idx.unsqueeze(-1)
    return torch.take_along_dim(t, idx, dim=1)


def _flat(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(t.shape[0] * t.shape[1], *t.shape[2:])


def beam_search(
    forward: Callable[[torch.Tensor], Any],
    input_ids: torch.Tensor,
    *,
    cfg: Any,
    processors: Callable,
    criteria: Callable,
    pad_token_id: int | None,
    eos_token_id: torch.Tensor | None,
    reorder_cache: Callable[[torch.Tensor], None],
    on_step: Callable[[Any], None] | None = None,
) -> BeamResult:
    """Run beam search from ``input_ids`` (B*beams, T) (each prompt repeated ``num_beams`` times).

    ``forward(running (B*beams, cur_len))`` returns the model output of the step; ``reorder_cache(idx)`` makes row
    i of the cache the old row ``idx[i]``; ``on_step(output)`` collects attentions / hidden states."""
    num_beams, max_length = cfg.num_beams, cfg.max_length
    flat_batch, cur_len = input_ids.shape
    batch_size = flat_batch // num_beams
    prompt_len = cur_len
    device = input_ids.device
    n_eos = eos_token_id.shape[0] if eos_token_id is not None else 0
    keep = max(2, 1 + n_eos) * num_beams
    top_mask = torch.arange(keep, device=device) < num_beams  # (K,) the first num_beams candidates
    # the reference fills with `pad or eos[0]` (so a pad id of 0 becomes eos), or -1 without EOS
    fill = (pad_token_id or int(eos_token_id[0])) if eos_token_id is not None else -1

    running = torch.full((batch_size, num_beams, max_length), fill, dtype=torch.long, device=device)
    running[:, :, :cur_len] = input_ids.view(batch_size, num_beams, cur_len)
    sequences = running.clone()
    running_scores = torch.zeros(batch_size, num_beams, dtype=torch.float, device=device)
    running_scores[:, 1:] = NEG  # only the first copy of each prompt starts "alive"
    beam_scores = torch.full((batch_size, num_beams), NEG, dtype=torch.float, device=device)
    finished = torch.zeros(batch_size, num_beams, dtype=torch.bool, device=device)
    improvable = torch.ones(batch_size, 1, dtype=torch.bool, device=device)
    running_idx = torch.full(
        (batch_size, num_beams, max_length - cur_len), -1, dtype=torch.int32, device=device
    )
    beam_idx = running_idx.clone()
    all_scores: list[torch.Tensor] = []
    raw_logits: list[torch.Tensor] = []
    want_scores = cfg.return_dict_in_generate and cfg.output_scores
    want_logits = cfg.return_dict_in_generate and cfg.output_logits

    while True:
        flat_running = _flat(running[:, :, :cur_len])  # (B*beams, cur_len)
        out = forward(flat_running)
        logits = out.logits[:, -1, :].to(copy=True, dtype=torch.float32)  # (B*beams, V)
        log_probs = processors(flat_running, nn.functional.log_softmax(logits, dim=-1))
        if want_logits:
            raw_logits.append(logits.clone())
        if want_scores:
            all_scores.append(log_probs.clone())
        if on_step is not None:
            on_step(out)
        del out
        vocab = log_probs.shape[-1]
        accumulated = (log_probs.view(batch_size, num_beams, vocab) + running_scores[:, :, None]).reshape(
            batch_size, num_beams * vocab
        )

        # c. top-K continuations over all beams (or K sampled without replacement)
        if cfg.do_sample:
            top_idx = torch.multinomial(nn.functional.softmax(accumulated, dim=-1), num_samples=keep)
            top_logp = torch.gather(accumulated, 1, top_idx)
        else:
            top_logp, top_idx = torch.topk(accumulated, k=keep)  # (B, K)
        from_beam = top_idx // vocab
        top_running_idx = _gather(running_idx, from_beam)
        top_running = _gather(running, from_beam)
        top_running[:, :, cur_len] = top_idx % vocab
        offset = torch.arange(batch_size, device=device).view(-1, 1) * num_beams
        top_running_idx[:, :, cur_len - prompt_len] = (from_beam + offset).to(top_running_idx.dtype)

        # d. which candidates hit a stopping criterion
        done = criteria(_flat(top_running[:, :, : cur_len + 1]), all_scores or None).view(batch_size, keep)

        # e. the best num_beams unfinished candidates keep running
        alive_logp = top_logp + done.to(torch.float32) * NEG
        next_idx = torch.topk(alive_logp, k=num_beams)[1]
        running = _gather(top_running, next_idx)
        running_scores = _gather(alive_logp, next_idx)
        running_idx = _gather(top_running_idx, next_idx)

        # f. finished candidates among the top num_beams compete with the finished hypotheses so far
        just_finished = done & top_mask[None, :]
        final_logp = top_logp / ((cur_len + 1 - prompt_len) ** cfg.length_penalty)
        full = torch.all(finished, dim=-1, keepdim=True) & (cfg.early_stopping is True)
        final_logp = final_logp + full.to(torch.float32) * NEG
        final_logp = final_logp + (~improvable).to(torch.float32) * NEG
        final_logp = final_logp + (~just_finished) * NEG
        merged_scores = torch.cat((beam_scores, final_logp), dim=1)
        best = torch.topk(merged_scores, k=num_beams)[1]
        sequences = _gather(torch.cat((sequences, top_running), dim=1), best)
        beam_scores = _gather(merged_scores, best)
        beam_idx = _gather(torch.cat((beam_idx, top_running_idx), dim=1), best)
        finished = _gather(torch.cat((finished, just_finished), dim=1), best)

        # g. reorder the cache for the surviving beams, then decide whether to go on
        reorder_cache(_flat(running_idx[..., cur_len - prompt_len]).long())
        cur_len += 1
        improvable = _still_improvable(
            improvable, running_scores, beam_scores, finished, cur_len, prompt_len, cfg
        )
        open_beams = ~(torch.all(finished) & (cfg.early_stopping is True))
        if not bool(torch.any(improvable) & open_beams & ~torch.all(done)):
            break

    n = cfg.num_return_sequences
    sequences = _flat(sequences[:, :n])
    scores = _flat(beam_scores[:, :n])
    indices = _flat(beam_idx[:, :n])
    generated = int((indices + 1).bool().sum(dim=1).max())  # -1 marks steps a hypothesis did not take
    return BeamResult(
        sequences[:, : prompt_len + generated], scores, indices[:, :generated], all_scores, raw_logits
    )


def _still_improvable(
    improvable: torch.Tensor,
    running_scores: torch.Tensor,
    beam_scores: torch.Tensor,
    finished: torch.Tensor,
    cur_len: int,
    prompt_len: int,
    cfg: Any,
) -> torch.Tensor:
    """(B, 1): can the best running beam still beat the worst finished one (the reference's heuristic)."""
    if cfg.early_stopping == "never" and cfg.length_penalty > 0.0:
        best_len = cfg.max_length - prompt_len
    else:
        best_len = cur_len - prompt_len
    best_running = running_scores[:, :1] / (best_len**cfg.length_penalty)
    worst_finished = torch.where(finished, torch.min(beam_scores, dim=1, keepdim=True)[0], -1.0e9)
    return improvable & torch.any(best_running > worst_finished, dim=-1, keepdim=True)
