"""Feed-forward blocks shared by the decoder families.

>>> import torch
>>> GatedMLP(hidden_size=8, intermediate_size=16, act="silu")(torch.zeros(1, 2, 8)).shape
torch.Size([1, 2, 8])
"""

from __future__ import annotations

import torch
from torch import nn

from .activations import get_activation
from .linear import Linear, fused_weight, linear


class GatedMLP(nn.Module):
    """``down_proj(act(gate_proj(x)) * up_proj(x))`` — the Llama / Mistral / Qwen2 MLP (SwiGLU with silu).

    >>> GatedMLP(hidden_size=4, intermediate_size=6, act="silu", bias=True).up_proj.bias.shape
    torch.Size([6])
    """

    def __init__(self, *, hidden_size: int, intermediate_size: int, act: str, bias: bool = False) -> None:
        super().__init__()
        self.gate_proj = Linear(hidden_size, intermediate_size, bias=bias)
        self.up_proj = Linear(hidden_size, intermediate_size, bias=bias)
        self.down_proj = Linear(intermediate_size, hidden_size, bias=bias)
        self.act_fn = get_activation(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fused = fused_weight([self.gate_proj, self.up_proj])
        if fused is not None:  # gate and up in one matmul (see pretrained.nn.linear.fuse_weights)
            gate, up = linear(x, *fused).chunk(2, dim=-1)  # (B, T, intermediate) each
            return self.down_proj(self.act_fn(gate) * up)  # (B, T, C)
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))  # (B, T, C)
