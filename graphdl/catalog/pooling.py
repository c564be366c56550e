"""Pooling layers: windowed max and average, and global average."""

from __future__ import annotations

import math

from graphdl.catalog.arguments import Padding, Param, Size
from graphdl.catalog.registry import Inferred, LayerKind, register
from graphdl.catalog.window import Window, describe_window, image_input
from graphdl.shape import Shape


class _Pooling2d(LayerKind):
    category = "pooling"
    params = (
        Param("poolSize", Size(2), positional=True, doc="height and width of the pooling window"),
        Param("stride", Size(2), 1, doc="MATLAB's default is 1: pass stride=2 for the usual halving"),
        Param("padding", Padding(2), 0),
    )
    pad_value: float
    verb: str

    def infer(self, args, inputs):
        window = Window.of(self.name, args, inputs, "poolSize")
        return Inferred({"out": Shape.image(*window.output_size(), window.input.channels)})

    def build(self, args, inputs):
        from graphdl.catalog.modules.pooling import Padded

        window = Window.of(self.name, args, inputs, "poolSize")
        # torch pools pad at most half a window, and evenly; other padding is applied first.
        if window.symmetric and all(p <= k // 2 for p, k in zip(window.padding, window.size)):
            return self.pool(window.size, window.stride, window.padding)
        return Padded(window.torch_pad, self.pad_value, self.pool(window.size, window.stride, 0))

    def describe(self, args):
        return describe_window(f"{self.verb} pooling", args, "poolSize")

    def flops(self, args, inputs, inferred):
        return inferred.outputs["out"].numel * math.prod(args["poolSize"])


@register
class MaxPooling2d(_Pooling2d):
    name = "maxPooling2d"
    auto_name = "maxpool"
    summary = "2-D max pooling: the maximum of each window"
    pad_value = float("-inf")
    verb = "max"

    def pool(self, window, stride, padding):
        from torch import nn

        return nn.MaxPool2d(window, stride, padding)


@register
class AveragePooling2d(_Pooling2d):
    name = "averagePooling2d"
    auto_name = "avgpool"
    summary = "2-D average pooling: the mean of each window (padding counts as zeros, as in MATLAB)"
    pad_value = 0.0
    verb = "average"

    def pool(self, window, stride, padding):
        from torch import nn

        return nn.AvgPool2d(window, stride, padding, count_include_pad=True)


@register
class GlobalAveragePooling2d(LayerKind):
    name = "globalAveragePooling2d"
    auto_name = "gapool"
    category = "pooling"
    summary = "2-D global average pooling: the mean over height and width, keeping 1x1xchannels"

    def infer(self, args, inputs):
        shape = image_input(self.name, inputs)
        return Inferred({"out": Shape.image(1, 1, shape.channels)})

    def build(self, args, inputs):
        from torch import nn

        return nn.AdaptiveAvgPool2d(1)

    def describe(self, args):
        return "2-D global average pooling"

    def flops(self, args, inputs, inferred):
        return inputs["in"].numel
