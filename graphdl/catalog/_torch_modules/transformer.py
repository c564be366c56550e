"""Torch modules of the vision transformer pieces that torch has no module for."""

from __future__ import annotations

import torch
from torch import nn


class EmbeddingConcatenation(nn.Module):
    """A learned embedding (`weight`, one value per channel) put before the first step of a
    sequence (batch, channels, time): torchvision ViT's class token, whose `class_token` of size
    (1, 1, channels) is this `weight` reshaped."""

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels
        self.weight = nn.Parameter(torch.empty(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        token = self.weight.to(x.dtype)[None, :, None].expand(x.shape[0], -1, 1)
        return torch.cat((token, x), dim=-1)

    def extra_repr(self) -> str:
        return f"channels={self.channels}"
