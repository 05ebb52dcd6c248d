"""``GenerationMixin`` for the causal-LM classes, from ``pretrained.generation`` once that package provides it."""

from __future__ import annotations

try:
    from ..generation import GenerationMixin
except ImportError:  # generation not built yet: the models still run forward passes

    class GenerationMixin:  # type: ignore[no-redef]
        """Placeholder until ``pretrained.generation.GenerationMixin`` exists."""


__all__ = ["GenerationMixin"]
