"""Truncation and padding of (pairs of) encodings, and their tokenizer.json form.

>>> from pretrained.tokenizers.encoding import Encoding
>>> a = Encoding(list(range(6)))
>>> a, _ = truncate_encodings(a, None, {"max_length": 4, "stride": 0, "strategy": "longest_first", "direction": "right"})
>>> a.ids, a.overflowing[0].ids
([0, 1, 2, 3], [4, 5])
"""

from __future__ import annotations

from typing import Any

from ._registry import TokenizerFileError
from .encoding import Encoding

TRUNCATION_STRATEGIES = ("longest_first", "only_first", "only_second")
_STRATEGY_JSON = {"longest_first": "LongestFirst", "only_first": "OnlyFirst", "only_second": "OnlySecond"}
_DIRECTION_JSON = {"left": "Left", "right": "Right"}


def truncate_encodings(
    encoding: Encoding, pair: Encoding | None, params: dict[str, Any]
) -> tuple[Encoding, Encoding | None]:
    """Truncate one sequence or a pair to ``max_length`` tokens in total, like the reference."""
    max_length, stride, direction = params["max_length"], params["stride"], params["direction"]
    if max_length == 0:
        encoding.truncate(0, stride, direction)
        if pair is not None:
            pair.truncate(0, stride, direction)
        return encoding, pair
    total = len(encoding.ids) + (len(pair.ids) if pair is not None else 0)
    if total <= max_length:
        return encoding, pair
    to_remove = total - max_length
    strategy = params["strategy"]
    if strategy == "longest_first":
        if pair is None:
            encoding.truncate(total - to_remove, stride, direction)
            return encoding, pair
        n1, n2 = len(encoding.ids), len(pair.ids)
        swap = n1 > n2
        if swap:
            n1, n2 = n2, n1
        n2 = n1 if n1 > max_length else max(n1, max_length - n1)
        if n1 + n2 > max_length:
            n1 = max_length // 2
            n2 = n1 + max_length % 2
        if swap:
            n1, n2 = n2, n1
        encoding.truncate(n1, stride, direction)
        pair.truncate(n2, stride, direction)
        return encoding, pair
    if strategy == "only_second" and pair is None:
        raise ValueError(
            "Truncation error: Second sequence not provided; only_second truncation needs a pair"
        )
    target = encoding if strategy == "only_first" else pair
    if target is not None and len(target.ids) > to_remove:
        target.truncate(len(target.ids) - to_remove, stride, direction)
        return encoding, pair
    raise ValueError(
        "Truncation error: Sequence to truncate too short to respect the provided max_length; "
        "use truncation strategy 'longest_first' or a larger max_length"
    )


def pad_encodings(encodings: list[Encoding], params: dict[str, Any]) -> None:
    """Pad every encoding to the fixed length, or to the longest of the batch."""
    if not encodings:
        return
    length = params["length"]
    if length is None:
        length = max(len(e.ids) for e in encodings)
    multiple = params.get("pad_to_multiple_of")
    if multiple and length % multiple:
        length += multiple - length % multiple
    for e in encodings:
        e.pad(length, params["direction"], params["pad_id"], params["pad_type_id"], params["pad_token"])


def truncation_from_json(data: Any) -> dict[str, Any] | None:
    if data is None:
        return None
    try:
        strategy = {v: k for k, v in _STRATEGY_JSON.items()}[data.get("strategy", "LongestFirst")]
        direction = {v: k for k, v in _DIRECTION_JSON.items()}[data.get("direction", "Right")]
        return {"max_length": int(data["max_length"]), "stride": int(data.get("stride", 0)),
                "strategy": strategy, "direction": direction}  # fmt: skip
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise TokenizerFileError(
            f"tokenizer.json: bad 'truncation' {data!r} ({e}); expected max_length, stride, "
            "strategy (LongestFirst/OnlyFirst/OnlySecond) and direction (Left/Right), or null"
        ) from None


def truncation_to_json(params: dict[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    return {
        "direction": _DIRECTION_JSON[params["direction"]],
        "max_length": params["max_length"],
        "strategy": _STRATEGY_JSON[params["strategy"]],
        "stride": params["stride"],
    }


def padding_from_json(data: Any) -> dict[str, Any] | None:
    if data is None:
        return None
    try:
        strategy = data.get("strategy", "BatchLongest")
        length = int(strategy["Fixed"]) if isinstance(strategy, dict) else None
        if length is None and strategy != "BatchLongest":
            raise ValueError(f"unknown strategy {strategy!r}")
        return {
            "length": length,
            "pad_to_multiple_of": data.get("pad_to_multiple_of"),
            "pad_id": int(data.get("pad_id", 0)),
            "pad_token": data.get("pad_token", "[PAD]"),
            "pad_type_id": int(data.get("pad_type_id", 0)),
            "direction": {v: k for k, v in _DIRECTION_JSON.items()}[data.get("direction", "Right")],
        }
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise TokenizerFileError(
            f"tokenizer.json: bad 'padding' {data!r} ({e}); expected strategy (BatchLongest or "
            '{"Fixed": n}), direction (Left/Right), pad_id, pad_type_id, pad_token, or null'
        ) from None


def padding_to_json(params: dict[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    length = params["length"]
    return {
        "strategy": {"Fixed": length} if length is not None else "BatchLongest",
        "direction": _DIRECTION_JSON[params["direction"]],
        "pad_to_multiple_of": params["pad_to_multiple_of"],
        "pad_id": params["pad_id"],
        "pad_type_id": params["pad_type_id"],
        "pad_token": params["pad_token"],
    }
