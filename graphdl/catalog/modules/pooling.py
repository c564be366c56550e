"""Torch modules of the pooling layers."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Padded(nn.Module):
    """Pads with a constant, then applies a pooling module: for padding torch's pooling modules
    cannot express (uneven, or wider than half the window)."""

    def __init__(self, pad: tuple[int, ...], value: float, pool: nn.Module):
        super().__init__()
        self.pad = pad
        self.value = value
        self.pool = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(F.pad(x, self.pad, value=self.value))
