"""Text classification (``"text-classification"``, alias ``"sentiment-analysis"``): labels and scores per text.

>>> from pretrained import pipeline
>>> classifier = pipeline("sentiment-analysis", model="path/to/sst2-model")  # doctest: +SKIP
>>> classifier("This movie is disgustingly good !")  # doctest: +SKIP
[{'label': 'POSITIVE', 'score': 0.9998}]
"""

from __future__ import annotations

import inspect
from typing import Any

import torch

from .base import Pipeline

# function_to_apply name -> scores from logits (float32, as the reference computes them)
FUNCTIONS = {
    "sigmoid": torch.sigmoid,
    "softmax": lambda x: torch.softmax(x, dim=-1),
    "none": lambda x: x,
}


def function_name(value: Any) -> str:
    """``"sigmoid"``/``"softmax"``/``"none"`` from a name (any case) or an enum with such a value."""
    name = str(getattr(value, "value", value)).lower()
    if name not in FUNCTIONS:
        raise ValueError(f"function_to_apply={value!r}: use one of {', '.join(FUNCTIONS)}")
    return name


class TextClassificationPipeline(Pipeline):
    """Classify texts or text pairs (``{"text": ..., "text_pair": ...}``) with a sequence-classification model.

    A single text without ``top_k`` gives ``[{"label", "score"}]``; ``top_k=n`` (``None`` = all labels) gives the
    best n per text, sorted. ``function_to_apply`` defaults by ``problem_type`` and ``num_labels`` as transformers.

    >>> classifier = pipeline("text-classification", model="path/to/model")  # doctest: +SKIP
    >>> classifier(["good", "bad"], top_k=None)  # doctest: +SKIP
    [[{'label': 'POSITIVE', 'score': 0.9}, {'label': 'NEGATIVE', 'score': 0.1}], [...]]
    """

    pad_side = "right"  # batches: positions as in the text alone (see Pipeline.pad_side)

    def _sanitize_parameters(
        self,
        return_all_scores: bool | None = None,
        function_to_apply: Any = None,
        top_k: Any = "",
        **tokenizer_kwargs,
    ) -> tuple[dict, dict, dict]:
        post: dict[str, Any] = {}
        if return_all_scores is None:
            return_all_scores = getattr(self.model.config, "return_all_scores", None)
        if top_k is None or (isinstance(top_k, int) and not isinstance(top_k, bool)):
            if top_k is not None and top_k < 1:
                raise ValueError(f"top_k must be a positive int or None (all labels), got {top_k}")
            post["top_k"], post["_legacy"] = top_k, False
        elif top_k != "":
            raise ValueError(f"top_k must be a positive int or None (all labels), got {top_k!r}")
        elif return_all_scores is not None:
            post["top_k"] = None if return_all_scores else 1
        if function_to_apply is not None:
            post["function_to_apply"] = function_name(function_to_apply)
        return tokenizer_kwargs, {}, post

    def __call__(self, inputs: Any, **kwargs: Any) -> Any:
        result = super().__call__(inputs, **kwargs)
        if isinstance(inputs, str) and "top_k" not in kwargs:
            return [result]  # the reference wraps a single text's result in a list
        return result

    def preprocess(self, inputs: Any, **tokenizer_kwargs: Any) -> dict[str, Any]:
        if isinstance(inputs, dict):
            enc = self.tokenizer(**inputs, return_tensors="pt", **tokenizer_kwargs)
        elif (
            isinstance(inputs, list)
            and len(inputs) == 1
            and isinstance(inputs[0], list)
            and len(inputs[0]) == 2
        ):
            enc = self.tokenizer(
                text=inputs[0][0], text_pair=inputs[0][1], return_tensors="pt", **tokenizer_kwargs
            )
        elif isinstance(inputs, list):
            raise ValueError(
                "The pipeline received invalid inputs, if you are trying to send text pairs, you can try to send a"
                ' dictionary `{"text": "My text", "text_pair": "My pair"}` in order to send a text pair.'
            )
        elif isinstance(inputs, str):
            enc = self.tokenizer(inputs, return_tensors="pt", **tokenizer_kwargs)
        else:
            raise TypeError(
                f"text-classification takes a str, a {{'text', 'text_pair'}} dict, or a list of them; "
                f"got {type(inputs).__name__}"
            )
        return dict(enc)

    def _forward(self, model_inputs: dict[str, Any]) -> dict[str, Any]:
        if "use_cache" in inspect.signature(self.model.forward).parameters:
            model_inputs["use_cache"] = False  # a decoder's classification head needs no cache
        return {"logits": self.model(**model_inputs).logits}  # (B, num_labels)

    def default_function(self) -> str:
        config = self.model.config
        if config.problem_type == "regression":
            return "none"
        if config.problem_type == "multi_label_classification" or config.num_labels == 1:
            return "sigmoid"
        if config.problem_type == "single_label_classification" or config.num_labels > 1:
            return "softmax"
        return function_name(getattr(config, "function_to_apply", "none"))

    def postprocess(
        self,
        model_outputs: dict,
        function_to_apply: str | None = None,
        top_k: int | None = 1,
        _legacy: bool = True,
    ) -> Any:
        name = function_to_apply or self.default_function()
        scores = FUNCTIONS[name](model_outputs["logits"][0].float())  # (num_labels,)
        id2label = self.model.config.id2label
        if top_k == 1 and _legacy:
            best = int(scores.argmax())
            return {"label": id2label[best], "score": scores[best].item()}
        results = [{"label": id2label[i], "score": s} for i, s in enumerate(scores.tolist())]
        if not _legacy:
            results.sort(key=lambda r: r["score"], reverse=True)
            if top_k is not None:
                results = results[:top_k]
        return results
