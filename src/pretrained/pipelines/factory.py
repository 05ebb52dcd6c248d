"""``pipeline()``: build a task pipeline from a task name and a model (folder, cached repo id, or object).

Works offline: a model name resolves to a local folder or a snapshot in the Hugging Face cache
(:mod:`pretrained.hub`). Without ``model=``, the reference's default checkpoint for the task is looked up there.

>>> from pretrained import pipeline
>>> pipe = pipeline("sentiment-analysis", model="path/to/sst2-model")  # doctest: +SKIP
>>> pipe("I love this!")  # doctest: +SKIP
[{'label': 'POSITIVE', 'score': 0.9998}]
"""

from __future__ import annotations

import logging
import os
from typing import Any

from ..config import PretrainedConfig
from .base import Pipeline
from .registry import TaskSpec, check_task, default_model, infer_task, supported_tasks

log = logging.getLogger(__name__)


def pipeline(
    task: str | None = None,
    model: str | os.PathLike | Any = None,
    config: str | os.PathLike | PretrainedConfig | None = None,
    tokenizer: str | os.PathLike | Any = None,
    device: int | str | Any = None,
    torch_dtype: Any = None,
    batch_size: int | None = None,
    revision: str | None = None,
    **kwargs: Any,
) -> Pipeline:
    """Build the pipeline for ``task`` (aliases such as ``"sentiment-analysis"`` and ``"ner"`` work).

    ``model`` is a folder, a cached repo id or a loaded model; ``tokenizer`` likewise (taken from the model's
    folder when omitted). ``device``: -1/``"cpu"``, a CUDA index, a string or ``torch.device``. ``torch_dtype``:
    ``"auto"`` (the checkpoint's, the default), a name or a ``torch.dtype``. Other keyword arguments are the
    task's parameters (``top_k=``, ``aggregation_strategy=``, ...) or ``model_kwargs=`` for loading.

    >>> ner = pipeline("ner", model="path/to/ner-model", aggregation_strategy="simple")  # doctest: +SKIP
    """
    model_kwargs = dict(kwargs.pop("model_kwargs", None) or {})
    if kwargs.get("gguf_file") is not None:  # a llama.cpp file in the model folder: model and tokenizer
        model_kwargs["gguf_file"] = kwargs.pop("gguf_file")
    for key in ("use_fast", "token", "trust_remote_code", "framework"):
        kwargs.pop(key, None)  # accepted for compatibility: tokenizers are always fast, code is never remote
    if kwargs.pop("device_map", None) is not None:
        log.warning("pipeline(device_map=...) is not supported; the model goes on one device (device=)")
    torch_dtype = kwargs.pop("dtype", None) if torch_dtype is None else torch_dtype
    if task is None and model is None:
        raise RuntimeError(
            "pipeline() needs a task or a model; e.g. pipeline('text-classification', model=...)"
        )
    if model is None and tokenizer is not None:
        raise RuntimeError(
            "pipeline() got a tokenizer but no model; the tokenizer may not match the task's default model. "
            "Pass model= as well."
        )
    if isinstance(model, os.PathLike):
        model = os.fspath(model)
    where = {"revision": revision, **{k: model_kwargs[k] for k in ("cache_dir",) if k in model_kwargs}}
    if isinstance(config, (str, os.PathLike)):
        from ..config import AutoConfig

        config = AutoConfig.from_pretrained(config, **where)
    if task is None:
        task = _infer_task(model, config, where)
    normalized, spec, options = check_task(task)
    if model is None:
        model, where["revision"] = _default_checkpoint(task, spec, options, revision, where)
    model_name = model if isinstance(model, str) else None
    if model_name is not None:
        model = _load_model(model_name, normalized, spec, config, torch_dtype, where, model_kwargs)
    else:
        _check_head(model, normalized, spec)
    gguf = {"gguf_file": model_kwargs["gguf_file"]} if model_kwargs.get("gguf_file") else {}
    tokenizer = _load_tokenizer(tokenizer, model, model_name, {**where, **gguf})
    task = _translation_task(task, normalized, model)
    cls = _pipeline_class(normalized, spec)
    dtype = torch_dtype if model_name is None else None  # a loaded checkpoint already has its dtype
    return cls(model, tokenizer, task=task, device=device, torch_dtype=dtype, batch_size=batch_size, **kwargs)


def _infer_task(model: Any, config: Any, where: dict) -> str:
    if config is None and isinstance(model, str):
        from ..config import AutoConfig

        config = AutoConfig.from_pretrained(model, **where)
    elif config is None:
        config = getattr(model, "config", None)
    task = infer_task(config)
    if task is None:
        raise RuntimeError(
            f"can't infer the task of {model if isinstance(model, str) else type(model).__name__} "
            f"(config.architectures: {getattr(config, 'architectures', None)}); pass task=, one of: "
            + ", ".join(supported_tasks())
        )
    return task


def _default_checkpoint(
    task: str, spec: TaskSpec, options: Any, revision: str | None, where: dict
) -> tuple[str, str | None]:
    from ..hub import ModelNotFoundError, resolve_dir

    name, default_revision = default_model(task, spec, options)
    tries = [revision] if revision is not None else [default_revision, None]
    for rev in tries:
        try:
            resolve_dir(name, revision=rev, cache_dir=where.get("cache_dir"))
        except ModelNotFoundError:
            continue
        if rev != tries[0]:
            log.warning("%s is cached, but not at revision %s; using the cached revision", name, tries[0])
        log.warning("No model was supplied, defaulted to %s (revision %s)", name, rev)
        return name, rev
    raise FileNotFoundError(
        f"pipeline({task!r}) defaults to the model {name!r} (revision {tries[0]}), which is not in the local "
        "Hugging Face cache, and this library works offline. Download it into the cache, or pass model= a local "
        f"folder or a cached repo id: pipeline({task!r}, model='path/to/model')."
    )


def _load_model(
    name: str, task: str, spec: TaskSpec, config: Any, torch_dtype: Any, where: dict, model_kwargs: dict
) -> Any:
    from ..models import auto

    cls = next(
        c for c in vars(auto).values() if isinstance(c, type) and getattr(c, "task", None) == spec.head
    )
    kwargs = {**model_kwargs, **where}
    kwargs.setdefault("torch_dtype", "auto" if torch_dtype is None else torch_dtype)
    if config is not None:
        kwargs["config"] = config
    try:
        return cls.from_pretrained(name, **kwargs)
    except ValueError as e:
        if f"has no {spec.head} head" in str(e):
            raise ValueError(f"{name!r} can't be used for {task!r}: {e}") from None
        raise


def _check_head(model: Any, task: str, spec: TaskSpec) -> None:
    """A model object must be the task's head class (any model serves feature extraction)."""
    if not hasattr(model, "config") or not hasattr(model, "forward"):
        raise TypeError(
            f"model must be a folder, a cached repo id or a loaded model, got {type(model).__name__}"
        )
    if spec.head == "base":
        return
    from ..models.auto import _module

    try:
        expected = _module(model.config.model_type, type(model).__name__).TASK_CLASSES.get(spec.head)
    except ValueError:
        return  # a model class of its own: trust it
    if expected is not None and type(model).__name__ != expected and not _subclass_of(model, expected):
        raise ValueError(
            f"{type(model).__name__} can't be used for {task!r}: that task needs a {spec.head} head "
            f"({expected}); load it with the matching Auto class or pass the folder as model="
        )
    if expected is None:
        raise ValueError(
            f"{type(model).__name__} can't be used for {task!r}: model_type {model.config.model_type!r} has no "
            f"{spec.head} head"
        )


def _subclass_of(model: Any, name: str) -> bool:
    return any(c.__name__ == name for c in type(model).__mro__)


def _load_tokenizer(tokenizer: Any, model: Any, model_name: str | None, where: dict) -> Any:
    from ..tokenizers.auto import AutoTokenizer

    kwargs: dict[str, Any] = {}
    if isinstance(tokenizer, tuple):
        tokenizer, kwargs = tokenizer[0], dict(tokenizer[1])
    if tokenizer is None:
        tokenizer = model_name or getattr(model, "name_or_path", None)
        if not tokenizer:
            raise ValueError(
                f"can't tell which tokenizer goes with this {type(model).__name__} (it was not loaded from a "
                "folder); pass tokenizer= a folder, a cached repo id or a tokenizer object"
            )
        kwargs = {k: v for k, v in where.items() if v is not None} | kwargs
    if isinstance(tokenizer, (str, os.PathLike)):
        kwargs.pop("use_fast", None)
        return AutoTokenizer.from_pretrained(tokenizer, **kwargs)
    return tokenizer


def _translation_task(task: str, normalized: str, model: Any) -> str:
    """Plain ``"translation"`` takes the model's first ``translation_*`` task_specific_params entry."""
    if task != "translation":
        return task
    for key in getattr(model.config, "task_specific_params", None) or {}:
        if key.startswith("translation"):
            log.warning(
                '"translation" task was used, instead of "translation_XX_to_YY", defaulting to %r', key
            )
            return key
    return task


def _pipeline_class(task: str, spec: TaskSpec) -> type:
    try:
        return spec.pipeline_class()
    except ModuleNotFoundError as e:
        if e.name and e.name.startswith("pretrained.pipelines."):
            raise NotImplementedError(f"the {task!r} pipeline is not available yet ({e.name})") from None
        raise
