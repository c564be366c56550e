"""Torch modules of the pooling layers."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from graphdl.catalog._window import adaptive_windows, same_padding


class Padded(nn.Module):
    """Pads with a constant, then applies a pooling module: for padding torch's pooling modules
    cannot express (uneven, or wider than half the window). With `pad` None and `same` given as
    (window, stride), the padding is MATLAB's "same" of the last dimension, worked out per call: a
    sequence of any length at a stride above 1. With `keep`, the output's spatial sizes: a pool
    rounding up counts a last window that starts in the padding after the input, which a pool
    with the padding of its own does not (torch's ceil_mode), and `keep` drops it."""

    def __init__(
        self, pad: tuple[int, ...] | None, value: float, pool: nn.Module, same: tuple[int, int] | None = None, keep: tuple[int, ...] | None = None
    ):
        super().__init__()
        self.pad = pad
        self.value = value
        self.pool = pool
        self.same = same
        self.keep = keep

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad = self.pad if self.pad is not None else same_padding(x.shape[-1], *self.same)
        y = self.pool(F.pad(x, pad, value=self.value))
        if self.keep is not None:
            y = y[(..., *(slice(0, n) for n in self.keep))]
        return y


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


class AdaptiveMaxPool2d(nn.Module):
    """torch's AdaptiveMaxPool2d for an input of `input_size`, a maximum over the rows of each
    window and then over its columns: the same windows and maxima, in operations that export to
    ONNX, whose exporter has no adaptive max pooling. The maximum is taken with `max`, not `amax`,
    so that a tie's gradient goes to one element, as torch's pooling gives it."""

    def __init__(self, output_size: tuple[int, int], input_size: tuple[int, int]):
        super().__init__()
        self.output_size = tuple(output_size)
        self.input_size = tuple(input_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        (rows, cols), (height, width) = self.output_size, self.input_size
        x = torch.stack([x[:, :, start:end].max(dim=2)[0] for start, end in adaptive_windows(height, rows)], dim=2)
        return torch.stack([x[..., start:end].max(dim=3)[0] for start, end in adaptive_windows(width, cols)], dim=3)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}, input_size={self.input_size}"
