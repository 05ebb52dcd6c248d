"""What the pipelines that call ``generate`` share: the pipeline's own ``GenerationConfig``.

As in the reference, a generating pipeline keeps a copy of the model's generation config, built with this
priority: arguments given to ``pipeline(...)`` > the model's ``generation_config`` > the task's defaults
(``_default_generation_config``, e.g. ``max_new_tokens=256``). The model config's ``task_specific_params`` for
the task (T5's ``"summarization"``, ``"translation_en_to_de"``) are applied on top and may set a ``prefix``.

>>> from pretrained import pipeline
>>> summarize = pipeline("summarization", model="path/to/t5", num_beams=2)  # doctest: +SKIP
>>> summarize.generation_config.num_beams  # doctest: +SKIP
2
"""

from __future__ import annotations

import logging
from typing import Any

import torch

from ..generation import GenerationConfig
from .base import Pipeline, is_stream

log = logging.getLogger(__name__)


class GenerationPipeline(Pipeline):
    """Base of the pipelines whose ``_forward`` calls ``model.generate``.

    ``generation_config`` holds the pipeline's decoding defaults; ``prefix`` is the text put before each input
    (from ``config.prefix`` or the task's ``task_specific_params``).
    """

    _default_generation_config = GenerationConfig()
    pad_multiple = (
        1  # prompts are padded only as far as the batch needs: generate() sees the reference's shapes
    )
    # batches are consecutive inputs, in input order, as the reference's: a batch's composition and row order
    # decide what seeded sampling draws (and the padding the returned ids keep), so inputs are not sorted
    list_window = 1
    sort_window = 1

    def __init__(self, model: Any, tokenizer: Any = None, *, task: str = "", **kwargs: Any) -> None:
        if kwargs.get("assistant_model") is not None or kwargs.get("assistant_tokenizer") is not None:
            raise NotImplementedError("assisted generation (assistant_model=) is not supported")
        kwargs.pop("assistant_model", None)
        kwargs.pop("assistant_tokenizer", None)
        if not hasattr(model, "generate"):
            raise ValueError(
                f"{type(model).__name__} can't generate text; the {task or 'generation'!r} pipeline needs a "
                "causal-LM or seq2seq-LM model"
            )
        kwargs = self._init_generation_config(model, tokenizer, task, kwargs)
        super().__init__(model, tokenizer, task=task, **kwargs)

    def _init_generation_config(self, model: Any, tokenizer: Any, task: str, kwargs: dict) -> dict:
        """Set ``self.generation_config`` and ``self.prefix``; returns the kwargs that are not generation fields."""
        own = {k: kwargs.pop(k) for k in ("device", "torch_dtype", "batch_size") if k in kwargs}
        default = self._default_generation_config
        cfg, kwargs = model._prepare_generation_config(default, True, kwargs)
        # the task's max_new_tokens default yields to a model's own max_length (e.g. Marian's 512)
        if (
            default.max_new_tokens is not None
            and cfg.max_new_tokens == default.max_new_tokens
            and cfg.max_length is not None
            and cfg.max_length != 20
        ):
            cfg.max_new_tokens = None
        self.prefix = getattr(model.config, "prefix", None)
        task_params = getattr(model.config, "task_specific_params", None) or {}
        if task in task_params:
            params = dict(task_params[task])
            if "prefix" in params:
                self.prefix = params.pop("prefix")
            cfg.update(**params)
        if tokenizer is not None and tokenizer.pad_token_id is not None and cfg.pad_token_id is None:
            cfg.pad_token_id = tokenizer.pad_token_id
        self.generation_config = cfg
        return {**kwargs, **own}

    def forward_all(self, model_inputs: list[dict], batch_size: int, fwd: dict) -> list[dict]:
        """Per-input outputs: ``batch_size`` consecutive inputs at a time, padded to the batch's longest."""
        results: list[dict] = []
        for start in range(0, len(model_inputs), batch_size):
            chosen = model_inputs[start : start + batch_size]
            if len(chosen) == 1:
                results.append(self.forward(chosen[0], **fwd))
                continue
            batch, lengths, padded, width = self.collate(chosen)
            out = self.forward(batch, **fwd)
            results.extend(self.uncollate(out, k, lengths, padded, width) for k in range(len(chosen)))
        return results

    def generate(self, model_inputs: dict[str, Any], generate_kwargs: dict[str, Any]) -> Any:
        """``model.generate`` with the pipeline's generation config unless the call gives one."""
        if "generation_config" not in generate_kwargs:
            generate_kwargs = {**generate_kwargs, "generation_config": self.generation_config}
        return self.model.generate(**model_inputs, **generate_kwargs)

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(inputs, list) or is_stream(inputs):
            # the reference runs lists through a torch DataLoader, whose iterator draws one number from the
            # global generator: drawing it too keeps seeded sampling identical
            torch.empty((), dtype=torch.int64).random_()
        return super().__call__(inputs, *args, **kwargs)

    @staticmethod
    def split_outputs(output: Any, in_b: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``(sequences (in_b, n, L), other outputs)`` of ``generate``'s result.

        With ``return_dict_in_generate=True`` the other outputs are laid out per input: a tensor with one row per
        sequence (beam scores) as ``"sequence:<name>"`` (in_b, n, ...), a per-step tuple (scores, logits) as
        ``"step:<name>"`` (in_b, n, steps, ...).
        """
        extra: dict[str, torch.Tensor] = {}
        sequences = output if isinstance(output, torch.Tensor) else output.sequences
        out_b = sequences.shape[0]
        n = out_b // in_b
        if not isinstance(output, torch.Tensor):
            for key, value in output.items():
                if key in ("sequences", "past_key_values"):
                    continue
                if isinstance(value, torch.Tensor) and value.shape[0] == out_b:
                    extra[f"sequence:{key}"] = value.reshape(in_b, n, *value.shape[1:])
                elif isinstance(value, tuple) and value and isinstance(value[0], torch.Tensor):
                    if len(value[0]) == out_b:  # one (B*n, ...) tensor per step
                        stacked = torch.stack(value).swapaxes(0, 1)  # (B*n, steps, ...)
                        extra[f"step:{key}"] = stacked.reshape(in_b, n, *stacked.shape[1:])
        return sequences.reshape(in_b, n, *sequences.shape[1:]), extra
