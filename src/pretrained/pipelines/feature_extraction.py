"""Feature extraction (``"feature-extraction"``): the model's last hidden states for each token of a text.

>>> from pretrained import pipeline
>>> extractor = pipeline("feature-extraction", model="sentence-transformers/all-MiniLM-L6-v2")  # doctest: +SKIP
>>> len(extractor("Hello world")[0][0])  # [1][tokens][hidden]  # doctest: +SKIP
384
"""

from __future__ import annotations

from typing import Any

from .base import Pipeline


class FeatureExtractionPipeline(Pipeline):
    """Hidden states of a base model: nested lists ``[1][tokens][hidden]`` per text, or ``(1, T, H)`` tensors
    with ``return_tensors=True``. ``truncation``/``tokenize_kwargs`` go to the tokenizer.

    Batched texts (``batch_size > 1``) give the same per-text states as one at a time: padding is removed.

    >>> extractor = pipeline("feature-extraction", model="path/to/bert")  # doctest: +SKIP
    >>> extractor(["a", "b c"], return_tensors=True)[1].shape  # doctest: +SKIP
    torch.Size([1, 4, 32])
    """

    pad_side = "right"  # batches: positions as in the text alone (see Pipeline.pad_side)

    token_outputs = ("last_hidden_state",)

    def _sanitize_parameters(
        self, truncation: Any = None, tokenize_kwargs: dict | None = None, return_tensors: bool | None = None
    ) -> tuple[dict, dict, dict]:
        tokenize_kwargs = dict(tokenize_kwargs or {})
        if truncation is not None:
            if "truncation" in tokenize_kwargs:
                raise ValueError(
                    "truncation parameter defined twice (given as keyword argument as well as in tokenize_kwargs)"
                )
            tokenize_kwargs["truncation"] = truncation
        post = {"return_tensors": return_tensors} if return_tensors is not None else {}
        return tokenize_kwargs, {}, post

    def preprocess(self, inputs: Any, **tokenize_kwargs: Any) -> dict[str, Any]:
        return dict(self.tokenizer(inputs, return_tensors="pt", **tokenize_kwargs))

    def _forward(self, model_inputs: dict[str, Any]) -> dict[str, Any]:
        out = self.model(**model_inputs)
        return {"last_hidden_state": out[0]}  # (B, T, H): the first output, as the reference

    def postprocess(self, model_outputs: dict, return_tensors: bool = False) -> Any:
        states = model_outputs["last_hidden_state"]  # (1, T, H)
        return states if return_tensors else states.tolist()
