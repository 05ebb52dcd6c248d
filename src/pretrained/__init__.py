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
    "AutoTokenizer": ".tokenizers.auto",
    "PreTrainedTokenizer": ".tokenizers.tokenization",
    "PreTrainedTokenizerFast": ".tokenizers.tokenization",
    "MarianTokenizer": ".tokenizers.marian",
    "BatchEncoding": ".tokenizers.batch_encoding",
    "KVCache": ".nn.kv_cache",
    "EncoderDecoderCache": ".nn.kv_cache",
    "GPT2Config": ".models.gpt2",
    "GPT2Model": ".models.gpt2",
    "GPT2LMHeadModel": ".models.gpt2",
    "LlamaConfig": ".models.llama",
    "LlamaModel": ".models.llama",
    "LlamaForCausalLM": ".models.llama",
    "MistralConfig": ".models.llama",
    "MistralForCausalLM": ".models.llama",
    "Qwen2Config": ".models.llama",
    "Qwen2ForCausalLM": ".models.llama",
    "T5Config": ".models.t5",
    "T5Model": ".models.t5",
    "T5ForConditionalGeneration": ".models.t5",
    "T5EncoderModel": ".models.t5",
    "BartConfig": ".models.bart",
    "BartModel": ".models.bart",
    "BartForConditionalGeneration": ".models.bart",
    "BartForSequenceClassification": ".models.bart",
    "MarianConfig": ".models.marian",
    "MarianModel": ".models.marian",
    "MarianMTModel": ".models.marian",
    "MBartConfig": ".models.mbart",
    "MBartModel": ".models.mbart",
    "MBartForConditionalGeneration": ".models.mbart",
    "MBartForSequenceClassification": ".models.mbart",
    "GenerationConfig": ".generation",
    "TextStreamer": ".generation",
    "TextIteratorStreamer": ".generation",
    "pipeline": ".pipelines",
    "Pipeline": ".pipelines",
}

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
