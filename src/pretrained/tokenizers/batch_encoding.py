"""``BatchEncoding``: the dict a tokenizer call returns, with token <-> word <-> character maps.

>>> enc = BatchEncoding({"input_ids": [[1, 2, 3]]}, tensor_type="pt")  # doctest: +SKIP
>>> enc.input_ids.shape  # doctest: +SKIP
torch.Size([1, 3])
"""

from __future__ import annotations

import logging
from collections import UserDict
from enum import Enum, StrEnum
from typing import Any, NamedTuple

log = logging.getLogger(__name__)


class PaddingStrategy(StrEnum):
    """Values accepted by ``padding=``: ``True`` means ``"longest"``."""

    LONGEST = "longest"
    MAX_LENGTH = "max_length"
    DO_NOT_PAD = "do_not_pad"


class TruncationStrategy(StrEnum):
    """Values accepted by ``truncation=``: ``True`` means ``"longest_first"``."""

    ONLY_FIRST = "only_first"
    ONLY_SECOND = "only_second"
    LONGEST_FIRST = "longest_first"
    DO_NOT_TRUNCATE = "do_not_truncate"


class TensorType(StrEnum):
    PYTORCH = "pt"
    NUMPY = "np"


def parse_enum(enum: type[Enum], value: Any, argument: str) -> Any:
    """``enum(value)`` with an error naming the argument and the accepted values."""
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in enum)
        raise ValueError(f"{argument}={value!r} is not valid; use one of {allowed}") from None


def to_py(obj: Any) -> Any:
    """Tensors / arrays / numpy scalars -> python ints and lists."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, (list, tuple)):
        return [to_py(o) for o in obj]
    return obj


class CharSpan(NamedTuple):
    """Character span ``[start, end)`` in the original string."""

    start: int
    end: int


class TokenSpan(NamedTuple):
    """Token span ``[start, end)`` in the encoded sequence."""

    start: int
    end: int


def _flatten(value: Any) -> list:
    out = []
    for item in value:
        if isinstance(item, (list, tuple)):
            out.extend(_flatten(item))
        else:
            out.append(item)
    return out


def _as_torch(value: Any):
    import torch

    if isinstance(value, list) and value and type(value[0]).__module__ == "numpy":
        import numpy as np

        return torch.from_numpy(np.array(value))
    if len(_flatten(value)) == 0:
        return torch.tensor(value, dtype=torch.int64)
    return torch.tensor(value)


def _as_numpy(value: Any):
    try:
        import numpy as np
    except ImportError:
        raise ImportError("return_tensors='np' needs numpy; install it with `pip install numpy`") from None
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], (list, tuple, np.ndarray)):
        if len({len(v) for v in value}) > 1:  # ragged: an object array of arrays
            return np.asarray([np.asarray(v) for v in value], dtype=object)
    if len(_flatten(value)) == 0:
        return np.asarray(value, dtype=np.int64)
    return np.asarray(value)


class BatchEncoding(UserDict):
    """Output of a tokenizer call: ``input_ids``, ``attention_mask``, ... plus the backend encodings.

    Index with a key (``enc["input_ids"]``), an attribute (``enc.input_ids``) or an int (the
    ``Encoding`` of that batch item).

    >>> enc = tokenizer(["a b", "c"], padding=True, return_tensors="pt")  # doctest: +SKIP
    >>> enc.word_ids(0), enc.char_to_token(0, 2)  # doctest: +SKIP
    ([None, 0, 1, None], 2)
    """

    def __init__(
        self,
        data: dict[str, Any] | None = None,
        encoding: Any = None,
        tensor_type: str | None = None,
        prepend_batch_axis: bool = False,
        n_sequences: int | None = None,
    ) -> None:
        super().__init__(data)
        if encoding is not None and not isinstance(encoding, (list, tuple)):
            encoding = [encoding]
        self._encodings = encoding
        if n_sequences is None and encoding:
            n_sequences = encoding[0].n_sequences
        self._n_sequences = n_sequences
        self.convert_to_tensors(tensor_type=tensor_type, prepend_batch_axis=prepend_batch_axis)

    @property
    def n_sequences(self) -> int | None:
        """1 for single sequences, 2 for pairs, None when unknown."""
        return self._n_sequences

    @property
    def is_fast(self) -> bool:
        return self._encodings is not None

    @property
    def encodings(self) -> list | None:
        """The backend ``Encoding`` of each batch item (None when built from plain lists)."""
        return self._encodings

    def __getitem__(self, item: int | str | slice) -> Any:
        if isinstance(item, str):
            return self.data[item]
        if self._encodings is not None:
            return self._encodings[item]
        if isinstance(item, slice):
            return {key: self.data[key][item] for key in self.data}
        raise KeyError(
            "Invalid key. Only three types of key are available: "
            "(1) string, (2) integers for backend Encoding, and (3) slices for data subsetting."
        )

    def __getattr__(self, item: str) -> Any:
        try:
            return self.data[item]
        except KeyError:
            raise AttributeError(item) from None

    def __getstate__(self) -> dict:
        return {"data": self.data, "encodings": self._encodings}

    def __setstate__(self, state: dict) -> None:
        if "data" in state:
            self.data = state["data"]
        if "encodings" in state:
            self._encodings = state["encodings"]

    def _encoding(self, batch_index: int, method: str) -> Any:
        if not self._encodings:
            raise ValueError(
                f"{method}() needs the tokenizer's encodings; this BatchEncoding was built from lists"
            )
        return self._encodings[batch_index]

    def tokens(self, batch_index: int = 0) -> list[str]:
        """The token strings of batch item ``batch_index``."""
        return self._encoding(batch_index, "tokens").tokens

    def sequence_ids(self, batch_index: int = 0) -> list[int | None]:
        """For each token: 0 or 1 for the sequence it came from, None for added special tokens."""
        return self._encoding(batch_index, "sequence_ids").sequence_ids

    def word_ids(self, batch_index: int = 0) -> list[int | None]:
        """For each token: the index of the word it came from, None for added special tokens."""
        return self._encoding(batch_index, "word_ids").word_ids

    def words(self, batch_index: int = 0) -> list[int | None]:
        """Deprecated alias of :meth:`word_ids`."""
        return self.word_ids(batch_index)

    def _split(self, first: int, second: int | None) -> tuple[int, int]:
        return (first, second) if second is not None else (0, first)

    def _seq_len(self, batch_index: int) -> int:
        return len(self._encodings[batch_index].ids)

    def token_to_sequence(self, batch_or_token_index: int, token_index: int | None = None) -> int | None:
        """The sequence (0 or 1) a token belongs to."""
        b, t = self._split(batch_or_token_index, token_index)
        enc = self._encoding(b, "token_to_sequence")
        return enc.token_to_sequence(t + len(enc.ids) if t < 0 else t)

    def token_to_word(self, batch_or_token_index: int, token_index: int | None = None) -> int | None:
        """The word index a token belongs to."""
        b, t = self._split(batch_or_token_index, token_index)
        enc = self._encoding(b, "token_to_word")
        return enc.token_to_word(t + len(enc.ids) if t < 0 else t)

    def word_to_tokens(
        self, batch_or_word_index: int, word_index: int | None = None, sequence_index: int = 0
    ) -> TokenSpan | None:
        """The token span of a word, or None when no token maps to it."""
        b, w = self._split(batch_or_word_index, word_index)
        enc = self._encoding(b, "word_to_tokens")
        span = enc.word_to_tokens(w + len(enc.ids) if w < 0 else w, sequence_index)
        return TokenSpan(*span) if span is not None else None

    def token_to_chars(self, batch_or_token_index: int, token_index: int | None = None) -> CharSpan | None:
        """The character span of a token in its original string (None for added special tokens)."""
        b, t = self._split(batch_or_token_index, token_index)
        span = self._encoding(b, "token_to_chars").token_to_chars(t)
        return CharSpan(*span) if span is not None else None

    def char_to_token(
        self, batch_or_char_index: int, char_index: int | None = None, sequence_index: int = 0
    ) -> int | None:
        """The index of the token covering character ``char_index`` of sequence ``sequence_index``."""
        b, c = self._split(batch_or_char_index, char_index)
        return self._encoding(b, "char_to_token").char_to_token(c, sequence_index)

    def word_to_chars(
        self, batch_or_word_index: int, word_index: int | None = None, sequence_index: int = 0
    ) -> CharSpan:
        """The character span of a word in its original string."""
        b, w = self._split(batch_or_word_index, word_index)
        span = self._encoding(b, "word_to_chars").word_to_chars(w, sequence_index)
        if span is None:
            raise TypeError("word_to_chars(): no token maps to this word")
        return CharSpan(*span)

    def char_to_word(
        self, batch_or_char_index: int, char_index: int | None = None, sequence_index: int = 0
    ) -> int:
        """The index of the word covering character ``char_index``."""
        b, c = self._split(batch_or_char_index, char_index)
        return self._encoding(b, "char_to_word").char_to_word(c, sequence_index)

    def convert_to_tensors(
        self, tensor_type: str | None = None, prepend_batch_axis: bool = False
    ) -> BatchEncoding:
        """Turn the lists into ``torch`` tensors (``"pt"``) or numpy arrays (``"np"``), in place."""
        if tensor_type is None:
            return self
        kind = parse_enum(TensorType, getattr(tensor_type, "value", tensor_type), "return_tensors")
        as_tensor = _as_torch if kind == TensorType.PYTORCH else _as_numpy
        wanted = ("torch", "Tensor") if kind == TensorType.PYTORCH else ("numpy", "ndarray")
        for key, value in self.items():
            if prepend_batch_axis:
                value = [value]
            if (type(value).__module__.split(".")[0], type(value).__name__) != wanted:
                try:
                    self[key] = as_tensor(value)
                except (ValueError, TypeError) as e:
                    raise ValueError(
                        "Unable to create tensor, you should probably activate truncation and/or padding with "
                        f"'padding=True' 'truncation=True' to have batched tensors with the same length (`{key}` "
                        "has sequences of different lengths or excessive nesting)."
                    ) from e
        return self

    def to(self, device: Any, *, non_blocking: bool = False) -> BatchEncoding:
        """Move every tensor to ``device`` (a str, int or ``torch.device``); returns self."""
        if isinstance(device, (str, int)) or type(device).__name__ == "device":
            self.data = {
                k: v.to(device=device, non_blocking=non_blocking) if callable(getattr(v, "to", None)) else v
                for k, v in self.data.items()
            }
        else:
            log.warning("Attempting to cast a BatchEncoding to type %s. This is not supported.", device)
        return self
