"""Auto classes: ``config.json``'s ``model_type`` -> the module and class that implement it.

The registry is data: ``MODEL_TYPES`` maps a model_type to its module under ``pretrained.models``; each module
defines its config class and ``TASK_CLASSES`` (task -> class name). Modules are imported only when used.

>>> from pretrained import AutoModel
>>> model = AutoModel.from_pretrained("path/to/checkpoint")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Any

from ..config import LOADER_ARGUMENTS, PretrainedConfig, read_json

# model_type -> module name under pretrained.models
MODEL_TYPES: dict[str, str] = {
    "bert": "bert",
    "distilbert": "distilbert",
    "roberta": "roberta",
    "xlm-roberta": "xlm_roberta",
    "electra": "electra",
    "gpt2": "gpt2",
    "llama": "llama",
    "mistral": "mistral",
    "qwen2": "qwen2",
    "t5": "t5",
    "bart": "bart",
    "mbart": "mbart",
    "marian": "marian",
}


def _module(model_type: str | None, where: str) -> ModuleType:
    if model_type not in MODEL_TYPES:
        found = "no model_type" if model_type is None else f"model_type {model_type!r}"
        raise ValueError(
            f"{where}: {found} is not supported. Supported model types: {', '.join(sorted(MODEL_TYPES))}"
        )
    return importlib.import_module(f"pretrained.models.{MODEL_TYPES[model_type]}")


def config_class_for(model_type: str | None, where: str = "config.json") -> type[PretrainedConfig]:
    """The config class registered for ``model_type`` (a clear error lists the supported ones)."""
    module = _module(model_type, where)
    classes = [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, PretrainedConfig)]
    return next(c for c in classes if c.model_type == model_type)


class _AutoModel:
    """Base of the Auto classes: ``task`` picks the class from the model module's ``TASK_CLASSES``."""

    task = "base"

    @classmethod
    def model_class(cls, config: PretrainedConfig) -> type:
        module = _module(config.model_type, type(config).__name__)
        name = module.TASK_CLASSES.get(cls.task)
        if name is None:
            tasks = ", ".join(sorted(module.TASK_CLASSES))
            raise ValueError(f"model_type {config.model_type!r} has no {cls.task} head; it supports: {tasks}")
        return getattr(module, name)

    @classmethod
    def from_config(cls, config: PretrainedConfig, **kwargs: Any) -> Any:
        """A randomly initialized model of the right class for ``config``, in ``torch_dtype`` (or ``dtype``) when
        given; ``attn_implementation`` is recorded on the config (see ``PretrainedConfig.attention_implementation``)."""
        from ..modeling import _init_parameters, resolve_dtype

        dtype = kwargs.pop("dtype", None) or kwargs.pop("torch_dtype", None)
        if "attn_implementation" in kwargs:
            config.attn_implementation = kwargs.pop("attn_implementation")
        kwargs.pop("trust_remote_code", None)
        model_class = cls.model_class(config)
        unknown = sorted(set(kwargs) - _init_parameters(model_class))
        if unknown:
            raise TypeError(
                f"from_config got unexpected arguments {unknown}; set config fields on the config"
            )
        model = model_class(config, **kwargs)  # constructor arguments such as add_pooling_layer
        return model if dtype is None else model.to(resolve_dtype(dtype, config, {}))

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, **kwargs: Any) -> Any:
        """Load the checkpoint with the class its ``model_type`` registers for this task."""
        from ..config import AutoConfig

        config = kwargs.pop("config", None)
        if config is None:
            config_keys = {"revision", "cache_dir", "subfolder"}
            overrides = {k: kwargs.pop(k) for k in list(kwargs) if k not in _LOAD_KWARGS}
            where = {k: kwargs[k] for k in config_keys if k in kwargs}
            if kwargs.get("gguf_file") is not None:  # a llama.cpp file: the config comes from its metadata
                from ..hub import resolve_dir
                from ..modeling import find_gguf, gguf_checkpoint_config

                path = find_gguf(resolve_dir(name_or_path, **where), kwargs["gguf_file"])
                config = gguf_checkpoint_config(path, **overrides)
            else:
                config = AutoConfig.from_pretrained(name_or_path, **where, **overrides)
        return cls.model_class(config).from_pretrained(name_or_path, config=config, **kwargs)


_LOAD_KWARGS = {
    "revision",
    "cache_dir",
    "torch_dtype",
    "dtype",
    "device",
    "ignore_mismatched_sizes",
    "output_loading_info",
    "state_dict",
    "gguf_file",
    "subfolder",
    "use_safetensors",
    "device_map",
    "attn_implementation",
    "add_pooling_layer",  # a model constructor's argument (BERT, RoBERTa), passed on to it
    *LOADER_ARGUMENTS,
}


def _auto(name: str, task: str) -> type[_AutoModel]:
    return type(name, (_AutoModel,), {"task": task, "__doc__": f"Auto class for the {task!r} head."})


AutoModel = _auto("AutoModel", "base")
AutoModelForMaskedLM = _auto("AutoModelForMaskedLM", "masked-lm")
AutoModelForSequenceClassification = _auto("AutoModelForSequenceClassification", "sequence-classification")
AutoModelForTokenClassification = _auto("AutoModelForTokenClassification", "token-classification")
AutoModelForQuestionAnswering = _auto("AutoModelForQuestionAnswering", "question-answering")
AutoModelForCausalLM = _auto("AutoModelForCausalLM", "causal-lm")
AutoModelForSeq2SeqLM = _auto("AutoModelForSeq2SeqLM", "seq2seq-lm")
AutoModelForPreTraining = _auto("AutoModelForPreTraining", "pretraining")
AutoModelForMultipleChoice = _auto("AutoModelForMultipleChoice", "multiple-choice")
AutoModelForNextSentencePrediction = _auto("AutoModelForNextSentencePrediction", "next-sentence-prediction")


def model_type_of(folder: str | os.PathLike) -> str | None:
    """The ``model_type`` written in a folder's config.json."""
    return read_json(os.path.join(folder, "config.json")).get("model_type")
