"""Activation layers: elementwise nonlinearities, and softmax over channels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from graphdl.catalog._arguments import ArgumentProblem, Choice, Float, Param
from graphdl.catalog._importing import LayerSpec, layer_spec, refuse_if, size_of
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


def _module(kind: str):
    """The importer of a torch module of no settings of its own: nn.ReLU()."""
    return lambda m, x: layer_spec(kind, x)


def _function(kind: str, *qualified: str) -> dict:
    """The importers of functions and methods of no settings of their own: torch.relu(x), x.relu()."""

    def convert(input, inplace=False) -> LayerSpec:
        return layer_spec(kind, input)

    return dict.fromkeys(qualified, convert)


def _softplus(input, beta=1.0, threshold=20.0) -> LayerSpec:
    refuse_if(beta != 1 or threshold != 20, f"beta={beta}, threshold={threshold}: graphdl's softplus is log(1 + exp(x)), beta 1 and threshold 20")
    return layer_spec("softplus", input)


def _clipped(input, min_val=-1.0, max_val=1.0, inplace=False) -> LayerSpec:
    """torch.nn.functional.hardtanh, which clips at two bounds."""
    refuse_if(min_val != 0, f"min_val={min_val}: graphdl's clippedRelu clips at 0 and a ceiling, as Hardtanh(0, ceiling) does")
    return layer_spec("clippedRelu", input, ceiling=max_val)


def _softmax(input, dim=None, _stacklevel=3, dtype=None) -> LayerSpec:
    refuse_if(dtype is not None, f"dtype={dtype}: graphdl's softmax computes in its input's type")
    rank = len(size_of(input))
    if dim is None:
        dim = 0 if rank in (0, 1, 3) else 1  # torch's own choice for a softmax without a dim
    refuse_if(dim % rank != 1, f"dim={dim}: graphdl's softmax works over the channels, dim=1")
    return layer_spec("softmax", input)


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
    importers = {"torch.nn.ReLU": _module("relu"), **_function("relu", "torch.relu", "torch.nn.functional.relu", "torch.Tensor.relu")}

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
    importers = {
        "torch.nn.LeakyReLU": lambda m, x: layer_spec("leakyRelu", x, scale=m.negative_slope),
        "torch.nn.functional.leaky_relu": lambda input, negative_slope=0.01, inplace=False: layer_spec("leakyRelu", input, scale=negative_slope),
    }

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
    importers = {
        "torch.nn.Hardtanh": lambda m, x: _clipped(x, m.min_val, m.max_val),
        "torch.nn.ReLU6": lambda m, x: _clipped(x, 0, 6),
        "torch.nn.functional.hardtanh": _clipped,
        "torch.nn.functional.relu6": lambda input, inplace=False: _clipped(input, 0, 6),
    }

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
    importers = {
        "torch.nn.ELU": lambda m, x: layer_spec("elu", x, alpha=m.alpha),
        "torch.nn.functional.elu": lambda input, alpha=1.0, inplace=False: layer_spec("elu", input, alpha=alpha),
    }
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
    importers = {
        "torch.nn.GELU": lambda m, x: layer_spec("gelu", x, approximation=m.approximate),
        "torch.nn.functional.gelu": lambda input, approximate="none": layer_spec("gelu", input, approximation=approximate),
    }

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
    importers = {"torch.nn.Tanh": _module("tanh"), **_function("tanh", "torch.tanh", "torch.nn.functional.tanh", "torch.Tensor.tanh")}

    def build(self, args, inputs):
        from torch import nn

        return nn.Tanh()

    def describe(self, args):
        return "hyperbolic tangent"


@register
class Sigmoid(_Elementwise):
    name = "sigmoid"
    summary = "Logistic sigmoid: 1 / (1 + exp(-x))"
    importers = {"torch.nn.Sigmoid": _module("sigmoid"), **_function("sigmoid", "torch.sigmoid", "torch.nn.functional.sigmoid", "torch.Tensor.sigmoid")}
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
    importers = {"torch.nn.SiLU": _module("swish"), **_function("swish", "torch.nn.functional.silu")}
    per_element = 4  # a sigmoid, then a product

    def build(self, args, inputs):
        from torch import nn

        return nn.SiLU()  # torch's name for swish with beta 1, as MATLAB's swishLayer

    def describe(self, args):
        return "swish"


@register
class HardSigmoid(_Elementwise):
    name = "hardSigmoid"
    auto_name = "hardsigmoid"
    summary = "Hard sigmoid (MobileNetV3): min(max(x / 6 + 1/2, 0), 1), a piecewise-linear sigmoid"
    importers = {"torch.nn.Hardsigmoid": _module("hardSigmoid"), **_function("hardSigmoid", "torch.nn.functional.hardsigmoid")}
    per_element = 4  # divide, add, max, min

    def build(self, args, inputs):
        from torch import nn

        return nn.Hardsigmoid()

    def describe(self, args):
        return "hard sigmoid"


@register
class HardSwish(_Elementwise):
    name = "hardSwish"
    auto_name = "hardswish"
    summary = "Hard swish (MobileNetV3): x * hardSigmoid(x), a piecewise-quadratic swish"
    importers = {"torch.nn.Hardswish": _module("hardSwish"), **_function("hardSwish", "torch.nn.functional.hardswish")}
    per_element = 5  # a hard sigmoid, then a product

    def build(self, args, inputs):
        from torch import nn

        return nn.Hardswish()

    def describe(self, args):
        return "hard swish"


@register
class Softplus(_Elementwise):
    name = "softplus"
    summary = "Softplus: log(1 + exp(x)), a smooth ReLU"
    importers = {"torch.nn.Softplus": lambda m, x: _softplus(x, m.beta, m.threshold), "torch.nn.functional.softplus": _softplus}
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
    importers = {
        "torch.nn.Softmax": lambda m, x: _softmax(x, m.dim),
        **dict.fromkeys(("torch.softmax", "torch.nn.functional.softmax", "torch.Tensor.softmax"), _softmax),
    }
    per_element = 3  # exp, sum, divide

    def build(self, args, inputs):
        from torch import nn

        return nn.Softmax(dim=1)

    def describe(self, args):
        return "softmax"


# The functions a function layer may apply, and torch's name of each: a fixed list, never code.
_FUNCTIONS = {"abs": "abs", "exp": "exp", "log": "log", "sqrt": "sqrt", "square": "square", "sigmoid": "sigmoid", "tanh": "tanh", "negate": "neg"}
# Operations per element, a transcendental function counted as one, as the other kinds count it.
_FUNCTION_FLOPS = {"sigmoid": 3}


def _applied(fun: str, *qualified: str) -> dict:
    """The importers of a torch function or method of one tensor: torch.exp(x), x.exp(), -x."""

    def convert(input, out=None) -> LayerSpec:
        refuse_if(out is not None, "out=: graphdl's layers make their own outputs")
        return layer_spec("function", input, fun=fun)

    return dict.fromkeys(qualified, convert)


@register
class Function(_Elementwise):
    """MATLAB's functionLayer for the elementwise functions of a fixed list: a name, not code, so
    that a .dlg file never runs anything but layers."""

    name = "function"
    auto_name = "fun"
    summary = "An elementwise function, by name: " + ", ".join(_FUNCTIONS)
    params = (Param("fun", Choice(tuple(_FUNCTIONS)), positional=True, doc="the function to apply to each element"),)
    importers = {
        name: importer
        for fun, torch_name in _FUNCTIONS.items()
        if fun not in ("sigmoid", "tanh")  # imported as the sigmoid and tanh layers
        for name, importer in _applied(fun, f"torch.{torch_name}", f"torch.Tensor.{torch_name}").items()
    } | _applied("negate", "operator.neg", "torch.negative", "torch.Tensor.negative")

    def build(self, args, inputs):
        return None

    def generate(self, args, inputs, emit, x):
        import torch

        return emit.function(getattr(torch, _FUNCTIONS[args["fun"]]), x)

    def describe(self, args):
        return f"elementwise {args['fun']}"

    def flops(self, args, inputs, inferred):
        return _FUNCTION_FLOPS.get(args["fun"], 1) * inferred.outputs["out"].numel
