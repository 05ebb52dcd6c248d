"""``Pipeline``: preprocess -> forward -> postprocess, over one input, a list, or a stream, in length-sorted batches.

A task subclass implements four methods:

- ``_sanitize_parameters(**kwargs) -> (preprocess_kwargs, forward_kwargs, postprocess_kwargs)``: split the
  task's keyword arguments (given at construction or at call time; call-time ones win);
- ``preprocess(item, **kw)``: one model input, a dict of ``(1, T, ...)`` token-aligned tensors plus any other
  values (passed through to postprocess). With ``chunked = True`` it yields several (long-text windows,
  candidate labels) and ``postprocess`` receives the list of their outputs;
- ``_forward(batch, **kw)``: run the model on a batch (the inputs collated) and return a dict of outputs;
- ``postprocess(output, **kw)``: turn one input's outputs (leading dimension 1, padding removed) into results.

With ``batch_size > 1`` the model inputs of a window of items (a whole list of up to ``batch_size * list_window``
items; of a stream, one batch first, then windows doubling up to ``batch_size * sort_window`` items) are sorted by
length, padded per batch to the batch's longest, run, and split back into per-input outputs with the padding cut
off, so results do not depend on ``batch_size``. With ``batch_size=1`` an item's pieces of equal length (the
windows of a long text) still run as one batch, without padding.

>>> from pretrained import pipeline
>>> classifier = pipeline("text-classification", model="path/to/sst2-model")  # doctest: +SKIP
>>> classifier(["I love it", "I hate it"], batch_size=2)  # doctest: +SKIP
[{'label': 'POSITIVE', 'score': 0.99...}, {'label': 'NEGATIVE', 'score': 0.99...}]
"""

from __future__ import annotations

import inspect
import logging
import types
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

import torch

log = logging.getLogger(__name__)

# model input key -> padding value when batching (the reference's pad_collate_fn); others pad with 0
_PAD_ONES = ("special_tokens_mask", "p_mask")


class PerItem(list):
    """Non-tensor values of a collated batch, one per model input; ``_forward`` passes them through as is."""


class Pipeline:
    """Base of the task pipelines: see the module docstring for the four methods a task implements.

    >>> pipe = pipeline("fill-mask", model="path/to/bert")  # doctest: +SKIP
    >>> pipe("Paris is the [MASK] of France.", top_k=2)  # doctest: +SKIP
    """

    chunked: bool = False  # preprocess yields several model inputs per item
    token_outputs: tuple[str, ...] = ()  # _forward output keys laid out (B, T, ...): padding is cut per item
    sort_window: int = 16  # batch_size > 1: batches of a stream's items sorted together by length
    list_window: int = 64  # batch_size > 1: batches of a list's items sorted together by length
    # batch_size 1: most equal-length pieces of one item (long-text windows) run as one batch. None: 16 on an
    # accelerator; 1 on the CPU, where batching them gains nothing and raises peak memory (~25% on long QA contexts).
    piece_batch: int | None = None
    # Batches are padded to a multiple of this many tokens (masked, cut off again per item). Fewer distinct
    # shapes reach the model: oneDNN keeps a compiled kernel per matmul shape, so a stream of texts of every
    # length would otherwise grow memory by ~1 MB per new length (and pay each kernel's creation).
    pad_multiple: int = 8
    # Side on which batches are padded; None: the tokenizer's. The encoder tasks pad on the right whatever the
    # tokenizer says: with the attention mask and every real token's position unchanged, a padded row gives the
    # same outputs as the row alone (left padding shifts absolute positions, so results would vary by batch).
    pad_side: str | None = None

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        *,
        task: str = "",
        device: int | str | torch.device | None = None,
        torch_dtype: Any = None,
        batch_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.task = task
        self.model = model
        self.tokenizer = tokenizer
        self.device = pick_device(device, model)
        if torch_dtype not in (None, "auto"):
            from ..modeling import resolve_dtype

            model.to(resolve_dtype(torch_dtype, model.config, {}))
        if model_device(model) != self.device:
            model.to(self.device)
        model.eval()
        self._batch_size = _check_batch_size(batch_size)
        kwargs.pop("num_workers", None)
        self._preprocess_params, self._forward_params, self._postprocess_params = self.split_parameters(
            kwargs
        )

    # -- what a task implements ----------------------------------------------------------------------
    def _sanitize_parameters(self, **kwargs: Any) -> tuple[dict, dict, dict]:
        raise NotImplementedError(f"{type(self).__name__} must implement _sanitize_parameters")

    def preprocess(self, item: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement preprocess")

    def _forward(self, model_inputs: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement _forward")

    def postprocess(self, model_outputs: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement postprocess")

    def split_parameters(self, kwargs: dict[str, Any]) -> tuple[dict, dict, dict]:
        """``_sanitize_parameters``, with a clear error for an argument the task does not take."""
        signature = inspect.signature(self._sanitize_parameters)
        params = signature.parameters.values()
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
            unknown = sorted(set(kwargs) - set(signature.parameters))
            if unknown:
                accepted = ", ".join([*signature.parameters, "batch_size"])
                raise TypeError(
                    f"{type(self).__name__} got unknown argument(s) {', '.join(unknown)}; it accepts: {accepted}"
                )
        return self._sanitize_parameters(**kwargs)

    # -- running --------------------------------------------------------------------------------------
    @property
    def dtype(self) -> torch.dtype:
        return self.model.dtype

    def __call__(self, inputs: Any, *args: Any, batch_size: int | None = None, **kwargs: Any) -> Any:
        """Run on one item (-> one result), a list (-> a list), or a generator/iterator (-> a generator)."""
        if args:
            log.warning("ignoring extra positional arguments %r", args)
        kwargs.pop("num_workers", None)
        pre, fwd, post = self.split_parameters(kwargs)
        params = (
            {**self._preprocess_params, **pre},
            {**self._forward_params, **fwd},
            {**self._postprocess_params, **post},
        )
        size = _check_batch_size(batch_size) or self._batch_size or 1
        if isinstance(inputs, list):
            return list(self.iterate(inputs, size, *params))
        if is_stream(inputs):
            return self.iterate(inputs, size, *params)
        return next(self.iterate([inputs], size, *params))

    def iterate(self, inputs: Iterable, batch_size: int, pre: dict, fwd: dict, post: dict) -> Iterator[Any]:
        """Results in input order, computed a window of ``batch_size * list_window`` (a list's) or up to
        ``batch_size * sort_window`` (a stream's) items at a time.

        A stream's windows start at one batch and double: the first results come once ``batch_size`` items are
        read, as the reference's, and a long stream is still sorted by length over several batches."""
        stream, is_list = iter_items(inputs), isinstance(inputs, list)
        most = 1 if batch_size == 1 else batch_size * (self.list_window if is_list else self.sort_window)
        window = most if is_list else batch_size
        while items := list(islice(stream, window)):
            yield from self._run_window(items, batch_size, pre, fwd, post)
            window = min(2 * window, most)

    def _run_window(self, items: list, batch_size: int, pre: dict, fwd: dict, post: dict) -> Iterator[Any]:
        owners, model_inputs = [], []
        for i, item in enumerate(items):
            pieces = self.preprocess(item, **pre)
            for piece in pieces if self.chunked else [pieces]:
                owners.append(i)
                model_inputs.append(piece)
        outputs = self.forward_all(model_inputs, batch_size, fwd)
        grouped: list[list] = [[] for _ in items]
        for i, out in zip(owners, outputs):
            grouped[i].append(out)
        for outs in grouped:
            yield self.postprocess(outs if self.chunked else outs[0], **post)

    def forward_all(self, model_inputs: list[dict], batch_size: int, fwd: dict) -> list[dict]:
        """Per-input outputs of the model: inputs sorted by length, batched with padding, then split back."""
        if batch_size == 1:
            most = self.piece_batch or (1 if self.device.type == "cpu" else 16)
            batches = equal_length_batches(model_inputs, most)
        else:
            order = sorted(range(len(model_inputs)), key=lambda j: -input_length(model_inputs[j]))
            batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
        results: list[Any] = [None] * len(model_inputs)
        for rows in batches:
            chosen = [model_inputs[j] for j in rows]
            if len(rows) == 1 and not self.needs_padding(chosen[0]):
                results[rows[0]] = self.forward(chosen[0], **fwd)
                continue
            batch, lengths, padded, width = self.collate(chosen)
            out = self.forward(batch, **fwd)
            first = 0  # an input may hold several rows (a tuple of texts tokenized at once)
            for k, j in enumerate(rows):
                n_rows = input_rows(chosen[k])
                span = slice(first, first + n_rows)
                results[j] = self.uncollate(out, k, lengths, padded, width, span)
                first += n_rows
        return results

    def padded_width(self, lengths: list[int]) -> int:
        """The longest of ``lengths`` rounded up to ``pad_multiple``, but not past the model's positions (a text
        that fits the model stays runnable whatever its length)."""
        longest, m = max(lengths), self.pad_multiple
        if m <= 1:
            return longest
        return max(longest, min(-(-longest // m) * m, self.position_limit()))

    def position_limit(self) -> int:
        """Tokens the model surely takes: ``max_position_embeddings`` less a RoBERTa-style padding offset
        (``pad_token_id + 1``, counted for every model: a little less rounding, never an overflow); no limit
        for models without absolute positions."""
        config = getattr(self.model, "config", None)
        limits = [getattr(config, k, None) for k in ("max_position_embeddings", "n_positions")]
        limit = next((v for v in limits if isinstance(v, int)), None)
        if limit is None:
            return 1 << 62
        pad = getattr(config, "pad_token_id", None)
        return limit - (pad + 1 if isinstance(pad, int) and pad >= 0 else 0)

    def needs_padding(self, model_input: dict[str, Any]) -> bool:
        """Whether one input alone is padded up to ``pad_multiple``: it has an attention mask to hide the padding,
        which goes on the right (positions unchanged) with the tokenizer's pad token."""
        return self.can_round_up([model_input]) and input_length(model_input) % self.pad_multiple != 0

    def can_round_up(self, model_inputs: list[dict[str, Any]]) -> bool:
        """Whether a batch may be padded past its longest row (see ``pad_multiple``)."""
        if self.pad_multiple <= 1 or self.padding_side() != "right":
            return False
        if getattr(self.tokenizer, "pad_token_id", None) is None:
            return False
        return all(isinstance(m.get("attention_mask"), torch.Tensor) for m in model_inputs)

    def forward(self, model_inputs: dict[str, Any], **fwd: Any) -> dict[str, Any]:
        """``_forward`` under ``torch.inference_mode`` with tensors moved to the device and results to the CPU."""
        with torch.inference_mode():
            model_inputs = to_device(model_inputs, self.device)
            out = self._forward(model_inputs, **fwd)
        return to_device(out, torch.device("cpu"))

    # -- batching -------------------------------------------------------------------------------------
    def padding_side(self) -> str:
        return self.pad_side or getattr(self.tokenizer, "padding_side", "right") or "right"

    def pad_value(self, key: str) -> int:
        if key == "input_ids":
            pad = getattr(self.tokenizer, "pad_token_id", None)
            if pad is None:
                raise ValueError(
                    "batch_size > 1 pads inputs, but the tokenizer has no pad_token; set tokenizer.pad_token "
                    "(e.g. to the eos token) or use batch_size=1"
                )
            return pad
        return 1 if key in _PAD_ONES else 0

    def collate(self, model_inputs: list[dict]) -> tuple[dict, list[int], set[str], int]:
        """Batch model inputs: (1, T, ...) tensors padded to the longest T (rounded up to ``pad_multiple`` where
        :meth:`can_round_up`), others stacked or listed. Returns the batch, each input's length, the padded keys
        and the padded width."""
        lengths = [input_length(m) for m in model_inputs]
        left = self.padding_side() == "left"
        longest = self.padded_width(lengths) if self.can_round_up(model_inputs) else max(lengths)
        batch, padded = {}, set()
        for key, first in model_inputs[0].items():
            values = [m[key] for m in model_inputs]
            if isinstance(first, torch.Tensor) and first.dim() >= 2:
                padded.add(key)
                batch[key] = torch.cat([pad_to(v, longest, self.pad_value(key), left) for v in values])
            elif isinstance(first, torch.Tensor):
                batch[key] = torch.cat(values) if first.dim() == 1 else torch.stack(values)
            else:
                batch[key] = PerItem(values)
        return batch, lengths, padded, longest

    def uncollate(
        self, out: dict, k: int, lengths: list[int], padded: set[str], width: int, span: slice | None = None
    ) -> dict:
        """Input ``k``'s part of a batch's outputs (its rows ``span``, by default row ``k``; padded to ``width``),
        with the padding of token-aligned tensors removed."""
        left, n = self.padding_side() == "left", lengths[k]
        span = slice(k, k + 1) if span is None else span
        row = {}
        for key, value in out.items():
            if isinstance(value, PerItem):
                row[key] = value[k]
            elif isinstance(value, torch.Tensor) and value.dim() > 0:
                value = value[span]
                if (
                    (key in padded or key in self.token_outputs)
                    and value.dim() >= 2
                    and value.shape[1] == width
                ):
                    value = value[:, width - n :] if left else value[:, :n]
                row[key] = value
            else:
                row[key] = value
        return row


def input_rows(model_input: dict) -> int:
    """How many rows one model input holds: its ``input_ids`` batch size (1 for a single text)."""
    ids = model_input.get("input_ids")
    return ids.shape[0] if isinstance(ids, torch.Tensor) and ids.dim() >= 2 else 1


def input_length(model_input: dict) -> int:
    """Sequence length of one model input: its ``input_ids`` width, else its widest (1, T) tensor."""
    ids = model_input.get("input_ids")
    if isinstance(ids, torch.Tensor) and ids.dim() >= 2:
        return ids.shape[1]
    widths = [v.shape[1] for v in model_input.values() if isinstance(v, torch.Tensor) and v.dim() >= 2]
    return max(widths, default=0)


def equal_length_batches(model_inputs: list[dict], most: int) -> list[list[int]]:
    """Indices of ``model_inputs`` grouped by length (batches that need no padding), ``most`` at a time."""
    groups: dict[int, list[int]] = {}
    for j, model_input in enumerate(model_inputs):
        groups.setdefault(input_length(model_input), []).append(j)
    return [rows[i : i + most] for rows in groups.values() for i in range(0, len(rows), most)]


def pad_to(t: torch.Tensor, length: int, value: int | float, left: bool) -> torch.Tensor:
    """Pad dim 1 of a (1, T, ...) tensor to ``length``."""
    missing = length - t.shape[1]
    if missing <= 0:
        return t
    fill = t.new_full((t.shape[0], missing, *t.shape[2:]), value)  # (1, missing, ...)
    return torch.cat([fill, t] if left else [t, fill], dim=1)  # (1, length, ...)


def to_device(obj: Any, device: torch.device) -> Any:
    """Move the tensors of a (nested) dict/list/tuple to ``device``."""
    if isinstance(obj, torch.Tensor):
        return obj.to(device)
    if isinstance(obj, PerItem):
        return obj
    if isinstance(obj, dict):
        return {k: to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_device(v, device) for v in obj)
    return obj


def is_stream(inputs: Any) -> bool:
    """A generator, iterator, ``torch.utils.data.Dataset`` (e.g. transformers' ``KeyDataset``) or dataset-like
    iterable (not a str, dict, tuple, tensor or list)."""
    if isinstance(inputs, (types.GeneratorType, Iterator, torch.utils.data.Dataset)):
        return True
    if isinstance(inputs, (str, bytes, dict, tuple, list, torch.Tensor)):
        return False
    return isinstance(inputs, Iterable) and hasattr(inputs, "__len__") and hasattr(inputs, "__getitem__")


def iter_items(inputs: Iterable) -> Iterator[Any]:
    """The items of a list or stream; a map-style dataset (``__getitem__`` and ``__len__``, no ``__iter__``) by index."""
    if (
        isinstance(inputs, torch.utils.data.Dataset)
        and not hasattr(inputs, "__iter__")
        and hasattr(inputs, "__len__")
    ):
        return (inputs[i] for i in range(len(inputs)))
    return iter(inputs)


def pick_device(device: int | str | torch.device | None, model: Any) -> torch.device:
    """The reference's rule: -1 is the CPU, an int is a CUDA index; None keeps an accelerator model where it is,
    else uses ``cuda:0`` when available."""
    if isinstance(device, (str, int)) and not isinstance(device, bool):
        device = torch.device(device) if isinstance(device, str) else _index_device(device)
    if isinstance(device, torch.device):
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"device={device} asks for CUDA, which is not available here; use device='cpu' (or -1)"
            )
        return device
    if device is not None:
        raise TypeError(f"device must be an int, a str or a torch.device, got {type(device).__name__}")
    current = model_device(model)
    if current.type not in ("cpu", "meta"):
        return current
    return torch.device("cuda:0") if torch.cuda.is_available() else torch.device("cpu")


def _index_device(index: int) -> torch.device:
    return torch.device("cpu") if index < 0 else torch.device(f"cuda:{index}")


def model_device(model: Any) -> torch.device:
    """Where a model's parameters are (the CPU for a model without any)."""
    device = getattr(model, "device", None)
    if isinstance(device, torch.device):
        return device
    return next((p.device for p in model.parameters()), torch.device("cpu"))


def _check_batch_size(batch_size: Any) -> int | None:
    if batch_size is None:
        return None
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    return batch_size
