"""Streamers: ``generate(..., streamer=s)`` hands them the prompt, then each new token, then ``end()``.

Text is released at word boundaries (up to the last space; whole line at a newline; at once after a CJK
character), the reference's buffering, so a word is never shown half-decoded.

>>> from threading import Thread
>>> streamer = TextIteratorStreamer(tokenizer, skip_prompt=True)  # doctest: +SKIP
>>> Thread(target=model.generate, kwargs={"input_ids": ids, "streamer": streamer}).start()  # doctest: +SKIP
>>> for text in streamer:  # doctest: +SKIP
...     print(text, end="")
"""

from __future__ import annotations

import sys
from queue import Queue
from typing import Any

import torch

# CJK Unified Ideographs blocks (the reference's definition of a "chinese character")
_CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


class BaseStreamer:
    """What ``generate`` calls: ``put(token_ids)`` for the prompt and each step, ``end()`` once at the end."""

    def put(self, value: torch.Tensor) -> None:
        raise NotImplementedError

    def end(self) -> None:
        raise NotImplementedError


class TextStreamer(BaseStreamer):
    """Decodes tokens as they come and writes finished words to stdout (batch size 1).

    ``decode_kwargs`` go to ``tokenizer.decode`` (e.g. ``skip_special_tokens=True``).

    >>> streamer = TextStreamer(tokenizer, skip_prompt=True)  # doctest: +SKIP
    >>> _ = model.generate(input_ids=ids, streamer=streamer, max_new_tokens=20)  # doctest: +SKIP
    """

    def __init__(self, tokenizer: Any, skip_prompt: bool = False, **decode_kwargs: Any) -> None:
        self.tokenizer = tokenizer
        self.skip_prompt = skip_prompt
        self.decode_kwargs = decode_kwargs
        self.token_cache: list[int] = []
        self.print_len = 0
        self.next_tokens_are_prompt = True

    def put(self, value: torch.Tensor) -> None:
        if value.dim() > 1 and value.shape[0] > 1:
            raise ValueError(f"{type(self).__name__} supports batch size 1 only, got {value.shape[0]} rows")
        if value.dim() > 1:
            value = value[0]
        if self.skip_prompt and self.next_tokens_are_prompt:
            self.next_tokens_are_prompt = False
            return
        self.token_cache.extend(value.tolist())
        text = self.tokenizer.decode(self.token_cache, **self.decode_kwargs)
        if text.endswith("\n"):  # a finished line: release it and start afresh
            printable = text[self.print_len :]
            self.token_cache, self.print_len = [], 0
        elif text and _is_cjk(text[-1]):
            printable = text[self.print_len :]
            self.print_len += len(printable)
        else:  # release up to the last space: the last word may still change
            printable = text[self.print_len : text.rfind(" ") + 1]
            self.print_len += len(printable)
        self.on_finalized_text(printable)

    def end(self) -> None:
        printable = ""
        if self.token_cache:
            printable = self.tokenizer.decode(self.token_cache, **self.decode_kwargs)[self.print_len :]
        self.token_cache, self.print_len = [], 0
        self.next_tokens_are_prompt = True
        self.on_finalized_text(printable, stream_end=True)

    def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
        """Where released text goes; stdout here, overridden by subclasses."""
        sys.stdout.write(text if not stream_end else text + "\n")
        sys.stdout.flush()


class _GenerationFailed:
    """Queue marker: the producer raised ``error``."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


class TextIteratorStreamer(TextStreamer):
    """A ``TextStreamer`` you iterate over from another thread; ``timeout`` (seconds) bounds each wait.

    If ``generate`` fails in its thread, iteration raises ``RuntimeError`` instead of waiting forever.

    >>> streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, timeout=30)  # doctest: +SKIP
    >>> "".join(streamer)  # doctest: +SKIP
    """

    def __init__(
        self, tokenizer: Any, skip_prompt: bool = False, timeout: float | None = None, **decode_kwargs: Any
    ) -> None:
        super().__init__(tokenizer, skip_prompt, **decode_kwargs)
        self.text_queue: Queue = Queue()
        self.stop_signal = None
        self.timeout = timeout

    def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
        self.text_queue.put(text, timeout=self.timeout)
        if stream_end:
            self.text_queue.put(self.stop_signal, timeout=self.timeout)

    def on_error(self, error: BaseException) -> None:
        """Called by ``generate`` when it fails: the consumer's next read raises."""
        self.text_queue.put(_GenerationFailed(error), timeout=self.timeout)

    def __iter__(self) -> TextIteratorStreamer:
        return self

    def __next__(self) -> str:
        value = self.text_queue.get(timeout=self.timeout)  # queue.Empty after `timeout` seconds
        if isinstance(value, _GenerationFailed):
            raise RuntimeError(f"generation failed: {value.error!r}") from value.error
        if value == self.stop_signal:
            raise StopIteration
        return value
