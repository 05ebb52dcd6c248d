"""The pipeline task registry, as data: task -> pipeline class, model head, default checkpoint, aliases.

A task's pipeline class is named by ``"module:Class"`` under :mod:`pretrained.pipelines` and imported only
when the task is used. The model head is a task name of :mod:`pretrained.models.auto` (``"base"``,
``"sequence-classification"``, ...). Default checkpoints and revisions are the reference's (transformers 4.57).

>>> from pretrained.pipelines.registry import check_task
>>> check_task("sentiment-analysis")[0]
'text-classification'
>>> check_task("translation_en_to_fr")[2]
('en', 'fr')
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TaskSpec:
    """One task: ``impl`` (``"module:Class"``), ``head`` (an Auto task), default ``(repo id, revision)``."""

    impl: str
    head: str
    default: tuple[str, str] | None = None
    # translation only: (src, tgt) -> (repo id, revision)
    pair_defaults: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)

    def pipeline_class(self) -> type:
        """Import and return the pipeline class."""
        module, name = self.impl.split(":")
        return getattr(importlib.import_module(f"pretrained.pipelines.{module}"), name)


_T5_BASE = ("google-t5/t5-base", "a9723ea")

TASKS: dict[str, TaskSpec] = {
    "feature-extraction": TaskSpec(
        "feature_extraction:FeatureExtractionPipeline",
        "base",
        ("distilbert/distilbert-base-cased", "6ea8117"),
    ),
    "text-classification": TaskSpec(
        "text_classification:TextClassificationPipeline",
        "sequence-classification",
        ("distilbert/distilbert-base-uncased-finetuned-sst-2-english", "714eb0f"),
    ),
    "token-classification": TaskSpec(
        "token_classification:TokenClassificationPipeline",
        "token-classification",
        ("dbmdz/bert-large-cased-finetuned-conll03-english", "4c53496"),
    ),
    "question-answering": TaskSpec(
        "question_answering:QuestionAnsweringPipeline",
        "question-answering",
        ("distilbert/distilbert-base-cased-distilled-squad", "564e9b5"),
    ),
    "fill-mask": TaskSpec(
        "fill_mask:FillMaskPipeline", "masked-lm", ("distilbert/distilroberta-base", "fb53ab8")
    ),
    "zero-shot-classification": TaskSpec(
        "zero_shot_classification:ZeroShotClassificationPipeline",
        "sequence-classification",
        ("facebook/bart-large-mnli", "d7645e1"),
    ),
    "text-generation": TaskSpec(
        "text_generation:TextGenerationPipeline", "causal-lm", ("openai-community/gpt2", "607a30d")
    ),
    "text2text-generation": TaskSpec(
        "text2text_generation:Text2TextGenerationPipeline", "seq2seq-lm", _T5_BASE
    ),
    "summarization": TaskSpec(
        "text2text_generation:SummarizationPipeline",
        "seq2seq-lm",
        ("sshleifer/distilbart-cnn-12-6", "a4f8f3e"),
    ),
    "translation": TaskSpec(
        "text2text_generation:TranslationPipeline",
        "seq2seq-lm",
        pair_defaults={("en", "fr"): _T5_BASE, ("en", "de"): _T5_BASE, ("en", "ro"): _T5_BASE},
    ),
}

TASK_ALIASES: dict[str, str] = {
    "sentiment-analysis": "text-classification",
    "ner": "token-classification",
}

# config.json ``architectures`` class-name suffix -> task, to infer the task offline (longest suffix first)
ARCHITECTURE_TASKS: dict[str, str] = {
    "ForSequenceClassification": "text-classification",
    "ForTokenClassification": "token-classification",
    "ForQuestionAnswering": "question-answering",
    "ForMaskedLM": "fill-mask",
    "ForCausalLM": "text-generation",
    "LMHeadModel": "text-generation",
    "ForConditionalGeneration": "text2text-generation",
    "MTModel": "translation",
    "Model": "feature-extraction",
}


def supported_tasks() -> list[str]:
    """Every task name and alias ``pipeline()`` accepts (``translation_XX_to_YY`` too)."""
    return sorted([*TASKS, *TASK_ALIASES]) + ["translation_XX_to_YY"]


def check_task(task: str) -> tuple[str, TaskSpec, tuple[str, str] | None]:
    """``(normalized task, spec, options)``; options is ``(src, tgt)`` for ``translation_src_to_tgt``.

    Raises ``KeyError`` listing the supported tasks for an unknown one.
    """
    if not isinstance(task, str):
        raise TypeError(f"task must be a string such as 'text-classification', got {type(task).__name__}")
    task = TASK_ALIASES.get(task, task)
    if task in TASKS:
        return task, TASKS[task], None
    if task.startswith("translation"):
        parts = task.split("_")
        if len(parts) == 4 and parts[0] == "translation" and parts[2] == "to":
            return "translation", TASKS["translation"], (parts[1], parts[3])
        raise KeyError(f"Invalid translation task {task!r}; use the 'translation_XX_to_YY' format")
    raise KeyError(f"Unknown task {task!r}; available tasks are: {', '.join(supported_tasks())}")


def default_model(task: str, spec: TaskSpec, options: tuple[str, str] | None) -> tuple[str, str]:
    """The reference's default ``(repo id, revision)`` for a task (translation by language pair)."""
    if spec.default is not None:
        return spec.default
    if options in spec.pair_defaults:
        return spec.pair_defaults[options]
    pairs = ", ".join(f"translation_{s}_to_{t}" for s, t in spec.pair_defaults)
    raise ValueError(f"task {task!r} has no default model for {options}; pass model=, or use one of: {pairs}")


def infer_task(config: Any) -> str | None:
    """The task matching a config's ``architectures`` (``BertForMaskedLM`` -> ``fill-mask``), if any."""
    for arch in getattr(config, "architectures", None) or []:
        for suffix, task in ARCHITECTURE_TASKS.items():
            if arch.endswith(suffix):
                return task
    return None
