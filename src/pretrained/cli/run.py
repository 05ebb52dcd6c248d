"""``pretrained run``: read inputs (arguments or stdin lines, JSON where an input is an object), run the task's
pipeline in batches, print one JSON result per line, with a progress bar on stderr for long inputs.

>>> parse_line("question-answering", '{"question": "Where?", "context": "In Paris."}', "line 1")
{'question': 'Where?', 'context': 'In Paris.'}
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

# task -> (what it does, what one input line is, useful --arg keys)
TASK_HELP: dict[str, tuple[str, str, str]] = {
    "feature-extraction": ("token embeddings (last hidden states)", "text", "truncation, tokenize_kwargs"),
    "text-classification": (
        "label and score (alias: sentiment-analysis)",
        'text, or {"text": ..., "text_pair": ...}',
        "top_k, function_to_apply",
    ),
    "token-classification": (
        "named entities (alias: ner)",
        "text",
        "aggregation_strategy, ignore_labels, stride",
    ),
    "question-answering": (
        "answer span in a context",
        '{"question": ..., "context": ...}',
        "top_k, max_answer_len, handle_impossible_answer, doc_stride",
    ),
    "fill-mask": ("fill the mask token", "text with the mask token", "top_k, targets"),
    "zero-shot-classification": (
        "scores for labels given at run time",
        'text with --arg candidate_labels=a,b, or {"sequence": ..., "candidate_labels": [...]}',
        "candidate_labels, hypothesis_template, multi_label",
    ),
    "text-generation": (
        "continue a prompt or a chat",
        'text, or a chat: [{"role": "user", "content": ...}, ...] (or {"messages": [...]})',
        "max_new_tokens, do_sample, temperature, top_p, num_beams, num_return_sequences, return_full_text",
    ),
    "text2text-generation": (
        "seq2seq generation",
        "text",
        "max_new_tokens, num_beams, num_return_sequences, do_sample",
    ),
    "summarization": ("summary of a document", "text", "min_length, max_length, num_beams"),
    "translation": (
        "translation (also translation_XX_to_YY)",
        "text",
        "src_lang, tgt_lang (multilingual models), max_length, num_beams",
    ),
}
# tasks whose pipeline takes a whole JSON object as its input; for the others, an object's main key is the
# input and its other keys are arguments for that input
_OBJECT_INPUT = {"question-answering", "text-classification"}
_NEEDS_OBJECT = {"question-answering", "zero-shot-classification"}  # a "{" line must be valid JSON
_MAIN_KEYS = ("text", "inputs", "sequences", "sequence", "messages", "prompt")
# tasks whose pipeline returns a one-item list's result unwrapped
_UNWRAPS_ONE = {"question-answering", "fill-mask"}
# tasks whose pipeline gives a text alone a list of results, but each text of a list its result unwrapped (one
# generated text; one label when top_k is not given)
_LISTS_ONE_TEXT = {"text-classification", "summarization", "translation", "text2text-generation"}
PROGRESS_MIN_ITEMS = 10


_EXTRA_KWARGS = {"tokenizer_kwargs": "any tokenizer argument", "generate_kwargs": "any generate() argument"}


def task_arguments(task: str) -> list[str]:
    """Every keyword argument ``task``'s pipeline takes (its ``_sanitize_parameters``, up the class tree), and
    what its ``**kwargs`` take (tokenizer or generate() arguments).

    >>> task_arguments("fill-mask")
    ['top_k', 'targets', 'tokenizer_kwargs']
    """
    import inspect

    from ..pipelines import check_task

    names: dict[str, None] = {}
    extra: dict[str, None] = {}  # what **kwargs take, listed last
    for cls in check_task(task)[1].pipeline_class().__mro__:
        method = vars(cls).get("_sanitize_parameters")
        if method is None or cls.__name__ == "Pipeline":
            continue
        for name, param in list(inspect.signature(method).parameters.items())[1:]:
            if param.kind is not param.VAR_KEYWORD:
                names[name] = None
            elif name in _EXTRA_KWARGS:
                extra[_EXTRA_KWARGS[name]] = None
    return [*names, *extra]


class UsageError(Exception):
    """A bad command line: exit status 2."""


def parse_value(text: str) -> Any:
    """A ``--arg`` value: JSON when it parses (``3``, ``true``, ``["a"]``), Python's True/False/None, else text.

    >>> parse_value("3"), parse_value("false"), parse_value("True"), parse_value("a,b")
    (3, False, True, 'a,b')
    """
    try:
        return json.loads(text)
    except ValueError:
        return {"True": True, "False": False, "None": None}.get(text, text)


# pipeline() arguments that the command sets from its own options
_COMMAND_OPTIONS = {
    "batch_size": "--batch-size", "model": "--model", "tokenizer": "--tokenizer", "revision": "--revision",
    "device": "--device", "torch_dtype": "--dtype", "dtype": "--dtype", "gguf_file": "--gguf-file",
}  # fmt: skip


def parse_args(pairs: list[str]) -> dict[str, Any]:
    """``["top_k=3", ...]`` -> ``{"top_k": 3}``."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip().isidentifier():
            raise UsageError(f"--arg {pair!r}: expected KEY=VALUE with KEY a Python name, e.g. --arg top_k=3")
        if key.strip() in _COMMAND_OPTIONS:
            raise UsageError(f"--arg {pair!r}: use the option {_COMMAND_OPTIONS[key.strip()]} instead")
        out[key.strip()] = parse_value(value)
    return out


# -- inputs -------------------------------------------------------------------------------------------------
def parse_line(task: str, line: str, where: str) -> Any:
    """One input: a JSON object for lines starting with ``{``, a chat for text-generation lines holding a JSON
    list of messages, else the text itself."""
    text = line.rstrip("\r\n")
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            return json.loads(stripped)
        except ValueError as e:
            if task in _NEEDS_OBJECT:
                raise ValueError(f"{where}: not valid JSON ({e})") from None
    elif stripped.startswith("[") and task == "text-generation":
        try:
            value = json.loads(stripped)
        except ValueError:
            value = None
        if isinstance(value, list) and value and all(isinstance(m, dict) for m in value):
            return value
    if task == "question-answering":
        raise ValueError(f'{where}: question-answering takes JSON lines {{"question": ..., "context": ...}}')
    return text


def split_input(task: str, item: Any, where: str) -> tuple[Any, dict[str, Any]]:
    """``(pipeline input, per-input arguments)``: an object's main key is the input, other keys arguments."""
    if not isinstance(item, dict) or task in _OBJECT_INPUT:
        return item, {}
    key = next((k for k in _MAIN_KEYS if k in item), None)
    if key is None:
        raise ValueError(f"{where}: a JSON object for {task} needs one of the keys {', '.join(_MAIN_KEYS)}")
    kwargs = {k: v for k, v in item.items() if k != key}
    clash = sorted(set(kwargs) & set(_COMMAND_OPTIONS))
    if clash:
        option = _COMMAND_OPTIONS[clash[0]]
        raise ValueError(f"{where}: {clash[0]!r} can't be set per input; use the option {option}")
    return item[key], kwargs


def read_inputs(task: str, texts: list[str], stdin: TextIO) -> Iterator[tuple[Any, dict[str, Any]]]:
    """The inputs from the arguments, else from stdin (blank lines skipped)."""
    if texts and texts != ["-"]:
        lines: Iterable[tuple[str, str]] = ((t, f"argument {i}") for i, t in enumerate(texts, 1))
    else:
        if stdin.isatty():
            raise UsageError("no input: pass TEXT arguments, or pipe lines into stdin")
        stripped = (line.removeprefix("\ufeff") if i == 1 else line for i, line in enumerate(stdin, 1))  # BOM
        lines = ((line, f"stdin line {i}") for i, line in enumerate(stripped, 1) if line.strip())
    for text, where in lines:
        yield split_input(task, parse_line(task, text, where), where)


# -- progress bar -------------------------------------------------------------------------------------------
class Progress:
    """A one-line progress bar on a stream: ``37/120 [=====>      ]  31%  4.2/s`` (no total: ``37 done``)."""

    def __init__(self, total: int | None, stream: TextIO, enabled: bool, width: int = 30) -> None:
        self.total, self.stream, self.enabled, self.width = total, stream, enabled, width
        self.done, self.start, self._last = 0, time.monotonic(), 0.0

    def update(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and (now - self._last >= 0.1 or self.done == self.total):
            self._last = now
            self.stream.write("\r" + self.render(now - self.start))
            self.stream.flush()

    def render(self, elapsed: float) -> str:
        rate = f"{self.done / elapsed:.1f}/s" if elapsed > 0 else ""
        if not self.total:
            return f"{self.done} done  {rate}"
        filled = self.width * self.done // self.total
        bar = "=" * filled + (">" if filled < self.width else "") + " " * (self.width - filled - 1)
        return f"{self.done}/{self.total} [{bar[: self.width]}] {100 * self.done // self.total:3d}%  {rate}"

    def close(self) -> None:
        if self.enabled and self.done:
            self.stream.write("\r" + self.render(time.monotonic() - self.start) + "\n")
            self.stream.flush()


# -- commands -----------------------------------------------------------------------------------------------
def _jsonable(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "value"):  # enums
        return obj.value
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def _groups(items: Iterable[tuple[Any, dict]], size: int) -> Iterator[tuple[list[Any], dict]]:
    """Runs of up to ``size`` consecutive inputs that share their per-input arguments. A full run is given out
    as soon as its last input is read (not when the next one comes: stdin may be a conversation)."""
    batch: list[Any] = []
    current: dict | None = None
    for value, kwargs in items:
        if batch and kwargs != current:
            yield batch, current or {}
            batch = []
        batch.append(value)
        current = kwargs
        if len(batch) == size:
            yield batch, current
            batch = []
    if batch:
        yield batch, current or {}


def _build_pipeline(args: argparse.Namespace) -> Any:
    from ..pipelines import pipeline

    kwargs: dict[str, Any] = {"model": args.model, "revision": args.revision}
    if args.tokenizer:
        kwargs["tokenizer"] = args.tokenizer
    if args.gguf_file:
        kwargs["gguf_file"] = args.gguf_file
    if args.device is not None:
        kwargs["device"] = int(args.device) if args.device.lstrip("-").isdigit() else args.device
    if args.dtype:
        kwargs["torch_dtype"] = args.dtype
    return pipeline(args.task, **kwargs)


def command_run(args: argparse.Namespace, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    from ..pipelines import check_task

    try:
        task = check_task(args.task)[0]
    except (KeyError, TypeError) as e:
        raise UsageError(str(e.args[0]) if e.args else str(e)) from None
    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, got {args.batch_size}")
    options = parse_args(args.arg)
    items = read_inputs(task, args.texts, stdin)
    first = next(items, None)  # read (and check) the first input before loading the model
    if first is None:
        raise UsageError("no input: stdin was empty")
    items = _chain(first, items)
    pipe = _build_pipeline(args)
    total = len(args.texts) if args.texts and args.texts != ["-"] else None
    show = args.progress
    if show is None:
        show = stderr.isatty() and (total is None or total >= PROGRESS_MIN_ITEMS)
    progress = Progress(total, stderr, show)
    chunk = args.batch_size * 4 if args.batch_size > 1 else 1
    try:
        for values, kwargs in _groups(items, chunk):
            # call-time arguments: they win over the model's defaults (and T5's task_specific_params)
            call = {**options, **kwargs}
            for result in run_group(pipe, task, values, args.batch_size, call):
                # exactly json.dumps(result): non-ASCII as \u escapes, whatever the terminal's encoding
                stdout.write(json.dumps(result, default=_jsonable) + "\n")
            stdout.flush()
            progress.update(len(values))
    finally:
        progress.close()
    return 0


def run_group(pipe: Any, task: str, values: list[Any], batch_size: int, call: dict[str, Any]) -> list[Any]:
    """Each value's result, as ``pipe(value, **call)`` returns it: one call per value with ``batch_size`` 1, else
    one batched call over the list, its results shaped back to what a call on each value alone gives."""
    if batch_size == 1:
        return [pipe(value, **call) for value in values]
    results: list[Any] = []
    run: list[Any] = []
    for value in values:
        kind = input_kind(task, value)
        if run and (kind is None or kind != input_kind(task, run[0])):
            results += batched(pipe, task, run, batch_size, call)
            run = []
        if kind is None:  # a line holding several inputs runs alone (its inputs batched together)
            results.append(pipe(value, batch_size=batch_size, **call))
        else:
            run.append(value)
    return results + (batched(pipe, task, run, batch_size, call) if run else [])


def input_kind(task: str, value: Any) -> str | None:
    """What one line's value is: ``"text"``, ``"object"`` or ``"chat"`` (a pipeline takes a list of one kind
    at a time), or None for several inputs (a list of them, a question-answering dict of lists)."""
    if isinstance(value, list):
        is_chat = task == "text-generation" and bool(value) and all(isinstance(m, dict) for m in value)
        return "chat" if is_chat else None
    if isinstance(value, dict):
        return None if any(isinstance(v, list) for v in value.values()) else "object"
    return "text"


def batched(pipe: Any, task: str, values: list[Any], batch_size: int, call: dict[str, Any]) -> list[Any]:
    """Single inputs in one call on their list, each result shaped as a call on that input alone returns it."""
    results = pipe(values, batch_size=batch_size, **call)
    if len(values) == 1 and (task in _UNWRAPS_ONE or not isinstance(results, list)):
        results = [results]
    return [alone(task, value, result, call) for value, result in zip(values, results)]


def alone(task: str, value: Any, result: Any, call: dict[str, Any]) -> Any:
    """``result`` (one value's result from a call on a list) as a call on ``value`` alone returns it."""
    if task not in _LISTS_ONE_TEXT or not isinstance(value, str):
        return result
    if task == "text-classification":  # a text alone is wrapped unless top_k is given (return_all_scores too)
        return result if "top_k" in call else [result]
    return [result] if isinstance(result, dict) else result


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest
