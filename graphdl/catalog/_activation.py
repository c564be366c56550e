"""Activation layers: elementwise nonlinearities, and softmax over channels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from graphdl.catalog._arguments import ArgumentProblem, Choice, Float, Param
from graphdl.catalog._registry import Inferred, LayerKind, register


@dataclass(frozen=True)
class PositiveFloat(Float):
    """A number above zero: Float's bounds include the bound, and a ceiling of 0 clips everything
    to 0."""

    @property
    def expected(self) -> str:
        return "a positive number"

    def normalize(self, value: object) -> float:
        value = super().normalize(value)
        if value <= 0:
            raise ArgumentProblem(f"expected {self.expected}, found {value:g}", "E207")
        return value


class _Elementwise(LayerKind):
    category = "activation"
    # Operations per element, a transcendental function (exp, tanh, erf) counted as one.
    per_element: ClassVar[int] = 1

    def infer(self, args, inputs):
        return Inferred({"out": inputs["in"]})

    def flops(self, args, inputs, inferred):
        return self.per_element * inferred.outputs["out"].numel


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
class ClippedRelu(_Elementwise):
    name = "clippedRelu"
    auto_name = "clippedrelu"
    summary = "Clipped rectified linear unit: min(max(x, 0), ceiling)"
    params = (Param("ceiling", PositiveFloat(), positional=True, doc="the largest output, above 0"),)
    per_element = 2  # a max and a min

    def build(self, args, inputs):
        from torch import nn

        # Hardtanh is torch's clamp between two bounds; ReLU6 is the case ceiling = 6.
        return nn.Hardtanh(0.0, args["ceiling"])

    def describe(self, args):
        return f"clipped ReLU with ceiling {args['ceiling']:g}"


@register
class Elu(_Elementwise):
    name = "elu"
    summary = "Exponential linear unit: x for x >= 0, alpha * (exp(x) - 1) below"
    params = (Param("alpha", Float(), 1.0, positional=True, doc="the negative inputs tend to -alpha"),)
    per_element = 3  # exp, subtract, multiply

    def build(self, args, inputs):
        from torch import nn

        return nn.ELU(args["alpha"])

    def describe(self, args):
        return f"ELU with alpha {args['alpha']:g}"


@register
class Gelu(_Elementwise):
    name = "gelu"
    summary = 'Gaussian error linear unit: x * P(X <= x) for a standard normal X, exact or its "tanh" approximation'
    params = (Param("approximation", Choice(("none", "tanh")), "none", doc='"tanh" for the faster tanh approximation'),)

    def build(self, args, inputs):
        from torch import nn

        return nn.GELU(approximate=args["approximation"])

    def flops(self, args, inputs, inferred):
        # x/sqrt(2), erf, +1, two products; the approximation's cubic polynomial costs more.
        per_element = 9 if args["approximation"] == "tanh" else 5
        return per_element * inferred.outputs["out"].numel

    def describe(self, args):
        return "GELU" if args["approximation"] == "none" else "GELU (tanh approximation)"


@register
class Tanh(_Elementwise):
    name = "tanh"
    summary = "Hyperbolic tangent"

    def build(self, args, inputs):
        from torch import nn

        return nn.Tanh()

    def describe(self, args):
        return "hyperbolic tangent"


@register
class Sigmoid(_Elementwise):
    name = "sigmoid"
    summary = "Logistic sigmoid: 1 / (1 + exp(-x))"
    per_element = 3  # exp, add, divide

    def build(self, args, inputs):
        from torch import nn

        return nn.Sigmoid()

    def describe(self, args):
        return "sigmoid"


@register
class Swish(_Elementwise):
    name = "swish"
    summary = "Swish: x * sigmoid(x)"
    per_element = 4  # a sigmoid, then a product

    def build(self, args, inputs):
        from torch import nn

        return nn.SiLU()  # torch's name for swish with beta 1, as MATLAB's swishLayer

    def describe(self, args):
        return "swish"


@register
class Softplus(_Elementwise):
    name = "softplus"
    summary = "Softplus: log(1 + exp(x)), a smooth ReLU"
    per_element = 3  # exp, add, log

    def build(self, args, inputs):
        from torch import nn

        # Above the threshold torch returns x, which log(1 + exp(x)) equals in float32.
        return nn.Softplus(beta=1.0, threshold=20.0)

    def describe(self, args):
        return "softplus"


@register
class Softmax(_Elementwise):
    name = "softmax"
    summary = "Softmax over the channels of each observation (and of each pixel of an image)"
    per_element = 3  # exp, sum, divide

    def build(self, args, inputs):
        from torch import nn

        return nn.Softmax(dim=1)

    def describe(self, args):
        return "softmax"
