"""Absolute position embeddings of the encoder-decoder models: sinusoidal tables (Marian) and length checks.

The sinusoidal table is computed, never stored in a checkpoint: ``SinusoidalPositions`` builds it lazily per
(device, dtype) in a plain attribute, so it works under the meta-device loading of ``PreTrainedModel``.

>>> import torch
>>> pos = SinusoidalPositions(num_positions=16, dim=4)
>>> pos(torch.arange(3)).shape
torch.Size([3, 4])
>>> sinusoidal_table(2, 4)[1, :2]  # sin of position 1 at the two frequencies
tensor([0.8415, 0.0100])
"""

from __future__ import annotations

import torch
from torch import nn


def sinusoidal_table(
    num_positions: int, dim: int, dtype: torch.dtype = torch.float32, device=None
) -> torch.Tensor:
    """(num_positions, dim) table: sin features in the first half, cos in the second (not interleaved).

    Position p, feature j uses the angle p / 10000 ** (2 * (j // 2) / dim), computed in float64 as the reference
    (numpy) does, then cast to float32 and ``dtype``.
    """
    pos = torch.arange(num_positions, dtype=torch.float64, device=device)[:, None]  # (P, 1)
    j = torch.arange(dim, dtype=torch.float64, device=device)
    angle = pos / torch.pow(10000.0, 2 * torch.div(j, 2, rounding_mode="floor") / dim)  # (P, dim)
    half = (dim + 1) // 2  # odd dims give the extra feature to the sin half
    table = torch.empty(num_positions, dim, dtype=torch.float64, device=device)
    table[:, :half] = torch.sin(angle[:, 0::2])
    table[:, half:] = torch.cos(angle[:, 1::2])
    return table.to(torch.float32).to(dtype)  # through float32, as the reference's table


class SinusoidalPositions(nn.Module):
    """Fixed sinusoidal position embeddings for positions < ``num_positions``; no parameters.

    ``forward(position_ids)`` returns ``table[position_ids]``; a position past the table raises a ``ValueError``
    naming both numbers.
    """

    def __init__(self, *, num_positions: int, dim: int) -> None:
        super().__init__()
        self.num_positions = num_positions
        self.dim = dim
        self._tables: dict[tuple[torch.device, torch.dtype], torch.Tensor] = {}

    def table(self, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
        key = (torch.device(device), dtype)
        if key not in self._tables:
            self._tables[key] = sinusoidal_table(self.num_positions, self.dim, dtype, device)
        return self._tables[key]

    def forward(self, position_ids: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        check_positions(position_ids, self.num_positions)
        return self.table(position_ids.device, dtype)[position_ids]  # (*position_ids.shape, dim)

    def extra_repr(self) -> str:
        return f"num_positions={self.num_positions}, dim={self.dim}"


def check_positions(position_ids: torch.Tensor, limit: int) -> None:
    """Raise a clear error when a position id reaches ``limit`` (the model's max_position_embeddings)."""
    if position_ids.numel() and int(position_ids.max()) >= limit:
        length = int(position_ids.max()) + 1
        raise ValueError(
            f"sequence length {length} > max_position_embeddings {limit}: truncate the input "
            f"(tokenizer(..., truncation=True, max_length={limit})) or generate fewer tokens"
        )
