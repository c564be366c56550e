"""Torch modules of the pooling layers."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from graphdl.catalog._window import same_padding


class Padded(nn.Module):
    """Pads with a constant, then applies a pooling module: for padding torch's pooling modules
    cannot express (uneven, or wider than half the window). With `pad` None and `same` given as
    (window, stride), the padding is MATLAB's "same" of the last dimension, worked out per call: a
    sequence of any length at a stride above 1."""

    def __init__(self, pad: tuple[int, ...] | None, value: float, pool: nn.Module, same: tuple[int, int] | None = None):
        super().__init__()
        self.pad = pad
        self.value = value
        self.pool = pool
        self.same = same

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad = self.pad if self.pad is not None else same_padding(x.shape[-1], *self.same)
        return self.pool(F.pad(x, pad, value=self.value))


class GlobalPoolTime(nn.Module):
    """Global pooling over the time of a sequence of features, which MATLAB removes: (batch,
    channels, time) to (batch, channels)."""

    def __init__(self, reduce: str):
        super().__init__()
        self.reduce = reduce

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=-1) if self.reduce == "mean" else x.amax(dim=-1)

    def extra_repr(self) -> str:
        return self.reduce
