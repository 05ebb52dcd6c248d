"""Beam search (and beam sampling) with static shapes, step for step the reference's algorithm.

Per batch item we keep ``num_beams`` running hypotheses and the ``num_beams`` best finished ones, in
(B, beams, max_length) buffers. Each step takes the top ``K = max(2, 1 + n_eos) * num_beams`` continuations over
all beams, so that ``num_beams`` unfinished ones always remain; the model's cache is reordered in place.

>>> out = model.generate(input_ids=ids, num_beams=4, num_return_sequences=2)  # doctest: +SKIP
"""

from __future__ import annotations

import math
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


class _Beams:
    """The static-shape state of beam search for ``batch_size`` prompts x ``num_beams`` hypotheses."""

    def __init__(self, input_ids: torch.Tensor, cfg: Any, pad: int | None, eos: torch.Tensor | None) -> None:
        self.cfg, self.num_beams = cfg, cfg.num_beams
        flat_batch, self.prompt_len = input_ids.shape
        B, nb, L, dev = (
            flat_batch // cfg.num_beams,
            cfg.num_beams,
            math.ceil(cfg.max_length),
            input_ids.device,
        )
        self.batch_size = B
        self.keep = max(2, 1 + (eos.shape[0] if eos is not None else 0)) * nb  # K candidates per prompt
        self.top_mask = torch.arange(self.keep, device=dev) < nb  # (K,) the first num_beams candidates
        # the reference fills with `pad or eos[0]` (so a pad id of 0 becomes eos), or -1 without EOS
        fill = (pad or int(eos[0])) if eos is not None else -1
        self.running = torch.full((B, nb, L), fill, dtype=torch.long, device=dev)
        self.running[:, :, : self.prompt_len] = input_ids.view(B, nb, self.prompt_len)
        self.sequences = self.running.clone()  # (B, nb, L) best finished hypotheses
        self.running_scores = torch.zeros(B, nb, dtype=torch.float, device=dev)
        self.running_scores[:, 1:] = NEG  # only the first copy of each prompt starts "alive"
        self.beam_scores = torch.full((B, nb), NEG, dtype=torch.float, device=dev)
        self.finished = torch.zeros(B, nb, dtype=torch.bool, device=dev)
        self.improvable = torch.ones(B, 1, dtype=torch.bool, device=dev)
        self.running_idx = torch.full((B, nb, L - self.prompt_len), -1, dtype=torch.int32, device=dev)
        self.beam_idx = self.running_idx.clone()

    def candidates(self, log_probs: torch.Tensor, cur_len: int) -> tuple[torch.Tensor, ...]:
        """Top-K (or K sampled) continuations over all beams: (log-probs (B, K), sequences, beam indices)."""
        B, nb, vocab = self.batch_size, self.num_beams, log_probs.shape[-1]
        accumulated = (log_probs.view(B, nb, vocab) + self.running_scores[:, :, None]).reshape(B, nb * vocab)
        if self.cfg.do_sample:
            top_idx = torch.multinomial(nn.functional.softmax(accumulated, dim=-1), num_samples=self.keep)
            top_logp = torch.gather(accumulated, 1, top_idx)
        else:
            top_logp, top_idx = torch.topk(accumulated, k=self.keep)  # (B, K)
        from_beam = top_idx // vocab
        top_running_idx = _gather(self.running_idx, from_beam)
        top_running = _gather(self.running, from_beam)
        top_running[:, :, cur_len] = top_idx % vocab
        offset = torch.arange(B, device=top_idx.device).view(-1, 1) * nb
        top_running_idx[:, :, cur_len - self.prompt_len] = (from_beam + offset).to(top_running_idx.dtype)
        return top_logp, top_running, top_running_idx

    def advance(self, top_logp, top_running, top_running_idx, done: torch.Tensor, cur_len: int) -> None:
        """Keep the best ``num_beams`` unfinished candidates running; merge finished ones into the hypotheses."""
        alive_logp = top_logp + done.to(torch.float32) * NEG
        next_idx = torch.topk(alive_logp, k=self.num_beams)[1]
        self.running = _gather(top_running, next_idx)
        self.running_scores = _gather(alive_logp, next_idx)
        self.running_idx = _gather(top_running_idx, next_idx)

        just_finished = done & self.top_mask[None, :]  # only the top num_beams may finish
        final_logp = top_logp / ((cur_len + 1 - self.prompt_len) ** self.cfg.length_penalty)
        full = torch.all(self.finished, dim=-1, keepdim=True) & (self.cfg.early_stopping is True)
        final_logp = final_logp + full.to(torch.float32) * NEG
        final_logp = final_logp + (~self.improvable).to(torch.float32) * NEG
        final_logp = final_logp + (~just_finished) * NEG
        merged_scores = torch.cat((self.beam_scores, final_logp), dim=1)
        best = torch.topk(merged_scores, k=self.num_beams)[1]
        self.sequences = _gather(torch.cat((self.sequences, top_running), dim=1), best)
        self.beam_scores = _gather(merged_scores, best)
        self.beam_idx = _gather(torch.cat((self.beam_idx, top_running_idx), dim=1), best)
        self.finished = _gather(torch.cat((self.finished, just_finished), dim=1), best)

    def go_on(self, done: torch.Tensor, cur_len: int) -> bool:
        """Update the early-stop heuristic (``cur_len`` after the step) and say whether to continue."""
        cfg = self.cfg
        if cfg.early_stopping == "never" and cfg.length_penalty > 0.0:
            best_len = cfg.max_length - self.prompt_len
        else:
            best_len = cur_len - self.prompt_len
        best_running = self.running_scores[:, :1] / (best_len**cfg.length_penalty)
        worst = torch.where(self.finished, torch.min(self.beam_scores, dim=1, keepdim=True)[0], -1.0e9)
        self.improvable = self.improvable & torch.any(best_running > worst, dim=-1, keepdim=True)
        open_beams = ~(torch.all(self.finished) & (cfg.early_stopping is True))
        return bool(torch.any(self.improvable) & open_beams & ~torch.all(done))

    def result(self, scores: list, logits: list) -> BeamResult:
        n = self.cfg.num_return_sequences
        indices = _flat(self.beam_idx[:, :n])
        generated = int((indices + 1).bool().sum(dim=1).max())  # -1 marks steps a hypothesis did not take
        sequences = _flat(self.sequences[:, :n])[:, : self.prompt_len + generated]
        return BeamResult(sequences, _flat(self.beam_scores[:, :n]), indices[:, :generated], scores, logits)


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
    beams = _Beams(input_ids, cfg, pad_token_id, eos_token_id)
    cur_len, prompt_len = input_ids.shape[1], beams.prompt_len
    all_scores: list[torch.Tensor] = []
    raw_logits: list[torch.Tensor] = []
    while True:
        flat_running = _flat(beams.running[:, :, :cur_len])  # (B*beams, cur_len)
        out = forward(flat_running)
        logits = out.logits[:, -1, :].to(copy=True, dtype=torch.float32)  # (B*beams, V)
        log_probs = processors(flat_running, nn.functional.log_softmax(logits, dim=-1))
        if cfg.return_dict_in_generate and cfg.output_logits:
            raw_logits.append(logits.clone())
        if cfg.return_dict_in_generate and cfg.output_scores:
            all_scores.append(log_probs.clone())
        if on_step is not None:
            on_step(out)
        del out
        top_logp, top_running, top_running_idx = beams.candidates(log_probs, cur_len)
        done = criteria(_flat(top_running[:, :, : cur_len + 1]), tuple(all_scores) or None)
        done = done.view(beams.batch_size, beams.keep)  # (B, K) candidates that hit a stopping criterion
        beams.advance(top_logp, top_running, top_running_idx, done, cur_len)
        reorder_cache(_flat(beams.running_idx[..., cur_len - prompt_len]).long())  # the survivors' cache rows
        cur_len += 1
        if not beams.go_on(done, cur_len):
            return beams.result(all_scores, raw_logits)
