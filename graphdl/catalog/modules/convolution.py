"""Torch modules of the convolution and fully connected layers, and MATLAB's initialisers."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class PaddedConv2d(nn.Conv2d):
    """A 2-D convolution with padding that differs before and after (MATLAB's "same" with an even
    filter, or [t b l r]), which nn.Conv2d cannot express."""

    def __init__(self, *args, pad: tuple[int, ...], **kwargs):
        super().__init__(*args, **kwargs)
        self.pad = pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, self.pad))


class FlattenLinear(nn.Linear):
    """A fully connected layer fed an image: flattens each observation first, as MATLAB's
    fullyConnectedLayer does."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(torch.flatten(x, 1))


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
