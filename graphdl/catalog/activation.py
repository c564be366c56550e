"""Activation layers: elementwise nonlinearities, and softmax over channels."""

from __future__ import annotations

from graphdl.catalog.arguments import Float, Param
from graphdl.catalog.registry import Inferred, LayerKind, register


class _Elementwise(LayerKind):
    category = "activation"

    def infer(self, args, inputs):
        return Inferred({"out": inputs["in"]})


@register
class Relu(_Elementwise):
    name = "relu"
    summary = "Rectified linear unit: max(x, 0)"

    def build(self, args, inputs):
        from torch import nn

        return nn.ReLU()

    def describe(self, args):
        return "ReLU"


@register
class LeakyRelu(_Elementwise):
    name = "leakyRelu"
    auto_name = "leakyrelu"
    summary = "Leaky rectified linear unit: x for x >= 0, scale * x below"
    params = (Param("scale", Float(min=0), 0.01, positional=True, doc="slope for negative inputs"),)

    def build(self, args, inputs):
        from torch import nn

        return nn.LeakyReLU(args["scale"])

    def describe(self, args):
        return f"leaky ReLU with scale {args['scale']:g}"


@register
class Softmax(_Elementwise):
    name = "softmax"
    summary = "Softmax over the channels of each observation (and of each pixel of an image)"

    def build(self, args, inputs):
        from torch import nn

        return nn.Softmax(dim=1)

    def flops(self, args, inputs, inferred):
        return 3 * inferred.outputs["out"].numel  # exp, sum, divide

    def describe(self, args):
        return "softmax"
