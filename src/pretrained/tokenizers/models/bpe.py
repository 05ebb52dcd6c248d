"""Placeholder until the model lands."""

from __future__ import annotations

from .base import Model


class BPE(Model):
    @classmethod
    def from_dict(cls, data):  # noqa: ANN001, ANN206
        raise NotImplementedError("this model type is not implemented yet")
