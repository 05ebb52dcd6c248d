"""Padding and truncation: resolving ``padding=``/``truncation=``/``max_length=`` and ``tokenizer.pad``.

The argument rules, warnings and errors are those of transformers' ``PreTrainedTokenizerBase``.

>>> tok(["a", "b c d"], padding="max_length", truncation=True, max_length=4)  # doctest: +SKIP
>>> tok.pad([{"input_ids": [1, 2]}, {"input_ids": [3]}], return_tensors="pt")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from typing import Any

from .batch_encoding import BatchEncoding, PaddingStrategy, TruncationStrategy, parse_enum, to_py

log = logging.getLogger(__name__)

LARGE_INTEGER = int(1e20)  # a model_max_length above this means "no limit"


class PaddingMixin:
    """``pad``/``_pad`` and the padding/truncation argument resolution of :class:`PreTrainedTokenizer`."""

    model_input_names: list[str]
    model_max_length: int
    padding_side: str
    truncation_side: str
    deprecation_warnings: dict[str, bool]
    _tokenizer: Any

    def _strategies(
        self,
        padding: Any = False,
        truncation: Any = None,
        max_length: int | None = None,
        pad_to_multiple_of: int | None = None,
        verbose: bool = True,
    ) -> tuple[PaddingStrategy, TruncationStrategy, int | None]:
        """Resolve ``padding``/``truncation``/``max_length`` exactly as transformers does."""
        for name, value in (("max_length", max_length), ("pad_to_multiple_of", pad_to_multiple_of)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise ValueError(f"{name} must be a non-negative int or None, got {value!r}")
        if max_length is not None and padding is False and truncation is None:
            if verbose and not self.deprecation_warnings.get("Truncation-not-explicitly-activated"):
                log.warning(
                    "Truncation was not explicitly activated but `max_length` is provided a specific value, please "
                    "use `truncation=True` to explicitly truncate examples to max length. Defaulting to "
                    "'longest_first' truncation strategy."
                )
                self.deprecation_warnings["Truncation-not-explicitly-activated"] = True
            truncation = "longest_first"
        if padding is False or padding is None:
            pad = PaddingStrategy.DO_NOT_PAD
        elif padding is True:
            pad = PaddingStrategy.LONGEST
        else:
            pad = parse_enum(PaddingStrategy, getattr(padding, "value", padding), "padding")
        if truncation is False or truncation is None:
            trunc = TruncationStrategy.DO_NOT_TRUNCATE
        elif truncation is True:
            trunc = TruncationStrategy.LONGEST_FIRST
        else:
            trunc = parse_enum(TruncationStrategy, getattr(truncation, "value", truncation), "truncation")
        if max_length is None:
            if pad == PaddingStrategy.MAX_LENGTH:
                if self.model_max_length > LARGE_INTEGER:
                    self._warn_once(
                        "Asking-to-pad-to-max_length",
                        "Asking to pad to max_length but no maximum length is provided and the model has no "
                        "predefined maximum length. Default to no padding. Pass max_length=N.",
                        verbose,
                    )
                    pad = PaddingStrategy.DO_NOT_PAD
                else:
                    max_length = self.model_max_length
            if trunc != TruncationStrategy.DO_NOT_TRUNCATE:
                if self.model_max_length > LARGE_INTEGER:
                    self._warn_once(
                        "Asking-to-truncate-to-max_length",
                        "Asking to truncate to max_length but no maximum length is provided and the model has no "
                        "predefined maximum length. Default to no truncation. Pass max_length=N.",
                        verbose,
                    )
                    trunc = TruncationStrategy.DO_NOT_TRUNCATE
                else:
                    max_length = self.model_max_length
        if pad != PaddingStrategy.DO_NOT_PAD and (self.pad_token is None or self.pad_token_id < 0):
            raise ValueError(
                "Asking to pad but the tokenizer does not have a padding token. Please select a token to use as "
                "`pad_token` `(tokenizer.pad_token = tokenizer.eos_token e.g.)` or add a new pad token via "
                "`tokenizer.add_special_tokens({'pad_token': '[PAD]'})`."
            )
        if (
            trunc != TruncationStrategy.DO_NOT_TRUNCATE
            and pad != PaddingStrategy.DO_NOT_PAD
            and pad_to_multiple_of is not None
            and max_length is not None
            and max_length % pad_to_multiple_of != 0
        ):
            raise ValueError(
                "Truncation and padding are both activated but "
                f"truncation length ({max_length}) is not a multiple of pad_to_multiple_of ({pad_to_multiple_of})."
            )
        return pad, trunc, max_length

    def _warn_once(self, key: str, message: str, verbose: bool) -> None:
        if verbose and not self.deprecation_warnings.get(key):
            log.warning(message)
        self.deprecation_warnings[key] = True

    def _set_truncation_and_padding(
        self,
        pad: PaddingStrategy,
        trunc: TruncationStrategy,
        max_length: int | None,
        stride: int,
        pad_to_multiple_of: int | None,
        padding_side: str | None,
    ) -> None:
        """Configure the engine for this call (the engine keeps the last settings, as in transformers)."""
        backend = self._tokenizer
        if trunc == TruncationStrategy.DO_NOT_TRUNCATE:
            if backend.truncation is not None:
                backend.no_truncation()
        else:
            target = {
                "max_length": max_length,
                "stride": stride,
                "strategy": trunc.value,
                "direction": self.truncation_side,
            }
            current = backend.truncation
            if current is None or {k: current.get(k) for k in target} != target:
                backend.enable_truncation(**target)
        if pad == PaddingStrategy.DO_NOT_PAD:
            if backend.padding is not None:
                backend.no_padding()
        else:
            target = {
                "length": max_length if pad == PaddingStrategy.MAX_LENGTH else None,
                "direction": padding_side if padding_side is not None else self.padding_side,
                "pad_id": self.pad_token_id,
                "pad_token": self.pad_token,
                "pad_type_id": self.pad_token_type_id,
                "pad_to_multiple_of": pad_to_multiple_of,
            }
            if backend.padding != target:
                backend.enable_padding(**target)

    def pad(
        self,
        encoded_inputs: Any,
        padding: bool | str = True,
        max_length: int | None = None,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_attention_mask: bool | None = None,
        return_tensors: str | None = None,
        verbose: bool = True,
    ) -> BatchEncoding:
        """Pad one encoded input or a batch (a dict of lists, or a list of dicts as in a DataLoader collate_fn).

        >>> tok.pad([{"input_ids": [1, 2]}, {"input_ids": [3]}], return_tensors="pt")  # doctest: +SKIP
        """
        if (
            isinstance(encoded_inputs, (list, tuple))
            and encoded_inputs
            and isinstance(encoded_inputs[0], dict | BatchEncoding)
        ):
            encoded_inputs = {key: [example[key] for example in encoded_inputs] for key in encoded_inputs[0]}
        main = self.model_input_names[0]
        if not hasattr(encoded_inputs, "keys") or main not in encoded_inputs:
            found = (
                list(encoded_inputs.keys())
                if hasattr(encoded_inputs, "keys")
                else type(encoded_inputs).__name__
            )
            raise ValueError(
                f"You should supply an encoding or a list of encodings to this method that includes {main}, "
                f"but you provided {found}"
            )
        required = encoded_inputs[main]
        if required is None or (hasattr(required, "__len__") and len(required) == 0):
            if return_attention_mask:
                encoded_inputs["attention_mask"] = []
            return encoded_inputs
        first = required[0]
        if isinstance(first, (list, tuple)):
            first = next((item[0] for item in required if len(item)), first)
        if not isinstance(first, (int, list, tuple)):
            module = type(first).__module__.split(".")[0]
            if module not in ("torch", "numpy"):
                raise ValueError(
                    f"type of {first} unknown: {type(first)}. Should be a python, numpy or torch object."
                )
            if return_tensors is None:
                return_tensors = "pt" if module == "torch" else "np"
            encoded_inputs = {k: to_py(v) for k, v in encoded_inputs.items()}
        pad, _, max_length = self._strategies(padding=padding, max_length=max_length, verbose=verbose)
        required = encoded_inputs[main]
        options = dict(
            pad_to_multiple_of=pad_to_multiple_of,
            padding_side=padding_side,
            return_attention_mask=return_attention_mask,
        )
        if required and not isinstance(required[0], (list, tuple)):
            out = self._pad(dict(encoded_inputs), max_length=max_length, padding_strategy=pad, **options)
            return BatchEncoding(out, tensor_type=return_tensors)
        batch_size = len(required)
        for key, value in encoded_inputs.items():
            if len(value) != batch_size:
                raise ValueError(f"pad(): `{key}` has {len(value)} items but `{main}` has {batch_size}")
        if pad == PaddingStrategy.LONGEST:
            max_length = max(len(inputs) for inputs in required)
            pad = PaddingStrategy.MAX_LENGTH
        batch: dict[str, list] = {}
        for i in range(batch_size):
            inputs = {k: v[i] for k, v in encoded_inputs.items()}
            for key, value in self._pad(
                inputs, max_length=max_length, padding_strategy=pad, **options
            ).items():
                batch.setdefault(key, []).append(value)
        return BatchEncoding(batch, tensor_type=return_tensors)

    def _pad(
        self,
        encoded_inputs: dict,
        max_length: int | None = None,
        padding_strategy: PaddingStrategy = PaddingStrategy.DO_NOT_PAD,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_attention_mask: bool | None = None,
    ) -> dict:
        """Pad one example (a dict of lists) to ``max_length``."""
        if return_attention_mask is None:
            return_attention_mask = "attention_mask" in self.model_input_names
        main = self.model_input_names[0]
        required = encoded_inputs[main]
        if padding_strategy == PaddingStrategy.LONGEST:
            max_length = len(required)
        if max_length is not None and pad_to_multiple_of is not None and max_length % pad_to_multiple_of != 0:
            max_length = (max_length // pad_to_multiple_of + 1) * pad_to_multiple_of
        needs_padding = padding_strategy != PaddingStrategy.DO_NOT_PAD and len(required) != max_length
        if return_attention_mask and "attention_mask" not in encoded_inputs:
            encoded_inputs["attention_mask"] = [1] * len(required)
        if not needs_padding:
            return encoded_inputs
        n = max_length - len(required)
        side = padding_side if padding_side is not None else self.padding_side
        if side not in ("left", "right"):
            raise ValueError(f"padding_side should be 'right' or 'left', got {side!r}")
        fill = {"attention_mask": 0, "token_type_ids": self.pad_token_type_id, "special_tokens_mask": 1}
        if not return_attention_mask:
            fill.pop("attention_mask")
        for key, value in fill.items():
            if key in encoded_inputs:
                pad = [value] * n
                encoded_inputs[key] = (
                    encoded_inputs[key] + pad if side == "right" else pad + encoded_inputs[key]
                )
        pad = [self.pad_token_id] * n
        encoded_inputs[main] = required + pad if side == "right" else pad + required
        return encoded_inputs
