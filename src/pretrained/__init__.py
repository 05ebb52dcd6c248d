"""pretrained: load, run, fine-tune and share pretrained transformer models.

>>> from pretrained import AutoTokenizer, AutoModel  # doctest: +SKIP

Public names are resolved lazily, so ``import pretrained`` does not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it (relative to this package)
_EXPORTS: dict[str, str] = {
    "PretrainedConfig": ".config",
    "AutoConfig": ".config",
    "PreTrainedModel": ".modeling",
    "AutoModel": ".models.auto",
    "AutoModelForMaskedLM": ".models.auto",
    "AutoModelForSequenceClassification": ".models.auto",
    "AutoModelForTokenClassification": ".models.auto",
    "AutoModelForQuestionAnswering": ".models.auto",
    "AutoModelForCausalLM": ".models.auto",
    "AutoModelForSeq2SeqLM": ".models.auto",
    "AutoModelForPreTraining": ".models.auto",
    "AutoModelForMultipleChoice": ".models.auto",
    "AutoModelForNextSentencePrediction": ".models.auto",
    "AutoTokenizer": ".tokenizers.auto",
    "PreTrainedTokenizer": ".tokenizers.tokenization",
    "PreTrainedTokenizerFast": ".tokenizers.tokenization",
    "MarianTokenizer": ".tokenizers.marian",
    "BatchEncoding": ".tokenizers.batch_encoding",
    "KVCache": ".nn.kv_cache",
    "EncoderDecoderCache": ".nn.kv_cache",
    "GenerationConfig": ".generation",
    "TextStreamer": ".generation",
    "TextIteratorStreamer": ".generation",
    "pipeline": ".pipelines",
    "Pipeline": ".pipelines",
}

# model family module -> its public configs and models (the reference's class names)
_MODELS: dict[str, tuple[str, ...]] = {
    ".models.bert": (
        "BertConfig",
        "BertPreTrainedModel",
        "BertModel",
        "BertForSequenceClassification",
        "BertForTokenClassification",
        "BertForQuestionAnswering",
        "BertForMaskedLM",
        "BertForPreTraining",
        "BertLMHeadModel",
        "BertForMultipleChoice",
        "BertForNextSentencePrediction",
    ),
    ".models.distilbert": (
        "DistilBertConfig",
        "DistilBertPreTrainedModel",
        "DistilBertModel",
        "DistilBertForMaskedLM",
        "DistilBertForSequenceClassification",
        "DistilBertForTokenClassification",
        "DistilBertForQuestionAnswering",
        "DistilBertForMultipleChoice",
    ),
    ".models.electra": (
        "ElectraConfig",
        "ElectraPreTrainedModel",
        "ElectraModel",
        "ElectraForPreTraining",
        "ElectraForMaskedLM",
        "ElectraForCausalLM",
        "ElectraForSequenceClassification",
        "ElectraForTokenClassification",
        "ElectraForQuestionAnswering",
        "ElectraForMultipleChoice",
    ),
    ".models.roberta": (
        "RobertaConfig",
        "RobertaPreTrainedModel",
        "RobertaModel",
        "RobertaForMaskedLM",
        "RobertaForSequenceClassification",
        "RobertaForTokenClassification",
        "RobertaForQuestionAnswering",
        "RobertaForCausalLM",
        "RobertaForMultipleChoice",
    ),
    ".models.xlm_roberta": (
        "XLMRobertaConfig",
        "XLMRobertaPreTrainedModel",
        "XLMRobertaModel",
        "XLMRobertaForCausalLM",
        "XLMRobertaForMaskedLM",
        "XLMRobertaForSequenceClassification",
        "XLMRobertaForTokenClassification",
        "XLMRobertaForQuestionAnswering",
        "XLMRobertaForMultipleChoice",
    ),
    ".models.gpt2": (
        "GPT2Config",
        "GPT2PreTrainedModel",
        "GPT2Model",
        "GPT2LMHeadModel",
        "GPT2ForSequenceClassification",
        "GPT2ForTokenClassification",
        "GPT2ForQuestionAnswering",
    ),
    ".models.llama": (
        "LlamaConfig",
        "MistralConfig",
        "Qwen2Config",
        "LlamaPreTrainedModel",
        "LlamaModel",
        "LlamaForCausalLM",
        "LlamaForSequenceClassification",
        "LlamaForTokenClassification",
        "LlamaForQuestionAnswering",
        "MistralModel",
        "MistralForCausalLM",
        "MistralForSequenceClassification",
        "MistralForTokenClassification",
        "MistralForQuestionAnswering",
        "Qwen2Model",
        "Qwen2ForCausalLM",
        "Qwen2ForSequenceClassification",
        "Qwen2ForTokenClassification",
        "Qwen2ForQuestionAnswering",
    ),
    ".models.t5": (
        "T5Config",
        "T5PreTrainedModel",
        "T5Model",
        "T5ForConditionalGeneration",
        "T5EncoderModel",
        "T5ForSequenceClassification",
        "T5ForTokenClassification",
        "T5ForQuestionAnswering",
    ),
    ".models.bart": (
        "BartConfig",
        "BartPreTrainedModel",
        "BartModel",
        "BartForConditionalGeneration",
        "BartForSequenceClassification",
        "BartForQuestionAnswering",
        "BartForCausalLM",
    ),
    ".models.mbart": (
        "MBartConfig",
        "MBartPreTrainedModel",
        "MBartModel",
        "MBartForConditionalGeneration",
        "MBartForSequenceClassification",
        "MBartForQuestionAnswering",
        "MBartForCausalLM",
    ),
    ".models.marian": (
        "MarianConfig",
        "MarianPreTrainedModel",
        "MarianModel",
        "MarianMTModel",
        "MarianForCausalLM",
    ),
}
_EXPORTS.update({name: module for module, names in _MODELS.items() for name in names})

__all__ = sorted(_EXPORTS) + ["__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from .config import AutoConfig, PretrainedConfig  # noqa: F401


def register_export(name: str, module: str) -> None:
    """Add a lazily imported public name (used by subpackages as they land)."""
    _EXPORTS[name] = module


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pretrained' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
