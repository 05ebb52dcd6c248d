"""Test-session settings: one torch thread per xdist worker (tiny models gain nothing from more, and two
workers on two cores would otherwise oversubscribe them)."""

from __future__ import annotations

import os

import pytest


def pytest_configure(config) -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import torch

        torch.set_num_threads(1)


@pytest.fixture(params=["rows", "blas"])
def layout(request, monkeypatch):
    """Each decode-layout policy of ``pretrained.nn.linear``: "rows" (the few-row C kernel's, where it is built)
    and "blas" (without it: MKL's gemv layout)."""
    from pretrained.nn import linear as linear_mod

    if request.param == "rows" and not linear_mod._rows_enabled:
        pytest.skip("pretrained.nn._gemv not built")
    monkeypatch.setattr(linear_mod, "_rows_enabled", request.param == "rows")
    return request.param
