"""Qwen2: the Llama code (see ``models/llama.py``) under the reference's Qwen2 class names.

>>> from pretrained.models.qwen2 import Qwen2Config
>>> Qwen2Config().model_type
'qwen2'
"""

from __future__ import annotations

from .llama import (
    Qwen2Config,
    Qwen2ForCausalLM,
    Qwen2ForQuestionAnswering,
    Qwen2ForSequenceClassification,
    Qwen2ForTokenClassification,
    Qwen2Model,
)

__all__ = [
    "Qwen2Config",
    "Qwen2Model",
    "Qwen2ForCausalLM",
    "Qwen2ForSequenceClassification",
    "Qwen2ForTokenClassification",
    "Qwen2ForQuestionAnswering",
]

# task -> class name, read by models/auto.py
TASK_CLASSES = {
    "base": "Qwen2Model",
    "causal-lm": "Qwen2ForCausalLM",
    "sequence-classification": "Qwen2ForSequenceClassification",
    "token-classification": "Qwen2ForTokenClassification",
    "question-answering": "Qwen2ForQuestionAnswering",
}
