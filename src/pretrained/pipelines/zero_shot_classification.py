"""Zero-shot classification (``"zero-shot-classification"``): rank any labels with an NLI model.

Each candidate label becomes a hypothesis (``"This example is {label}."``) paired with the text; the NLI model's
entailment scores rank the labels (softmax across labels, or per label against contradiction with
``multi_label=True``).

>>> from pretrained import pipeline
>>> classify = pipeline("zero-shot-classification", model="path/to/nli-model")  # doctest: +SKIP
>>> classify("I have a problem with my iphone", candidate_labels=["urgent", "phone", "tablet"])  # doctest: +SKIP
{'sequence': 'I have a problem with my iphone', 'labels': ['phone', 'urgent', 'tablet'], 'scores': [...]}
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

import torch

from .base import Pipeline

log = logging.getLogger(__name__)

DEFAULT_TEMPLATE = "This example is {}."


def parse_labels(labels: Any) -> list[str]:
    """Candidate labels from a list or a comma-separated string (blank entries dropped)."""
    if isinstance(labels, str):
        return [label.strip() for label in labels.split(",") if label.strip()]
    return list(labels)


class ZeroShotClassificationPipeline(Pipeline):
    """Score ``candidate_labels`` for each text with a sequence-classification model trained on NLI.

    The entailment label is found in ``config.label2id`` (the first label starting with ``"entail"``).
    Returns ``{"sequence", "labels", "scores"}`` with labels sorted by score, per text.

    >>> classify = pipeline("zero-shot-classification", model="path/to/nli-model")  # doctest: +SKIP
    >>> classify(["a", "b"], "sport, politics", multi_label=True)  # doctest: +SKIP
    """

    pad_side = "right"  # batches: positions as in the text alone (see Pipeline.pad_side)

    chunked = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.entailment_id == -1:
            log.warning(
                "Failed to determine 'entailment' label id from the label2id mapping in the model config (%s). "
                "Setting to -1. Define a descriptive label2id mapping in the model config to ensure correct outputs.",
                self.model.config.label2id,
            )

    @property
    def entailment_id(self) -> int:
        for label, index in self.model.config.label2id.items():
            if label.lower().startswith("entail"):
                return int(index)
        return -1

    def _sanitize_parameters(
        self,
        candidate_labels: Any = None,
        hypothesis_template: str | None = None,
        multi_label: bool | None = None,
        multi_class: bool | None = None,
    ) -> tuple[dict, dict, dict]:
        if multi_class is not None:
            log.warning("The `multi_class` argument has been deprecated and renamed to `multi_label`.")
            multi_label = multi_class
        pre: dict[str, Any] = {}
        if candidate_labels is not None:
            pre["candidate_labels"] = parse_labels(candidate_labels)
        if hypothesis_template is not None:
            pre["hypothesis_template"] = hypothesis_template
        post = {"multi_label": multi_label} if multi_label is not None else {}
        return pre, {}, post

    def __call__(self, sequences: Any, *args: Any, **kwargs: Any) -> Any:
        """Rank the labels for one text (a dict) or for each text of a list (a list of dicts)."""
        if len(args) == 1 and "candidate_labels" not in kwargs:
            kwargs["candidate_labels"] = args[0]
        elif args:
            raise ValueError(f"Unable to understand extra arguments {args}")
        return super().__call__(sequences, **kwargs)

    def preprocess(
        self,
        inputs: Any,
        candidate_labels: list[str] | None = None,
        hypothesis_template: str = DEFAULT_TEMPLATE,
    ) -> Any:
        if candidate_labels is None:
            raise ValueError(
                "zero-shot-classification needs candidate_labels: a list of labels or a comma-separated string, "
                "e.g. classify(text, candidate_labels=['sport', 'politics'])"
            )
        if not isinstance(inputs, str):
            raise TypeError(f"zero-shot-classification takes texts (str), got {type(inputs).__name__}")
        if len(candidate_labels) == 0 or len(inputs) == 0:
            raise ValueError("You must include at least one label and at least one sequence.")
        if hypothesis_template.format(candidate_labels[0]) == hypothesis_template:
            raise ValueError(
                f'The provided hypothesis_template "{hypothesis_template}" was not able to be formatted with the '
                "target labels. Make sure the passed template includes formatting syntax such as {} where the label "
                "should go."
            )
        for i, label in enumerate(candidate_labels):
            enc = self._tokenize_pair(inputs, hypothesis_template.format(label))
            yield {
                "candidate_label": label,
                "sequence": inputs,
                "is_last": i == len(candidate_labels) - 1,
                **enc,
            }

    def _tokenize_pair(self, sequence: str, hypothesis: str) -> dict[str, Any]:
        if self.tokenizer.pad_token is None:
            log.error("Tokenizer has no pad token, necessary for zero-shot; using pad_token=eos_token")
            self.tokenizer.pad_token = self.tokenizer.eos_token
        kwargs = dict(add_special_tokens=True, return_tensors="pt", padding=True)
        try:
            return dict(self.tokenizer([[sequence, hypothesis]], truncation="only_first", **kwargs))
        except Exception as e:  # the hypothesis alone is longer than the model: don't truncate
            if "too short" not in str(e):
                raise
            return dict(self.tokenizer([[sequence, hypothesis]], truncation=False, **kwargs))

    def _forward(self, inputs: dict[str, Any]) -> dict[str, Any]:
        model_inputs = {k: inputs[k] for k in self.tokenizer.model_input_names if k in inputs}
        if "use_cache" in inspect.signature(self.model.forward).parameters:
            model_inputs["use_cache"] = False
        logits = self.model(**model_inputs).logits  # (B, num_labels)
        return {
            "candidate_label": inputs["candidate_label"],
            "sequence": inputs["sequence"],
            "logits": logits,
        }

    def postprocess(self, model_outputs: list[dict], multi_label: bool = False) -> dict[str, Any]:
        labels = [out["candidate_label"] for out in model_outputs]
        logits = torch.cat([out["logits"].float() for out in model_outputs])  # (n_labels, num_nli_labels)
        entail = self.entailment_id
        if multi_label or len(labels) == 1:
            contradiction = -1 if entail == 0 else 0
            scores = logits[:, [contradiction, entail]].softmax(dim=-1)[:, 1]  # (n_labels,)
        else:
            scores = logits[:, entail].softmax(dim=-1)  # (n_labels,)
        # descending; among equal scores the later label first, as the reference's reversed argsort
        order = torch.sort(scores, stable=True).indices.flip(0).tolist()
        return {
            "sequence": model_outputs[0]["sequence"],
            "labels": [labels[i] for i in order],
            "scores": scores[order].tolist(),
        }
