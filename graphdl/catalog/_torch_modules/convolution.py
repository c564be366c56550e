"""Torch modules of the convolution and fully connected layers, and MATLAB's initialisers."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from graphdl.catalog._window import same_padding


class _Padded:
    """A convolution that pads its input first: with padding that differs before and after
    (MATLAB's "same" with an even filter, [t b l r], "causal"), which torch's modules cannot
    express; or, with `pad` None, with MATLAB's "same" of a sequence of any length at a stride
    above 1, which depends on each call's length."""

    def __init__(self, *args, pad: tuple[int, ...] | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.pad = pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad = self.pad
        if pad is None:
            pad = same_padding(x.shape[-1], self.kernel_size[-1], self.stride[-1], self.dilation[-1])
        return super().forward(F.pad(x, pad))


class PaddedConv1d(_Padded, nn.Conv1d):
    pass


class PaddedConv2d(_Padded, nn.Conv2d):
    pass


class PaddedConv3d(_Padded, nn.Conv3d):
    pass


class _Cropped:
    """A transposed convolution that crops unevenly (MATLAB's Cropping [t b l r], or "same" when
    the filter exceeds the stride by an odd amount): torch crops `padding` from both sides, this
    the rest. `crop` is (before, after) per spatial dimension, beyond `padding`."""

    def __init__(self, *args, crop: tuple[tuple[int, int], ...], **kwargs):
        super().__init__(*args, **kwargs)
        self.crop = crop

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = super().forward(x)
        kept = [slice(before, size - after) for (before, after), size in zip(self.crop, y.shape[2:])]
        return y[(slice(None), slice(None), *kept)]


class CroppedConvTranspose1d(_Cropped, nn.ConvTranspose1d):
    pass


class CroppedConvTranspose2d(_Cropped, nn.ConvTranspose2d):
    pass


class CroppedConvTranspose3d(_Cropped, nn.ConvTranspose3d):
    pass


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
            raise ValueError(f"unknown initializer {method!r}")  # a broken contract: the argument's Choice admits only these
