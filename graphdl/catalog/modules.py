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
    """MATLAB's input-layer normalisation. The statistics have `size`: (channels, 1, 1) for one per
    channel, an observation's size for one per element, all ones for one in all; they are buffers,
    so they travel with the weights, start as the identity, and `fit` computes them from data."""

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
        """Set the statistics from training observations (batch first). A spread of zero (a
        constant pixel, as MNIST's borders) is taken as one, so that it never divides by zero."""
        reference = next(self.buffers())
        data = data.to(dtype=torch.float32, device=reference.device)
        dims = [0] + [d + 1 for d, n in enumerate(reference.shape) if n == 1]
        if self.mode in ("zerocenter", "zscore"):
            self.mean.copy_(data.mean(dims, keepdim=True)[0])
        if self.mode == "zscore":
            std = data.std(dims, keepdim=True, unbiased=False)[0]
            self.std.copy_(torch.where(std > 0, std, torch.ones_like(std)))
        if self.mode.startswith("rescale"):
            low, high = data.amin(dims, keepdim=True)[0], data.amax(dims, keepdim=True)[0]
            self.min.copy_(low)
            self.max.copy_(torch.where(high > low, high, low + 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "zerocenter":
            return x - self.mean
        if self.mode == "zscore":
            return (x - self.mean) / self.std
        unit = (x - self.min) / (self.max - self.min)
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
