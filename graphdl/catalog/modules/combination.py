"""Torch modules of the layers that combine inputs."""

from __future__ import annotations

import torch
from torch import nn


class Addition(nn.Module):
    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        total = inputs[0]
        for x in inputs[1:]:
            total = total + x
        return total


class Multiplication(nn.Module):
    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        product = inputs[0]
        for x in inputs[1:]:
            product = product * x
        return product


class Concatenation(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return torch.cat(inputs, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
