"""Mistral: the Llama code (see ``models/llama.py``) under the reference's Mistral class names.

>>> from pretrained.models.mistral import MistralConfig
>>> MistralConfig().model_type
'mistral'
"""

from __future__ import annotations

from .llama import (
    MistralConfig,
    MistralForCausalLM,
    MistralForQuestionAnswering,
    MistralForSequenceClassification,
    MistralForTokenClassification,
    MistralModel,
)

__all__ = [
    "MistralConfig",
    "MistralModel",
    "MistralForCausalLM",
    "MistralForSequenceClassification",
    "MistralForTokenClassification",
    "MistralForQuestionAnswering",
]

# task -> class name, read by models/auto.py
TASK_CLASSES = {
    "base": "MistralModel",
    "causal-lm": "MistralForCausalLM",
    "sequence-classification": "MistralForSequenceClassification",
    "token-classification": "MistralForTokenClassification",
    "question-answering": "MistralForQuestionAnswering",
}
