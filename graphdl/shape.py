"""The static size of one observation flowing between layers.

Sizes are kept as MATLAB writes them, spatial dimensions first and channels after
(`28x28x20` is height 28, width 28, 20 channels), with a format string of MATLAB's dimension
labels (`"SSC"`). The batch dimension is symbolic: it is never stored, and every shape stands for
any batch size. At run time a tensor is PyTorch's (batch, channels, *spatial).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Shape:
    sizes: tuple[int, ...]
    format: str  # one label per size: S spatial, C channel

    def __post_init__(self) -> None:
        if len(self.sizes) != len(self.format):
            raise ValueError(f"shape {self.sizes} does not match format {self.format!r}")

    @classmethod
    def image(cls, *spatial_then_channels: int) -> Shape:
        """`Shape.image(28, 28, 1)`: spatial sizes, then channels."""
        return cls(tuple(spatial_then_channels), "S" * (len(spatial_then_channels) - 1) + "C")

    @classmethod
    def features(cls, channels: int) -> Shape:
        return cls((channels,), "C")

    @property
    def channels(self) -> int:
        return self.sizes[self.format.index("C")]

    @property
    def spatial(self) -> tuple[int, ...]:
        return tuple(size for size, label in zip(self.sizes, self.format) if label == "S")

    @property
    def numel(self) -> int:
        return math.prod(self.sizes)

    def torch_size(self, batch: int) -> tuple[int, ...]:
        """The run-time tensor size for a batch: (batch, channels, *spatial)."""
        return (batch, self.channels, *self.spatial)

    def torch_dim(self, dim: int) -> int:
        """The run-time tensor dimension of MATLAB's 1-based dimension `dim` of this shape."""
        label = self.format[dim - 1]
        if label == "C":
            return 1
        return 2 + self.format[: dim - 1].count("S")

    def __str__(self) -> str:
        return "x".join(str(size) for size in self.sizes)
