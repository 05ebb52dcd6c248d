"""Test-session settings: one torch thread per xdist worker (tiny models gain nothing from more, and two
workers on two cores would otherwise oversubscribe them)."""

from __future__ import annotations

import os


def pytest_configure(config) -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import torch

        torch.set_num_threads(1)
