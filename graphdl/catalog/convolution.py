"""Convolution and fully connected layers: the layers with weights."""

from __future__ import annotations

import math

from graphdl.catalog.arguments import Bool, Choice, Int, Padding, Param, Size
from graphdl.catalog.registry import Inferred, LayerKind, register
from graphdl.catalog.window import Window, describe_window
from graphdl.shape import Shape

WEIGHT_INITIALIZERS = ("glorot", "he", "narrow-normal", "zeros", "ones")
BIAS_INITIALIZERS = ("zeros", "ones", "narrow-normal")


def _initializers() -> tuple[Param, ...]:
    return (
        Param("weightsInitializer", Choice(WEIGHT_INITIALIZERS), "glorot"),
        Param("biasInitializer", Choice(BIAS_INITIALIZERS), "zeros"),
        # MATLAB layers always have a bias; networks followed by batch normalisation (ResNets)
        # are written without.
        Param("bias", Bool(), True, doc="false for a layer without a bias"),
    )


def _learnables(weight: tuple[int, ...], outputs: int, args) -> dict[str, tuple[int, ...]]:
    return {"weight": weight, "bias": (outputs,)} if args["bias"] else {"weight": weight}


def _initialize(module, args, fan_in: int, fan_out: int):
    from graphdl.catalog.modules.convolution import initialize

    initialize(module.weight, args["weightsInitializer"], fan_in, fan_out)
    if module.bias is not None:
        initialize(module.bias, args["biasInitializer"], fan_in, fan_out)
    return module


@register
class Convolution2d(LayerKind):
    name = "convolution2d"
    auto_name = "conv"
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

    def infer(self, args, inputs):
        window = Window.of(self.name, args, inputs, "filterSize")
        filters = args["numFilters"]
        return Inferred(
            {"out": Shape.image(*window.output_size(), filters)},
            learnables=_learnables((filters, window.input.channels, *window.size), filters, args),
        )

    def build(self, args, inputs):
        from torch import nn

        from graphdl.catalog.modules.convolution import PaddedConv2d

        window = Window.of(self.name, args, inputs, "filterSize")
        channels, filters = window.input.channels, args["numFilters"]
        common = dict(
            in_channels=channels, out_channels=filters, kernel_size=window.size, stride=window.stride, dilation=window.dilation, bias=args["bias"]
        )
        if window.symmetric:
            conv = nn.Conv2d(**common, padding=window.padding)
        else:
            conv = PaddedConv2d(**common, pad=window.torch_pad)
        area = math.prod(window.size)
        return _initialize(conv, args, area * channels, area * filters)

    def describe(self, args):
        return f"{args['numFilters']} " + describe_window("convolutions", args, "filterSize")

    def flops(self, args, inputs, inferred):
        out = inferred.outputs["out"]
        per_output = 2 * math.prod(args["filterSize"]) * inputs["in"].channels
        return out.numel * (per_output + (1 if args["bias"] else 0))


@register
class FullyConnected(LayerKind):
    name = "fullyConnected"
    auto_name = "fc"
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
            learnables=_learnables((args["outputSize"], features), args["outputSize"], args),
        )

    def build(self, args, inputs):
        from torch import nn

        from graphdl.catalog.modules.convolution import FlattenLinear

        shape = inputs["in"]
        linear = (nn.Linear if shape.format == "C" else FlattenLinear)(shape.numel, args["outputSize"], bias=args["bias"])
        return _initialize(linear, args, shape.numel, args["outputSize"])

    def flops(self, args, inputs, inferred):
        return args["outputSize"] * (2 * inputs["in"].numel + (1 if args["bias"] else 0))

    def describe(self, args):
        n = args["outputSize"]
        return f"{n} fully connected output{'s' if n != 1 else ''}"
