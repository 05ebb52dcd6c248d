"""Masked-token filling (``"fill-mask"``): the most likely tokens for each mask in a text.

>>> from pretrained import pipeline
>>> fill = pipeline("fill-mask", model="path/to/bert")  # doctest: +SKIP
>>> fill("Paris is the [MASK] of France.", top_k=1)  # doctest: +SKIP
[{'score': 0.9, 'token': 3007, 'token_str': 'capital', 'sequence': 'paris is the capital of france.'}]
"""

from __future__ import annotations

import logging
from typing import Any

import torch

from .base import Pipeline

log = logging.getLogger(__name__)


class FillMaskError(ValueError):
    """An input or setting the fill-mask pipeline can't use (no mask token, no targets)."""


class FillMaskPipeline(Pipeline):
    """Predict the tokens behind the mask token(s) of a text with a masked-LM model.

    ``top_k`` (default 5) predictions per mask: ``{"score", "token", "token_str", "sequence"}``. ``targets``
    restricts the candidates to given words (a word not in the vocabulary is replaced by its first token, as
    transformers does). Several masks give one list per mask.

    >>> fill = pipeline("fill-mask", model="path/to/roberta")  # doctest: +SKIP
    >>> fill("I <mask> this movie.", targets=["love", "hate"])  # doctest: +SKIP
    """

    pad_side = "right"  # batches: positions as in the text alone (see Pipeline.pad_side)

    token_outputs = ("logits",)

    def _sanitize_parameters(
        self, top_k: int | None = None, targets: Any = None, tokenizer_kwargs: dict | None = None
    ) -> tuple[dict, dict, dict]:
        pre = {"tokenizer_kwargs": tokenizer_kwargs} if tokenizer_kwargs is not None else {}
        post: dict[str, Any] = {}
        if targets is not None:
            post["target_ids"] = self.get_target_ids(targets)
        if top_k is not None:
            if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
                raise ValueError(f"top_k must be a positive int, got {top_k!r}")
            post["top_k"] = top_k
        if self.tokenizer.mask_token_id is None:
            raise FillMaskError("fill-mask: the tokenizer does not define a `mask_token`.")
        return pre, {}, post

    def get_target_ids(self, targets: str | list[str]) -> list[int]:
        """Vocabulary ids of the targets; a word not in the vocabulary becomes its first token (with a warning)."""
        targets = [targets] if isinstance(targets, str) else list(targets)
        vocab = self.tokenizer.get_vocab()
        ids = []
        for target in targets:
            id_ = vocab.get(target)
            if id_ is None:
                pieces = self.tokenizer(
                    target, add_special_tokens=False, return_attention_mask=False, return_token_type_ids=False,
                    max_length=1, truncation=True,
                )["input_ids"]  # fmt: skip
                if not pieces:
                    log.warning(
                        "The specified target token `%s` does not exist in the model vocabulary. We cannot replace "
                        "it with anything meaningful, ignoring it",
                        target,
                    )
                    continue
                id_ = pieces[0]
                log.warning(
                    "The specified target token `%s` does not exist in the model vocabulary. Replacing with `%s`.",
                    target,
                    self.tokenizer.convert_ids_to_tokens(id_),
                )
            ids.append(id_)
        ids = sorted(set(ids))
        if not ids:
            raise ValueError("At least one target must be provided when passed.")
        return ids

    def __call__(self, inputs: Any, **kwargs: Any) -> Any:
        """Predictions for one text, or a list of them per text (a one-text list gives that text's)."""
        outputs = super().__call__(inputs, **kwargs)
        if isinstance(inputs, list) and len(inputs) == 1:
            return outputs[0]
        return outputs

    def preprocess(self, inputs: Any, tokenizer_kwargs: dict | None = None) -> dict[str, Any]:
        enc = dict(self.tokenizer(inputs, return_tensors="pt", **(tokenizer_kwargs or {})))
        for ids in enc["input_ids"]:
            if not (ids == self.tokenizer.mask_token_id).any():
                raise FillMaskError(
                    f"No mask_token ({self.tokenizer.mask_token}) found on the input: {inputs!r}"
                )
        return enc

    def _forward(self, model_inputs: dict[str, Any]) -> dict[str, Any]:
        logits = self.model(**model_inputs).logits  # (B, T, V)
        return {"logits": logits, "input_ids": model_inputs["input_ids"]}

    def postprocess(self, model_outputs: dict, top_k: int = 5, target_ids: list[int] | None = None) -> Any:
        if target_ids is not None and len(target_ids) < top_k:
            top_k = len(target_ids)
        input_ids = model_outputs["input_ids"][0]  # (T,)
        masked = torch.nonzero(input_ids == self.tokenizer.mask_token_id).squeeze(-1)  # (M,)
        probs = model_outputs["logits"][0, masked, :].float().softmax(dim=-1)  # (M, V)
        if target_ids is not None:
            probs = probs[..., target_ids]  # (M, n_targets)
        values, predictions = probs.topk(min(top_k, probs.shape[-1]))  # (M, k) each
        single = values.shape[0] == 1
        result = []
        for i, (row_values, row_predictions) in enumerate(zip(values.tolist(), predictions.tolist())):
            row = []
            for v, p in zip(row_values, row_predictions):
                if target_ids is not None:
                    p = target_ids[p]
                tokens = input_ids.clone()
                tokens[masked[i]] = p
                tokens = tokens[tokens != self.tokenizer.pad_token_id].tolist()
                sequence = self.tokenizer.decode(tokens, skip_special_tokens=single)
                row.append(
                    {"score": v, "token": p, "token_str": self.tokenizer.decode([p]), "sequence": sequence}
                )
            result.append(row)
        return result[0] if single else result
