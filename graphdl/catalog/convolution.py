"""Convolution and fully connected layers: the layers with weights."""

from __future__ import annotations

import math

from graphdl.catalog.arguments import Choice, Int, Padding, Param, Size
from graphdl.catalog.registry import Inferred, LayerKind, register
from graphdl.catalog.window import image_input, is_symmetric, output_size, resolve_padding, show_pads, torch_pad
from graphdl.shape import Shape

WEIGHT_INITIALIZERS = ("glorot", "he", "narrow-normal", "zeros", "ones")
BIAS_INITIALIZERS = ("zeros", "ones", "narrow-normal")


def _initializers() -> tuple[Param, ...]:
    return (
        Param("weightsInitializer", Choice(WEIGHT_INITIALIZERS), "glorot"),
        Param("biasInitializer", Choice(BIAS_INITIALIZERS), "zeros"),
    )


def _initialize(module, args, fan_in: int, fan_out: int):
    from graphdl.catalog.modules import initialize

    initialize(module.weight, args["weightsInitializer"], fan_in, fan_out)
    initialize(module.bias, args["biasInitializer"], fan_in, fan_out)
    return module


@register
class Convolution2d(LayerKind):
    name = "convolution2d"
    category = "convolution"
    l2_factors = {"bias": 0.0}  # MATLAB's BiasL2Factor
    summary = "2-D convolution: numFilters filters of filterSize slid over the image"
    params = (
        Param("filterSize", Size(2), positional=True, doc="height and width of the filters"),
        Param("numFilters", Int(min=1), positional=True, doc="number of filters, the output channels"),
        Param("stride", Size(2), 1),
        Param("dilationFactor", Size(2), 1),
        Param("padding", Padding(2), 0, doc='"same" keeps the size (at stride 1)'),
        *_initializers(),
    )

    def _geometry(self, args, inputs):
        shape = image_input(self.name, inputs)
        pads = resolve_padding(args["padding"], shape.spatial, args["filterSize"], args["stride"], args["dilationFactor"])
        return shape, pads

    def infer(self, args, inputs):
        shape, pads = self._geometry(args, inputs)
        size = output_size(shape, args["filterSize"], args["stride"], args["dilationFactor"], pads, window_arg="filterSize")
        filters = args["numFilters"]
        return Inferred(
            {"out": Shape.image(*size, filters)},
            learnables={"weight": (filters, shape.channels, *args["filterSize"]), "bias": (filters,)},
        )

    def build(self, args, inputs):
        from torch import nn

        from graphdl.catalog.modules import PaddedConv2d

        shape, pads = self._geometry(args, inputs)
        common = dict(
            in_channels=shape.channels,
            out_channels=args["numFilters"],
            kernel_size=args["filterSize"],
            stride=args["stride"],
            dilation=args["dilationFactor"],
        )
        if is_symmetric(pads):
            conv = nn.Conv2d(**common, padding=tuple(before for before, _ in pads))
        else:
            conv = PaddedConv2d(**common, pad=torch_pad(pads))
        area = math.prod(args["filterSize"])
        return _initialize(conv, args, area * shape.channels, area * args["numFilters"])

    def describe(self, args):
        size = "x".join(map(str, args["filterSize"]))
        padding = "'same'" if args["padding"] == "same" else show_pads(args["padding"])
        stride = "x".join(map(str, args["stride"]))
        return f"{args['numFilters']} {size} convolutions with stride {stride} and padding {padding}"


@register
class FullyConnected(LayerKind):
    name = "fullyConnected"
    category = "dense"
    l2_factors = {"bias": 0.0}  # MATLAB's BiasL2Factor
    summary = "Fully connected: multiplies the flattened input by a weight matrix and adds a bias"
    params = (
        Param("outputSize", Int(min=1), positional=True, doc="number of outputs"),
        *_initializers(),
    )

    def infer(self, args, inputs):
        features = inputs["in"].numel
        return Inferred(
            {"out": Shape.features(args["outputSize"])},
            learnables={"weight": (args["outputSize"], features), "bias": (args["outputSize"],)},
        )

    def build(self, args, inputs):
        from torch import nn

        from graphdl.catalog.modules import FlattenLinear

        shape = inputs["in"]
        linear = (nn.Linear if shape.format == "C" else FlattenLinear)(shape.numel, args["outputSize"])
        return _initialize(linear, args, shape.numel, args["outputSize"])

    def describe(self, args):
        n = args["outputSize"]
        return f"{n} fully connected output{'s' if n != 1 else ''}"
