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


class StepGroupNorm(nn.GroupNorm):
    """Group normalisation of each time step of a sequence by itself: (batch, channels, ...,
    time) is normalised as batch * time observations, MATLAB's "spatial-channel" layer
    normalisation of a sequence of images."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        steps = x.movedim(-1, 1)  # (batch, time, channels, ...)
        normalised = super().forward(steps.flatten(0, 1))
        return normalised.unflatten(0, steps.shape[:2]).movedim(1, -1)


class LayerScale(nn.Module):
    """ConvNeXt's layer scale: each channel times a learnable factor, torchvision's parameter of
    size (channels, 1, 1) for images, one 1 per dimension after the channels."""

    def __init__(self, channels: int, trailing: int, initial: float):
        super().__init__()
        self.channels, self.trailing, self.initial = channels, trailing, initial
        self.layer_scale = nn.Parameter(torch.full((channels, *([1] * trailing)), float(initial)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.layer_scale

    def extra_repr(self) -> str:
        return f"{self.channels}, initial={self.initial:g}"


def stochastic_depth(x: torch.Tensor, p: float, row: bool) -> torch.Tensor:
    """torchvision.ops.stochastic_depth in training: each observation (row) or the whole batch
    zeroed with probability p, the rest scaled by 1 / (1 - p)."""
    survival = 1.0 - p
    size = [x.shape[0]] + [1] * (x.dim() - 1) if row else [1] * x.dim()
    noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(survival)
    if survival > 0.0:
        noise.div_(survival)
    return x * noise


# One call in a torch.fx graph, as torchvision makes it: its sizes depend on the input's rank.
torch.fx.wrap("stochastic_depth")


class StochasticDepth(nn.Module):
    """torchvision.ops.StochasticDepth: in training, each observation ("row") or the whole batch
    ("batch") is zeroed with probability p and the rest scaled by 1 / (1 - p); at inference, the
    input as it is. Draws from torch's global generator, as torchvision does."""

    def __init__(self, p: float, mode: str):
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        return stochastic_depth(x, self.p, self.mode == "row")

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode!r}"
