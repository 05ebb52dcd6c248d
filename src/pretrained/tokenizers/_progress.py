"""A one-line progress display on stderr for long training runs (stdlib only, drawn only on a terminal).

>>> bar = Progress("Count pairs", total=3, enabled=False)
>>> bar.update(3)
>>> bar.close()
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

_REDRAW_S = 0.1  # at most ten redraws a second
_BAR_WIDTH = 30


class Progress:
    """``[elapsed] message  ######-----  pos/total`` redrawn in place; a no-op unless stderr is a TTY.

    >>> with Progress("EM training", total=4, enabled=False) as bar:
    ...     bar.update()
    """

    def __init__(self, message: str, total: int | None = None, enabled: bool = True,
                 stream: TextIO | None = None) -> None:  # fmt: skip
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and _is_tty(self.stream)
        self.message, self.total, self.pos = message, total, 0
        self.start = self.last = time.monotonic()
        self._drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        self.pos += n
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last >= _REDRAW_S or not self._drawn:
            self.last = now
            self._draw(now)

    def close(self) -> None:
        if self.enabled and self._drawn:
            if self.total is not None:
                self.pos = max(self.pos, self.total)
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False

    def _draw(self, now: float) -> None:
        s = int(now - self.start)
        line = f"\r[{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}] {self.message:<26.26}"
        if self.total:
            done = min(_BAR_WIDTH, _BAR_WIDTH * self.pos // self.total)
            line += f" {'#' * done}{'-' * (_BAR_WIDTH - done)} {self.pos:>9}/{self.total:<9}"
        else:
            line += f" {self.pos:>9}"
        self.stream.write(line)
        self.stream.flush()
        self._drawn = True


def _is_tty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or replaced streams
        return False
