"""Torch modules of the normalisation layers where torch's own do not fit MATLAB's."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class BatchNormNd(nn.BatchNorm1d):
    """Batch normalisation of a tensor of any rank (batch, channels, ...): torch's functional batch
    norm takes any, but its modules stop at 3-D images, and a sequence of 3-D images has one more."""

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected a tensor of at least 2 dimensions (batch, channels, ...), got {input.dim()}")


class ChannelLayerNorm(nn.LayerNorm):
    """Layer normalisation over the channels alone, at each time step (and pixel) by itself, as
    MATLAB's layer normalisation does for features and sequences. nn.LayerNorm normalises the last
    dimensions, and channels come second at run time."""

    def __init__(self, channels: int, eps: float):
        super().__init__(channels, eps=eps)
        self.channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.movedim(1, -1)).movedim(-1, 1)


class CrossChannelNormalization(nn.Module):
    """MATLAB's cross-channel (local response) normalisation: x / (k + alpha * ss / size) ** beta,
    ss the sum of squares over a window of `size` channels. It differs from nn.LocalResponseNorm for
    an even size: MATLAB's window reaches floor((size - 1) / 2) channels back and floor(size / 2)
    ahead, torch's the other way round. Takes any rank, feature vectors included."""

    def __init__(self, size: int, alpha: float, beta: float, k: float):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        squares = (x * x).movedim(1, -1)
        padded = F.pad(squares, ((self.size - 1) // 2, self.size // 2))
        ss = padded.unfold(-1, self.size, 1).sum(-1).movedim(-1, 1)
        return x / (self.k + self.alpha / self.size * ss) ** self.beta

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha:g}, beta={self.beta:g}, k={self.k:g}"
