"""Mnist: network `mnist` of graphdl, as a PyTorch module.

Written by `graphdl compile --emit python`. Its weights: model.load_state_dict(state_dict), with
the state_dict of the compiled network (net.state_dict()) or of a network file
(torch.load(path, weights_only=True)["state_dict"])."""

from __future__ import annotations

import math
import torch
import torch.nn.functional as F
from torch import nn


class StreamingFit:
    """`InputNormalization.fit`'s statistics over data seen a mini-batch at a time, as MATLAB
    computes them from a datastore: sums in float64 and Chan et al.'s pairwise update of the
    variance, so that they match `fit` on all the data at once to float32's rounding."""

    def __init__(self, module: InputNormalization):
        self.module = module
        self.count = 0
        self.mean = self.m2 = self.low = self.high = None

    @torch.no_grad()
    def add(self, batch: torch.Tensor) -> None:
        # Only the statistics the mode uses: a zero-centre pass over a data set is one float64
        # sum per batch, taken without a float64 copy of the batch.
        mode = self.module.mode
        x = batch.detach().cpu()
        dims = self.module.reduced_dims(x.dim())
        n = math.prod(x.shape[d] for d in dims)  # values behind each statistic
        if mode.startswith("rescale"):
            low, high = x.amin(dims, keepdim=True)[0].double(), x.amax(dims, keepdim=True)[0].double()
            first = self.count == 0
            self.low = low if first else torch.minimum(self.low, low)
            self.high = high if first else torch.maximum(self.high, high)
        if mode == "zerocenter":
            mean = x.sum(dims, keepdim=True, dtype=torch.float64)[0] / n
            self.mean = mean if self.count == 0 else self.mean + (mean - self.mean) * (n / (self.count + n))
        if mode == "zscore":
            x = x.double()
            mean = x.mean(dims, keepdim=True)[0]
            m2 = ((x - mean) ** 2).sum(dims, keepdim=True)[0]
            if self.count == 0:
                self.mean, self.m2 = mean, m2
            else:
                total = self.count + n
                delta = mean - self.mean
                self.mean = self.mean + delta * (n / total)
                self.m2 = self.m2 + m2 + delta**2 * (self.count * n / total)
        self.count += n

    def finish(self) -> None:
        """Set the module's statistics from everything added."""
        if self.count == 0:
            return
        f32 = {"dtype": torch.float32, "device": next(self.module.buffers()).device}

        def as_f32(statistic):
            return None if statistic is None else statistic.to(**f32)

        std = None if self.m2 is None else (self.m2 / self.count).sqrt()
        self.module.set_statistics(as_f32(self.mean), as_f32(std), as_f32(self.low), as_f32(self.high))


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
        dims = self.reduced_dims(data.dim())
        mean = std = low = high = None
        if self.mode in ("zerocenter", "zscore"):
            mean = data.mean(dims, keepdim=True)[0]
        if self.mode == "zscore":
            std = data.std(dims, keepdim=True, unbiased=False)[0]
        if self.mode.startswith("rescale"):
            low, high = data.amin(dims, keepdim=True)[0], data.amax(dims, keepdim=True)[0]
        self.set_statistics(mean, std, low, high)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "zerocenter":
            return x - self.mean
        if self.mode == "zscore":
            return (x - self.mean) / self.std
        unit = (x - self.min) / (self.max - self.min)
        return unit if self.mode == "rescale-zero-one" else 2 * unit - 1

    def extra_repr(self) -> str:
        return self.mode

    def streaming_fit(self) -> StreamingFit:
        """`fit` over data added a mini-batch at a time: `add` each, then `finish`."""
        return StreamingFit(self)

    def reduced_dims(self, ndim: int) -> list[int]:
        """The dimensions of a batch (of `ndim` dimensions) that one statistic spans: the batch's,
        and each that the statistics have as 1 (a per-channel mean spans height and width)."""
        return [0] + [d + 1 for d, n in enumerate(next(self.buffers()).shape) if n == 1]

    @torch.no_grad()
    def set_statistics(self, mean=None, std=None, low=None, high=None) -> None:
        """Set the statistics this mode uses (others are ignored), each of the buffers' size."""
        if self.mode in ("zerocenter", "zscore"):
            self.mean.copy_(mean)
        if self.mode == "zscore":
            self.std.copy_(torch.where(std > 0, std, torch.ones_like(std)))
        if self.mode.startswith("rescale"):
            self.min.copy_(low)
            self.max.copy_(torch.where(high > low, high, low + 1))


class Mnist(nn.Module):
    def __init__(self):
        super().__init__()
        self.input = InputNormalization('zerocenter', (1, 1, 1))
        self.conv1 = nn.Conv2d(1, 20, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))
        self.bn1 = nn.BatchNorm2d(20, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
        self.fc = nn.Linear(in_features=3920, out_features=10, bias=True)
        self.prob = nn.Softmax(dim=1)

    def forward(self, input):
        input_1 = input
        input_mean = self.input.mean
        input_2 = input_1 - input_mean;  input_1 = input_mean = None
        conv1 = self.conv1(input_2);  input_2 = None
        bn1 = self.bn1(conv1);  conv1 = None
        relu1 = self.relu1(bn1);  bn1 = None
        pool1 = self.pool1(relu1);  relu1 = None
        fc_flatten = torch.flatten(pool1, 1);  pool1 = None
        fc = self.fc(fc_flatten);  fc_flatten = None
        prob = self.prob(fc);  fc = None
        return prob
