"""The torch modules that built-in layer kinds build where torch has no ready one.

Only `build` methods import this file, so the front end (check, render, summary) never loads
torch. Each module keeps torch's parameter names (`weight`, `bias`), so a compiled network's
`state_dict` reads like a hand-written one.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class InputNormalization(nn.Module):
    """MATLAB's input-layer normalisation. Statistics are per element of one observation (the
    mean image for "zerocenter"), held as buffers so that they travel with the weights; they start
    as the identity and `fit` computes them from training data."""

    def __init__(self, mode: str, size: tuple[int, ...]):
        super().__init__()
        self.mode = mode
        if mode in ("zerocenter", "zscore"):
            self.register_buffer("mean", torch.zeros(size))
        if mode == "zscore":
            self.register_buffer("std", torch.ones(size))
        if mode.startswith("rescale"):
            self.register_buffer("min", torch.zeros(size))
            self.register_buffer("max", torch.ones(size))

    @torch.no_grad()
    def fit(self, data: torch.Tensor) -> None:
        """Set the statistics from a batch of training observations (batch first)."""
        data = data.to(dtype=torch.float32)
        if self.mode in ("zerocenter", "zscore"):
            self.mean.copy_(data.mean(0))
        if self.mode == "zscore":
            self.std.copy_(data.std(0, unbiased=False))
        if self.mode.startswith("rescale"):
            self.min.copy_(data.amin(0))
            self.max.copy_(data.amax(0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "zerocenter":
            return x - self.mean
        if self.mode == "zscore":
            return (x - self.mean) / self.std.clamp_min(1e-8)
        unit = (x - self.min) / (self.max - self.min).clamp_min(1e-8)
        return unit if self.mode == "rescale-zero-one" else 2 * unit - 1

    def extra_repr(self) -> str:
        return self.mode


class PaddedConv2d(nn.Conv2d):
    """A 2-D convolution with padding that differs before and after (MATLAB's "same" with an even
    filter, or [t b l r]), which nn.Conv2d cannot express."""

    def __init__(self, *args, pad: tuple[int, ...], **kwargs):
        super().__init__(*args, **kwargs)
        self.pad = pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, self.pad))


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


class FlattenLinear(nn.Linear):
    """A fully connected layer fed an image: flattens each observation first, as MATLAB's
    fullyConnectedLayer does."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(torch.flatten(x, 1))


class Addition(nn.Module):
    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        total = inputs[0]
        for x in inputs[1:]:
            total = total + x
        return total


class Concatenation(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return torch.cat(inputs, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


def initialize(tensor: torch.Tensor, method: str, fan_in: int, fan_out: int) -> None:
    """MATLAB's initialisers, in place."""
    with torch.no_grad():
        if method == "glorot":
            bound = (6.0 / (fan_in + fan_out)) ** 0.5
            tensor.uniform_(-bound, bound)
        elif method == "he":
            tensor.normal_(0.0, (2.0 / fan_in) ** 0.5)
        elif method == "narrow-normal":
            tensor.normal_(0.0, 0.01)
        elif method == "zeros":
            tensor.zero_()
        elif method == "ones":
            tensor.fill_(1.0)
        else:
            raise ValueError(f"unknown initializer {method!r}")
