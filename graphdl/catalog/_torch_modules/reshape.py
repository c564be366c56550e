"""Torch modules of the layers that change an observation's layout or size."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Reshape(nn.Module):
    def __init__(self, size: tuple[int, ...]):
        super().__init__()
        self.size = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.size)

    def extra_repr(self) -> str:
        return f"size={self.size}"


class Permute(nn.Module):
    def __init__(self, dims: tuple[int, ...]):
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(self.dims)

    def extra_repr(self) -> str:
        return f"dims={self.dims}"


class Resize(nn.Module):
    def __init__(self, size: tuple[int, int], mode: str):
        super().__init__()
        self.size = size
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, size=self.size, mode=self.mode, align_corners=False if self.mode == "bilinear" else None)

    def extra_repr(self) -> str:
        return f"size={self.size}, mode={self.mode!r}"


class Crop(nn.Module):
    """Crops `in` at (top, left) to the height and width of `ref` (whose values are not used)."""

    def __init__(self, offsets: tuple[int, int], size: tuple[int, int]):
        super().__init__()
        self.offsets = offsets
        self.size = size

    def forward(self, x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
        (top, left), (height, width) = self.offsets, self.size
        return x[..., top : top + height, left : left + width]
