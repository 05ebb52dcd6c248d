"""Pipelines: ``pipeline(task, model=...)`` runs preprocess -> model -> postprocess for a task.

Task modules are imported when their task is used.

>>> from pretrained import pipeline
>>> fill = pipeline("fill-mask", model="path/to/bert")  # doctest: +SKIP
>>> fill("Paris is the [MASK] of France.")[0]["token_str"]  # doctest: +SKIP
'capital'
"""

from __future__ import annotations

import importlib
from typing import Any

from .base import Pipeline
from .factory import pipeline
from .registry import TASK_ALIASES, TASKS, check_task, supported_tasks

# task pipeline class -> its module under pretrained.pipelines (imported on first use)
_CLASSES = {spec.impl.split(":")[1]: spec.impl.split(":")[0] for spec in TASKS.values()}

__all__ = ["Pipeline", "pipeline", "check_task", "supported_tasks", "TASKS", "TASK_ALIASES", *_CLASSES]


def __getattr__(name: str) -> Any:
    module = _CLASSES.get(name)
    if module is None:
        raise AttributeError(f"module 'pretrained.pipelines' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
