"""The static size of one observation flowing between layers.

Sizes are kept as MATLAB writes them, in MATLAB's order of dimensions: spatial first, then
channels, then time (`28x28x20` is height 28, width 28, 20 channels), with a format string of
MATLAB's labels (`"SSC"`, `"CT"`). The batch dimension is symbolic: it is never stored, and every
shape stands for any batch size. A sequence's length may be symbolic too (None): any length.

At run time a tensor is PyTorch's: (batch, channels, *spatial, time).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_FORMAT = re.compile(r"S*CT?")


@dataclass(frozen=True)
class Shape:
    sizes: tuple[int | None, ...]
    format: str  # one label per size: S spatial, C channel, T time

    def __post_init__(self) -> None:
        if len(self.sizes) != len(self.format) or not _FORMAT.fullmatch(self.format):
            # A plain ValueError: a shape rule of graphdl's (or a plugin's) broke its contract; no
            # user's network or argument makes one.
            raise ValueError(f"shape {self.sizes} does not match format {self.format!r}")

    @classmethod
    def image(cls, *spatial_then_channels: int) -> Shape:
        """`Shape.image(28, 28, 1)`: spatial sizes, then channels."""
        return cls(tuple(spatial_then_channels), "S" * (len(spatial_then_channels) - 1) + "C")

    @classmethod
    def features(cls, channels: int) -> Shape:
        return cls((channels,), "C")

    @classmethod
    def sequence(cls, channels: int, length: int | None = None, spatial: tuple[int, ...] = ()) -> Shape:
        """A sequence of `length` steps (None: any length), each of `channels` features, or of
        images of `spatial` sizes."""
        return cls((*spatial, channels, length), "S" * len(spatial) + "CT")

    @property
    def channels(self) -> int:
        return self.sizes[self.format.index("C")]

    @property
    def spatial(self) -> tuple[int, ...]:
        return tuple(size for size, label in zip(self.sizes, self.format) if label == "S")

    @property
    def is_sequence(self) -> bool:
        return self.format.endswith("T")

    @property
    def length(self) -> int | None:
        """A sequence's number of steps: None for any."""
        return self.sizes[-1] if self.is_sequence else None

    @property
    def step(self) -> Shape:
        """One step of a sequence (the shape itself, for no sequence)."""
        return Shape(self.sizes[:-1], self.format[:-1]) if self.is_sequence else self

    @property
    def numel(self) -> int:
        """Elements of one observation; of one step, for a sequence of any length."""
        return math.prod(1 if size is None else size for size in self.sizes)

    def with_channels(self, channels: int) -> Shape:
        return Shape(tuple(channels if label == "C" else size for size, label in zip(self.sizes, self.format)), self.format)

    def torch_size(self, batch: int, length: int | None = None) -> tuple[int, ...]:
        """The run-time tensor size for a batch: (batch, channels, *spatial[, time]); a sequence of
        any length takes `length` steps (1 if not given)."""
        size = (batch, self.channels, *self.spatial)
        if self.is_sequence:
            steps = self.length if self.length is not None else (length or 1)
            size += (steps,)
        return size

    def index(self, dim: int) -> int:
        """The position in `sizes` of MATLAB's 1-based dimension `dim` (which counts the batch,
        after the channels): ValueError for the batch or a dimension the shape lacks."""
        spatial = self.format.count("S")
        if dim <= spatial:
            return dim - 1
        if dim == spatial + 1:
            return spatial
        if dim == spatial + 3 and self.is_sequence:
            return spatial + 1
        # Plain: the shape rule that asks turns it into its layer's diagnostic (E207).
        raise ValueError(f"{self} has no dimension {dim} to work along" + (" (it is the batch)" if dim == spatial + 2 else ""))

    def torch_dim(self, dim: int) -> int:
        """The run-time tensor dimension of MATLAB's 1-based dimension `dim`: spatial ones first,
        then channels, batch and time, as MATLAB numbers the dimensions of a dlarray."""
        spatial = self.format.count("S")
        if dim <= spatial:
            return 2 + dim - 1
        if dim == spatial + 1:
            return 1
        if dim == spatial + 2:
            return 0
        if dim == spatial + 3 and self.is_sequence:
            return 2 + spatial
        raise ValueError(f"{self} has no dimension {dim}")

    def torch_text(self) -> str:
        """The run-time size as text, `(N, 20, 14, 14)`; a sequence of any length ends in `T`."""
        sizes = ("N", *map(str, self.torch_size(1)[1:]))
        if self.is_sequence and self.length is None:
            sizes = (*sizes[:-1], "T")
        return f"({', '.join(sizes)})"

    def __str__(self) -> str:
        if not self.is_sequence:
            return "x".join(str(size) for size in self.sizes)
        # Labels help where time is a dimension: 12(C)xT, 28(S)x28(S)x3(C)x50(T)
        parts = [f"{size}({label})" for size, label in zip(self.sizes[:-1], self.format)]
        parts.append("T" if self.length is None else f"{self.length}(T)")
        return "x".join(parts)
