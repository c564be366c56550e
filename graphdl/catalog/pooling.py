"""Pooling layers: windowed max and average, and global average."""

from __future__ import annotations

from graphdl.catalog.arguments import Padding, Param, Size
from graphdl.catalog.registry import Inferred, LayerKind, register
from graphdl.catalog.window import image_input, is_symmetric, output_size, resolve_padding, show_pads, torch_pad
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

    def _geometry(self, args, inputs):
        shape = image_input(self.name, inputs)
        pads = resolve_padding(args["padding"], shape.spatial, args["poolSize"], args["stride"], (1, 1))
        return shape, pads

    def infer(self, args, inputs):
        shape, pads = self._geometry(args, inputs)
        size = output_size(shape, args["poolSize"], args["stride"], (1, 1), pads, window_arg="poolSize")
        return Inferred({"out": Shape.image(*size, shape.channels)})

    def build(self, args, inputs):
        from graphdl.catalog.modules import Padded

        _, pads = self._geometry(args, inputs)
        window, stride = args["poolSize"], args["stride"]
        # torch pools pad at most half a window, and evenly; other padding is applied first.
        if is_symmetric(pads) and all(before <= k // 2 for (before, _), k in zip(pads, window)):
            return self.pool(window, stride, tuple(before for before, _ in pads))
        return Padded(torch_pad(pads), self.pad_value, self.pool(window, stride, 0))

    def describe(self, args):
        size = "x".join(map(str, args["poolSize"]))
        padding = "'same'" if args["padding"] == "same" else show_pads(args["padding"])
        return f"{size} {self.verb} pooling with stride {'x'.join(map(str, args['stride']))} and padding {padding}"


@register
class MaxPooling2d(_Pooling2d):
    name = "maxPooling2d"
    summary = "2-D max pooling: the maximum of each window"
    pad_value = float("-inf")
    verb = "max"

    def pool(self, window, stride, padding):
        from torch import nn

        return nn.MaxPool2d(window, stride, padding)


@register
class AveragePooling2d(_Pooling2d):
    name = "averagePooling2d"
    summary = "2-D average pooling: the mean of each window (padding counts as zeros, as in MATLAB)"
    pad_value = 0.0
    verb = "average"

    def pool(self, window, stride, padding):
        from torch import nn

        return nn.AvgPool2d(window, stride, padding, count_include_pad=True)


@register
class GlobalAveragePooling2d(LayerKind):
    name = "globalAveragePooling2d"
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
