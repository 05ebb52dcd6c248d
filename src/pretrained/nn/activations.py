"""Activation functions by their config names (``hidden_act``), as data.

>>> import torch
>>> ACT2FN["gelu"](torch.zeros(1)).item()
0.0
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F


def gelu_new(x: torch.Tensor) -> torch.Tensor:
    """GPT-2's tanh approximation of GELU."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def gelu_fast(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1.0 + torch.tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x)))


def quick_gelu(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(1.702 * x)


def gelu_10(x: torch.Tensor) -> torch.Tensor:
    """GELU clipped to [-10, 10] (for quantization)."""
    return torch.clip(F.gelu(x), -10, 10)


def laplace(x: torch.Tensor, mu: float = 0.707107, sigma: float = 0.282095) -> torch.Tensor:
    """MEGA's bounded attention activation: the normal CDF of ``(x - mu) / sigma``."""
    return 0.5 * (1.0 + torch.erf((x - mu).div(sigma * math.sqrt(2.0))))


def relu2(x: torch.Tensor) -> torch.Tensor:
    """Squared ReLU (Primer)."""
    return torch.square(F.relu(x))


ACT2FN: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "gelu": F.gelu,
    "gelu_python": F.gelu,
    "gelu_new": gelu_new,
    "gelu_python_tanh": gelu_new,  # the same formula as gelu_new
    "gelu_accurate": gelu_new,  # the same formula as gelu_new
    "gelu_10": gelu_10,
    "laplace": laplace,
    "leaky_relu": F.leaky_relu,  # negative slope 0.01, as nn.LeakyReLU()
    "relu2": relu2,
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_fast": gelu_fast,
    "quick_gelu": quick_gelu,
    "relu": F.relu,
    "relu6": F.relu6,
    "silu": F.silu,
    "swish": F.silu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "mish": F.mish,
    "linear": lambda x: x,
}


def get_activation(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """The activation called ``name`` in a config, with an error listing the known ones."""
    try:
        return ACT2FN[name]
    except KeyError:
        raise ValueError(
            f"hidden_act={name!r} is not supported; known activations: {sorted(ACT2FN)}"
        ) from None
