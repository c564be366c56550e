"""Torch modules of the attention and position encoding layers, on sequences of features as
(batch, channels, time)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from graphdl.catalog._torch_modules import checks_values


class SelfAttention(nn.Module):
    """Multi-head scaled dot-product self-attention with projections of queries, keys and values
    and of the merged heads, as MATLAB's selfAttentionLayer; dropout drops attention weights."""

    def __init__(self, channels: int, heads: int, key_channels: int, value_channels: int, output_size: int, *, causal: bool, dropout: float):
        super().__init__()
        self.channels, self.heads, self.key_channels, self.value_channels, self.output_size = channels, heads, key_channels, value_channels, output_size
        self.causal, self.dropout = causal, dropout
        self.query = nn.Linear(channels, key_channels)
        self.key = nn.Linear(channels, key_channels)
        self.value = nn.Linear(channels, value_channels)
        self.output = nn.Linear(value_channels, output_size)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, time, heads * c) to (batch, heads, time, c)."""
        return x.unflatten(-1, (self.heads, -1)).transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        steps = x.transpose(1, 2)
        q, k, v = (self._split(projection(steps)) for projection in (self.query, self.key, self.value))
        merged = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0, is_causal=self.causal)
        return self.output(merged.transpose(1, 2).flatten(2)).transpose(1, 2)

    def extra_repr(self) -> str:
        return f"heads={self.heads}, causal={self.causal}, dropout={self.dropout}"


class PositionEmbedding(nn.Module):
    """The learned embeddings of positions 1..T (rows 0..T-1 of `weight`) of a T-step input, for
    every observation; the input's values are not used."""

    def __init__(self, max_position: int, output_size: int):
        super().__init__()
        self.max_position, self.output_size = max_position, output_size
        self.weight = nn.Parameter(torch.empty(max_position, output_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        steps = x.shape[-1]
        if checks_values() and steps > self.weight.shape[0]:
            raise ValueError(f"positionEmbedding embeds up to {self.weight.shape[0]} positions (maxPosition), but gets a sequence of {steps} steps")
        return self.weight[:steps].T.expand(x.shape[0], -1, -1)

    def extra_repr(self) -> str:
        return f"max_position={self.weight.shape[0]}, output_size={self.weight.shape[1]}"


def sinusoidal_encoding(steps: int, channels: int, *, dtype=torch.float32, device=None) -> torch.Tensor:
    """Vaswani et al.'s encoding, (channels, steps): channel 2i of position p is
    sin(p / 10000^(2i / channels)), channel 2i + 1 its cosine; positions count from 0."""
    position = torch.arange(steps, dtype=torch.float32, device=device)
    frequency = torch.exp(torch.arange(0, channels, 2, dtype=torch.float32, device=device) * (-math.log(10000.0) / channels))
    angle = frequency[:, None] * position[None, :]
    return torch.stack((angle.sin(), angle.cos()), dim=1).flatten(0, 1).to(dtype)


class SinusoidalPositionEncoding(nn.Module):
    """The fixed sinusoidal encoding of positions of a T-step input, for every observation;
    computed when called, so that it holds no state and takes any length."""

    def __init__(self, output_size: int):
        super().__init__()
        self.output_size = output_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype if x.is_floating_point() else torch.float32
        encoding = sinusoidal_encoding(x.shape[-1], self.output_size, dtype=dtype, device=x.device)
        return encoding.expand(x.shape[0], -1, -1)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
