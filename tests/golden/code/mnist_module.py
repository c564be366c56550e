"""Mnist: network `mnist` of graphdl, as a PyTorch module.

Written by `graphdl compile --emit python`. Its weights: model.load_state_dict(state_dict), with
the state_dict of the compiled network (net.state_dict()) or of a network file
(torch.load(path, weights_only=True)["state_dict"])."""

from __future__ import annotations

import math
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
