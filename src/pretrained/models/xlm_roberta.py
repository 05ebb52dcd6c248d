"""XLM-RoBERTa: RoBERTa's architecture and weight names (``roberta.*``, ``lm_head.*``) under its own model_type.

>>> import torch
>>> from pretrained.models.xlm_roberta import XLMRobertaConfig, XLMRobertaModel
>>> cfg = XLMRobertaConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
...                        intermediate_size=37)
>>> XLMRobertaModel(cfg)(torch.tensor([[0, 5, 6, 2]])).last_hidden_state.shape
torch.Size([1, 4, 32])
"""

from __future__ import annotations

from .roberta import (
    RobertaConfig,
    RobertaForCausalLM,
    RobertaForMaskedLM,
    RobertaForMultipleChoice,
    RobertaForQuestionAnswering,
    RobertaForSequenceClassification,
    RobertaForTokenClassification,
    RobertaModel,
    RobertaPreTrainedModel,
)


class XLMRobertaConfig(RobertaConfig):
    model_type = "xlm-roberta"
    defaults = {**RobertaConfig.defaults, "vocab_size": 30522}


class XLMRobertaPreTrainedModel(RobertaPreTrainedModel):
    config_class = XLMRobertaConfig


class XLMRobertaModel(RobertaModel):
    config_class = XLMRobertaConfig


class XLMRobertaForCausalLM(RobertaForCausalLM):
    config_class = XLMRobertaConfig


class XLMRobertaForMaskedLM(RobertaForMaskedLM):
    config_class = XLMRobertaConfig


class XLMRobertaForSequenceClassification(RobertaForSequenceClassification):
    config_class = XLMRobertaConfig


class XLMRobertaForTokenClassification(RobertaForTokenClassification):
    config_class = XLMRobertaConfig


class XLMRobertaForQuestionAnswering(RobertaForQuestionAnswering):
    config_class = XLMRobertaConfig


class XLMRobertaForMultipleChoice(RobertaForMultipleChoice):
    config_class = XLMRobertaConfig


# task -> class name, read by models/auto.py
TASK_CLASSES = {
    "base": "XLMRobertaModel",
    "causal-lm": "XLMRobertaForCausalLM",
    "masked-lm": "XLMRobertaForMaskedLM",
    "sequence-classification": "XLMRobertaForSequenceClassification",
    "token-classification": "XLMRobertaForTokenClassification",
    "question-answering": "XLMRobertaForQuestionAnswering",
    "multiple-choice": "XLMRobertaForMultipleChoice",
    "pretraining": "XLMRobertaForMaskedLM",  # as the reference's AutoModelForPreTraining
}
