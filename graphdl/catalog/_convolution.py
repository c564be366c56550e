"""Convolution and fully connected layers: the layers with weights. Convolutions in 1-D (along
the time of a sequence of features, or the width of a 1-D image), 2-D and 3-D, grouped ones, and
transposed ones."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from graphdl.catalog._arguments import ArgType, ArgumentProblem, Bool, Choice, Int, Padding, Param, Size
from graphdl.catalog._importing import LayerSpec, TracedTensor, compact, layer_spec, refuse_if, torch_padding, window_dims
from graphdl.catalog._registry import Factors, Inferred, LayerKind, LayerProblem, register
from graphdl.catalog._shape import Shape
from graphdl.catalog._window import Padding1d, Window, describe_window, image_input, show_padding, show_size, slid_sizes
from graphdl.diagnostics import counted
from graphdl.syntax import show_value

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
    from graphdl.catalog._torch_modules.convolution import initialize

    initialize(module.weight, args["weightsInitializer"], fan_in, fan_out)
    if module.bias is not None:
        initialize(module.bias, args["biasInitializer"], fan_in, fan_out)
    return module


@dataclass(frozen=True)
class Groups(ArgType):
    """MATLAB's numGroups: a positive integer, or "channel-wise" for a group per input channel (a
    depthwise convolution)."""

    expected = 'a positive integer or "channel-wise"'

    def normalize(self, value: object) -> int | str:
        if value == "channel-wise":
            return value
        try:
            return Int(min=1).normalize(value)
        except ArgumentProblem as problem:
            code = "E207" if isinstance(value, str) else problem.code
            raise ArgumentProblem(f"expected {self.expected}, found {show_value(value)}", code) from None


_EXTENT = {1: "width of the filters (length, over time)", 2: "height and width of the filters", 3: "height, width and depth of the filters"}
_SAME = {
    1: '"same" keeps the length (at stride 1); "causal" pads before only, so that no output sees a later step',
    2: '"same" keeps the size (at stride 1)',
    3: '"same" keeps the size (at stride 1)',
}


def _window_params(dims: int, filters: tuple[Param, ...]) -> tuple[Param, ...]:
    return (
        Param("filterSize", Size(dims), positional=True, doc=_EXTENT[dims]),
        *filters,
        Param("stride", Size(dims), 1),
        Param("dilationFactor", Size(dims), 1),
        Param("padding", Padding1d(causal=True) if dims == 1 else Padding(dims), 0, doc=_SAME[dims]),
        *_initializers(),
    )


def _import_convolution(m, x: TracedTensor) -> LayerSpec:
    """torch.nn.Conv1d, Conv2d or Conv3d; grouped ones as groupedConvolution2d."""
    dims = window_dims(m, x)
    refuse_if(m.padding_mode != "zeros", f'padding_mode="{m.padding_mode}": graphdl\'s convolutions pad with zeros only')
    common = {"stride": compact(m.stride), "dilationFactor": compact(m.dilation), "padding": torch_padding(m.padding), "bias": m.bias is not None}
    if m.groups == 1:
        return layer_spec(f"convolution{dims}d", x, filterSize=compact(m.kernel_size), numFilters=m.out_channels, **common)
    refuse_if(dims != 2, f"groups={m.groups}: the catalog has grouped convolutions in 2-D only (groupedConvolution2d)")
    groups = "channel-wise" if m.groups == m.in_channels else m.groups
    return layer_spec(
        "groupedConvolution2d", x, filterSize=compact(m.kernel_size), numFiltersPerGroup=m.out_channels // m.groups, numGroups=groups, **common
    )


def _import_transposed(m, x: TracedTensor) -> LayerSpec:
    """torch.nn.ConvTranspose1d, ConvTranspose2d or ConvTranspose3d."""
    dims = window_dims(m, x)
    refuse_if(m.padding_mode != "zeros", f'padding_mode="{m.padding_mode}": graphdl\'s transposed convolutions pad with zeros only')
    refuse_if(m.groups != 1, f"groups={m.groups}: the catalog's transposed convolutions are not grouped")
    refuse_if(any(d != 1 for d in m.dilation), f"dilation={m.dilation}: the catalog's transposed convolutions have no dilation")
    refuse_if(
        any(extra > p for p, extra in zip(m.padding, m.output_padding)),
        f"output_padding={m.output_padding} beyond padding={m.padding}: graphdl crops a transposed convolution's output, it does not extend it",
    )
    # torch's output_padding gives back rows that its padding cropped at the end: MATLAB's
    # cropping of `padding` before and `padding - output_padding` after.
    if any(m.output_padding):
        cropping = [side for p, extra in zip(m.padding, m.output_padding) for side in (p, p - extra)]
    else:
        cropping = compact(m.padding)
    return layer_spec(
        f"transposedConv{dims}d", x, filterSize=compact(m.kernel_size), numFilters=m.out_channels, stride=compact(m.stride), cropping=cropping,
        bias=m.bias is not None,
    )


def _import_linear(m, x: TracedTensor) -> LayerSpec:
    refuse_if(
        len(x.size) != 2,
        f"nn.Linear on a tensor of size {x.size} works along its last dimension, but graphdl's fullyConnected takes (batch, features): flatten first",
    )
    return layer_spec("fullyConnected", x, outputSize=m.out_features, bias=m.bias is not None)


_NUM_FILTERS = Param("numFilters", Int(min=1), positional=True, doc="number of filters, the output channels")


class _Convolution(LayerKind):
    """A convolution of `dims` dimensions; MATLAB's weights are filterSize x channels (per group)
    x filters (per group) x groups, torch's (filters, channels per group, *filterSize)."""

    category = "convolution"
    factors = {"weight": Factors(("weight",)), "bias": Factors(("bias",), l2=0.0)}  # MATLAB: no L2 on biases
    dims: ClassVar[int]

    def groups(self, args, channels: int) -> int:
        return 1

    def filters(self, args, groups: int) -> int:
        return args["numFilters"]

    def _geometry(self, args, inputs) -> tuple[Window, int, int]:
        window = Window.of(self.name, args, inputs, "filterSize", self.dims)
        groups = self.groups(args, window.input.channels)
        return window, groups, self.filters(args, groups)

    def infer(self, args, inputs):
        window, groups, filters = self._geometry(args, inputs)
        return Inferred(
            {"out": window.output(filters)},
            learnables=_learnables((filters, window.input.channels // groups, *window.size), filters, args),
        )

    def build(self, args, inputs):
        from torch import nn

        from graphdl.catalog._torch_modules import convolution

        window, groups, filters = self._geometry(args, inputs)
        channels = window.input.channels
        common = {
            "in_channels": channels,
            "out_channels": filters,
            "kernel_size": window.size,
            "stride": window.stride,
            "dilation": window.dilation,
            "bias": args["bias"],
        }
        if groups > 1:
            common["groups"] = groups
        if window.symmetric:
            conv = getattr(nn, f"Conv{self.dims}d")(**common, padding=window.padding)
        else:
            conv = getattr(convolution, f"PaddedConv{self.dims}d")(**common, pad=window.torch_pad)
        # MATLAB's fans count one group's channels and filters.
        area = math.prod(window.size)
        return _initialize(conv, args, area * channels // groups, area * filters // groups)

    def describe(self, args):
        return f"{args['numFilters']} " + describe_window("convolutions", args, "filterSize")

    def flops(self, args, inputs, inferred):
        out = inferred.outputs["out"]
        per_output = 2 * math.prod(args["filterSize"]) * inputs["in"].channels // self.groups(args, inputs["in"].channels)
        return out.numel * (per_output + (1 if args["bias"] else 0))


@register
class Convolution1d(_Convolution):
    name = "convolution1d"
    auto_name = "conv1d"
    dims = 1
    summary = "1-D convolution: numFilters filters of filterSize slid along the time of a sequence, or the width of a 1-D image"
    params = _window_params(1, (_NUM_FILTERS,))
    importers = {"torch.nn.Conv1d": _import_convolution}


@register
class Convolution2d(_Convolution):
    name = "convolution2d"
    auto_name = "conv"
    dims = 2
    summary = "2-D convolution: numFilters filters of filterSize slid over the image"
    params = _window_params(2, (_NUM_FILTERS,))
    importers = {"torch.nn.Conv2d": _import_convolution}


@register
class Convolution3d(_Convolution):
    name = "convolution3d"
    auto_name = "conv3d"
    dims = 3
    summary = "3-D convolution: numFilters filters of filterSize slid over a 3-D image"
    params = _window_params(3, (_NUM_FILTERS,))
    importers = {"torch.nn.Conv3d": _import_convolution}


@register
class GroupedConvolution2d(_Convolution):
    name = "groupedConvolution2d"
    auto_name = "groupedconv"
    dims = 2
    summary = (
        "2-D grouped convolution: the channels split into numGroups groups, each convolved with its own numFiltersPerGroup filters; "
        'numGroups="channel-wise" is a depthwise convolution (a group per channel)'
    )
    imported_by = ("torch.nn.Conv2d",)  # convolution2d's importer, for groups > 1
    params = _window_params(
        2,
        (
            Param("numFiltersPerGroup", Int(min=1), positional=True, doc="filters of each group; the output has numFiltersPerGroup * numGroups channels"),
            Param("numGroups", Groups(), positional=True, doc='number of groups, which must divide the input channels, or "channel-wise" for one per channel'),
        ),
    )

    def groups(self, args, channels):
        groups = channels if args["numGroups"] == "channel-wise" else args["numGroups"]
        if channels % groups:
            raise LayerProblem(
                f"{channels} input channels do not split into {groups} groups",
                code="E207",
                argument="numGroups",
                help='give a number of groups that divides the channels, or "channel-wise" for one group per channel',
            )
        return groups

    def filters(self, args, groups):
        return args["numFiltersPerGroup"] * groups

    def describe(self, args):
        groups = args["numGroups"]
        what = "channel-wise groups" if groups == "channel-wise" else counted(groups, "group")
        return f"{what} of {args['numFiltersPerGroup']} " + describe_window("convolutions", args, "filterSize")


class _TransposedConvolution(LayerKind):
    """MATLAB's transposed convolution: the output is (input - 1) * stride + filterSize, less the
    cropping (before and after). torch's ConvTranspose crops `padding` from both sides; uneven
    cropping crops the rest from its output."""

    category = "convolution"
    auto_name = "transposedconv"
    factors = {"weight": Factors(("weight",)), "bias": Factors(("bias",), l2=0.0)}  # MATLAB: no L2 on biases
    dims: ClassVar[int]

    def _geometry(self, args, inputs) -> tuple[Shape, tuple[tuple[int, int], ...], tuple[int | None, ...]]:
        shape = image_input(self.name, inputs, self.dims)
        window, stride, cropping = args["filterSize"], args["stride"], args["cropping"]
        if cropping == "same":
            if any(k < s for k, s in zip(window, stride)):
                raise LayerProblem(
                    f'cropping "same" needs filters at least as large as the stride, but they are {show_size(window)} at stride {show_size(stride)}',
                    code="E207",
                    argument="cropping",
                    help="use a filterSize of at least the stride, or give the cropping as numbers",
                )
            # The output is the input times the stride; an odd total crops the extra row or
            # column at the bottom or right, as MATLAB does.
            cropping = tuple(((k - s) // 2, k - s - (k - s) // 2) for k, s in zip(window, stride))
        sizes = []
        for n, k, s, (before, after) in zip(slid_sizes(shape), window, stride, cropping):
            full = None if n is None else (n - 1) * s + k
            if full is not None and before + after >= full:
                raise LayerProblem(
                    f"cropping {before + after} of the {full} outputs along a dimension leaves none",
                    code="E207",
                    argument="cropping",
                    help="crop less",
                )
            sizes.append(None if full is None else full - before - after)
        return shape, cropping, tuple(sizes)

    def infer(self, args, inputs):
        shape, _, sizes = self._geometry(args, inputs)
        filters = args["numFilters"]
        out = Shape.sequence(filters, sizes[0]) if shape.is_sequence else Shape.image(*sizes, filters)
        # torch's ConvTranspose weight: (input channels, filters, *filterSize)
        return Inferred({"out": out}, learnables=_learnables((shape.channels, filters, *args["filterSize"]), filters, args))

    def build(self, args, inputs):
        from torch import nn

        from graphdl.catalog._torch_modules import convolution

        shape, cropping, _ = self._geometry(args, inputs)
        channels, filters = shape.channels, args["numFilters"]
        even = tuple(min(before, after) for before, after in cropping)
        rest = tuple((before - e, after - e) for (before, after), e in zip(cropping, even))
        common = {
            "in_channels": channels,
            "out_channels": filters,
            "kernel_size": args["filterSize"],
            "stride": args["stride"],
            "padding": even,
            "bias": args["bias"],
        }
        if any(before or after for before, after in rest):
            conv = getattr(convolution, f"CroppedConvTranspose{self.dims}d")(**common, crop=rest)
        else:
            conv = getattr(nn, f"ConvTranspose{self.dims}d")(**common)
        # MATLAB counts a transposed convolution's fans the other way round: in from the filters.
        area = math.prod(args["filterSize"])
        return _initialize(conv, args, area * filters, area * channels)

    def describe(self, args):
        size = args["filterSize"]
        what = f"transposed convolutions of size {size[0]}" if len(size) == 1 else f"{show_size(size)} transposed convolutions"
        return f"{args['numFilters']} {what} with stride {show_size(args['stride'])} and cropping {show_padding(args['cropping'])}"

    def flops(self, args, inputs, inferred):
        # Every input element meets every filter weight, whatever is cropped after.
        products = 2 * inputs["in"].numel * math.prod(args["filterSize"]) * args["numFilters"]
        return products + (inferred.outputs["out"].numel if args["bias"] else 0)


def _transposed_params(dims: int) -> tuple[Param, ...]:
    return (
        Param("filterSize", Size(dims), positional=True, doc=_EXTENT[dims]),
        _NUM_FILTERS,
        Param("stride", Size(dims), 1, doc="the upsampling factor"),
        Param(
            "cropping",
            Padding1d() if dims == 1 else Padding(dims),
            0,
            doc='cropped from the output, before and after per dimension; "same" makes the output the input times the stride',
        ),
        *_initializers(),
    )


@register
class TransposedConv1d(_TransposedConvolution):
    name = "transposedConv1d"
    dims = 1
    summary = "1-D transposed convolution: upsamples along the time of a sequence, or the width of a 1-D image"
    params = _transposed_params(1)
    importers = {"torch.nn.ConvTranspose1d": _import_transposed}


@register
class TransposedConv2d(_TransposedConvolution):
    name = "transposedConv2d"
    dims = 2
    summary = "2-D transposed convolution: upsamples an image, (input - 1) * stride + filterSize less the cropping"
    params = _transposed_params(2)
    importers = {"torch.nn.ConvTranspose2d": _import_transposed}


@register
class TransposedConv3d(_TransposedConvolution):
    name = "transposedConv3d"
    dims = 3
    summary = "3-D transposed convolution: upsamples a 3-D image"
    params = _transposed_params(3)
    importers = {"torch.nn.ConvTranspose3d": _import_transposed}


@register
class FullyConnected(LayerKind):
    name = "fullyConnected"
    auto_name = "fc"
    category = "dense"
    factors = {"weight": Factors(("weight",)), "bias": Factors(("bias",), l2=0.0)}  # MATLAB: no L2 on biases
    summary = "Fully connected: multiplies the flattened input by a weight matrix and adds a bias (of a sequence: each step)"
    params = (
        Param("outputSize", Int(min=1), positional=True, doc="number of outputs"),
        *_initializers(),
    )
    importers = {"torch.nn.Linear": _import_linear}

    def infer(self, args, inputs):
        shape = inputs["in"]
        size = args["outputSize"]
        # As MATLAB's: an image is flattened; a sequence is taken a step at a time.
        out = Shape.sequence(size, shape.length) if shape.is_sequence else Shape.features(size)
        return Inferred({"out": out}, learnables=_learnables((size, shape.step.numel), size, args))

    def build(self, args, inputs):
        from torch import nn

        shape = inputs["in"]
        module = nn.Linear(shape.step.numel, args["outputSize"], bias=args["bias"])
        return _initialize(module, args, shape.step.numel, args["outputSize"])

    def generate(self, args, inputs, emit, x):
        import torch

        shape = inputs["in"]
        if shape.is_sequence:  # (batch, channels[, *spatial], time): each step on its own
            steps = emit.function(torch.flatten, emit.method("movedim", x, -1, 1), 2)
            return emit.method("transpose", emit.module(steps), 1, 2)
        if shape.format != "C":
            x = emit.function(torch.flatten, x, 1)
        return emit.module(x)

    def flops(self, args, inputs, inferred):
        return args["outputSize"] * (2 * inputs["in"].step.numel + (1 if args["bias"] else 0))

    def describe(self, args):
        n = args["outputSize"]
        return counted(n, "fully connected output")
