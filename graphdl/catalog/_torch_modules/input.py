"""Torch modules of the input layers."""

from __future__ import annotations

import torch
from torch import nn


class InputNormalization(nn.Module):
    """MATLAB's input-layer normalisation. The statistics have `size`: (channels, 1, 1) for one per
    channel, an observation's size for one per element, all ones for one in all; they are buffers,
    so they travel with the weights, start as the identity, and `fit` computes them from data."""

    def __init__(self, mode: str, size: tuple[int, ...]):
        super().__init__()
        self.mode = mode
        self.size = size
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
