"""Layers that combine several inputs into one, and the split of the channels that undoes a depth
concatenation."""

from __future__ import annotations

from graphdl.catalog._arguments import Dimension, Int, Param, matlab_dimension
from graphdl.catalog._importing import LayerSpec, TracedTensor, layer_spec, refuse_if, show, size_of
from graphdl.catalog._registry import Inferred, LayerKind, LayerProblem, register
from graphdl.limits import LIMITS, raising


class _Combination(LayerKind):
    category = "combination"

    def inputs(self, args):
        return tuple(f"in{i}" for i in range(1, args["numInputs"] + 1))


def _num_inputs() -> Param:
    # Bounded before any port is named: `addition(2147483647)` would spend gigabytes on the names.
    limit = Int(min=2, max=LIMITS.ports, max_help=f"a layer has at most that many inputs: {raising('ports')}")
    return Param("numInputs", limit, 2, positional=True, doc="number of inputs, ports in1 ... inN")


def _listing(inputs) -> str:
    items = [f"{shape} ({port})" for port, shape in inputs.items()]
    return ", ".join(items[:-1]) + " and " + items[-1]


def _add(input, other, alpha=1) -> LayerSpec:
    refuse_if(alpha != 1, f"alpha={alpha}: graphdl's addition adds its inputs as they are")
    return layer_spec("addition", input, other)


def _sub(input, other, alpha=1) -> LayerSpec:
    refuse_if(alpha != 1, f"alpha={alpha}: graphdl's subtraction subtracts its second input as it is")
    return layer_spec("subtraction", input, other)


def _mul(input, other) -> LayerSpec:
    return layer_spec("multiplication", input, other)


def _cat(tensors, dim=0) -> LayerSpec | TracedTensor:
    """torch.cat along the channels: a depth concatenation of images, else a concatenation."""
    refuse_if(not isinstance(tensors, (tuple, list)), f"concatenates {show(tensors)}, not a list of tensors")
    rank = len(size_of(tensors[0]))
    refuse_if(dim % rank != 1, f"dim={dim}: graphdl imports concatenation along the channels, dim=1")
    if len(tensors) == 1:
        return tensors[0]
    if rank >= 4:
        return layer_spec("depthConcatenation", *tensors, numInputs=len(tensors))
    return layer_spec("concatenation", *tensors, dim="channel", numInputs=len(tensors))


def _chunk(input, chunks, dim) -> LayerSpec:
    """torch.chunk along the channels, into parts of one size."""
    size = size_of(input)
    refuse_if(dim % len(size) != 1, f"dim={dim}: graphdl's channelSplit splits along the channels, dim=1")
    refuse_if(not isinstance(chunks, int) or chunks < 2, f"chunks={show(chunks)}: graphdl's channelSplit makes 2 parts or more")
    refuse_if(size[1] % chunks != 0, f"chunks={chunks} of {size[1]} channels: torch.chunk makes parts of unequal sizes, graphdl's channelSplit equal ones")
    return layer_spec("channelSplit", input, numOutputs=chunks)


class _Elementwise(_Combination):
    params = (_num_inputs(),)
    noun: str  # "addition"

    def infer(self, args, inputs):
        shapes = set(inputs.values())
        if len(shapes) > 1:
            raise LayerProblem(
                f"{self.name} needs inputs of one size, but gets {_listing(inputs)}",
                code="E401",
                ports=tuple(inputs),
                help="resize one branch (e.g. a stride or a 1x1 convolution) so that the sizes meet",
            )
        return Inferred({"out": next(iter(shapes))})

    operator: str  # "add"

    def build(self, args, inputs):
        return None

    def generate(self, args, inputs, emit, *values):
        import operator

        total = values[0]
        for x in values[1:]:
            total = emit.function(getattr(operator, self.operator), total, x)
        return total

    def describe(self, args):
        return f"element-wise {self.noun} of {args['numInputs']} inputs"

    def flops(self, args, inputs, inferred):
        return inferred.outputs["out"].numel * (args["numInputs"] - 1)


@register
class Addition(_Elementwise):
    name = "addition"
    summary = "Adds its inputs elementwise; they must have one size"
    noun = "addition"
    operator = "add"
    importers = dict.fromkeys(("operator.add", "torch.add", "torch.Tensor.add"), _add)


@register
class Subtraction(_Elementwise):
    name = "subtraction"
    auto_name = "sub"
    summary = "Subtracts its second input from its first elementwise, in1 - in2; they must have one size"
    params = ()  # in1 - in2: a difference of more inputs would depend on their order
    noun = "subtraction"
    operator = "sub"
    importers = dict.fromkeys(("operator.sub", "torch.sub", "torch.Tensor.sub"), _sub)

    def inputs(self, args):
        return ("in1", "in2")

    def describe(self, args):
        return "element-wise subtraction, in1 - in2"

    def flops(self, args, inputs, inferred):
        return inferred.outputs["out"].numel


def _per_channel(shape) -> bool:
    """A 1x1xchannels image (1x1x1xchannels in 3-D): a gate with one value per channel."""
    return not shape.is_sequence and bool(shape.spatial) and all(n == 1 for n in shape.spatial)


@register
class Multiplication(_Elementwise):
    name = "multiplication"
    summary = "Multiplies its inputs elementwise; they must have one size, or be an image and per-channel gates (1x1xchannels) of its channels"
    noun = "multiplication"
    operator = "mul"
    importers = dict.fromkeys(("operator.mul", "torch.mul", "torch.Tensor.mul"), _mul)

    def infer(self, args, inputs):
        # Squeeze-and-excitation gates an image by a 1x1xchannels input, which torch's product
        # broadcasts over the image's pixels.
        shapes = set(inputs.values())
        images = {shape for shape in shapes if not _per_channel(shape)}
        if len(images) == 1:
            (image,) = images
            gates = shapes - images
            if not image.is_sequence and all(gate.format == image.format and gate.channels == image.channels for gate in gates):
                return Inferred({"out": image})
        return super().infer(args, inputs)


class _Concatenation(_Combination):
    def matlab_dim(self, args, first) -> int:
        raise NotImplementedError

    def flops(self, args, inputs, inferred):
        return 0

    def build(self, args, inputs):
        return None

    def generate(self, args, inputs, emit, *values):
        import torch

        first = next(iter(inputs.values()))
        return emit.function(torch.cat, values, first.torch_dim(self.matlab_dim(args, first)))

    def infer(self, args, inputs):
        first = next(iter(inputs.values()))
        dim = self.matlab_dim(args, first)
        if any(shape.format != first.format for shape in inputs.values()):
            raise LayerProblem(f"{self.name} needs inputs of one layout, but gets {_listing(inputs)}", code="E401", ports=tuple(inputs))
        try:
            at = first.index(dim)
        except ValueError as e:
            raise LayerProblem(f"{self.name}: {e}", code="E207", argument="dim") from None
        off_axis = {shape.sizes[:at] + shape.sizes[at + 1 :] for shape in inputs.values()}
        if len(off_axis) > 1:
            raise LayerProblem(
                f"{self.name} along dimension {dim} needs inputs that agree in every other dimension, but gets {_listing(inputs)}",
                code="E401",
                ports=tuple(inputs),
            )
        along = [shape.sizes[at] for shape in inputs.values()]
        sizes = list(first.sizes)
        sizes[at] = None if None in along else sum(along)
        return Inferred({"out": type(first)(tuple(sizes), first.format)})


@register
class Concatenation(_Concatenation):
    name = "concatenation"
    auto_name = "concat"
    summary = 'Concatenates its inputs along a dimension: "channel", "time", "height", "width", "depth", or numbered as MATLAB does'
    params = (
        Param(
            "dim", Dimension(), positional=True, doc="the dimension to concatenate along: a name or MATLAB's number (for images: height 1, width 2, channels 3)"
        ),
        _num_inputs(),
    )
    importers = dict.fromkeys(("torch.cat", "torch.concat"), _cat)

    def matlab_dim(self, args, first):
        dim = matlab_dimension(args["dim"], first)
        if dim is None:
            raise LayerProblem(f"concatenation along the {args['dim']}, but its inputs ({first}) have none", code="E207", argument="dim")
        return dim

    def describe(self, args):
        return f"concatenation of {args['numInputs']} inputs along dimension {args['dim']}"


@register
class DepthConcatenation(_Concatenation):
    name = "depthConcatenation"
    auto_name = "depthcat"
    summary = "Concatenates its inputs along the channels; they must agree in height and width"
    params = (_num_inputs(),)
    imported_by = ("torch.cat", "torch.concat")  # concatenation's importer, for images along their channels

    def matlab_dim(self, args, first):
        return first.format.index("C") + 1

    def describe(self, args):
        return f"depth concatenation of {args['numInputs']} inputs"


@register
class ChannelSplit(LayerKind):
    """ShuffleNetV2's split, x.chunk(numOutputs, dim=1): the channels in numOutputs contiguous
    parts of one size, out1 the first; the inverse of a depth concatenation."""

    name = "channelSplit"
    auto_name = "split"
    category = "reshape"
    summary = "Splits the channels into numOutputs equal contiguous parts, outputs out1 ... outN (ShuffleNetV2's x.chunk(2, dim=1))"
    params = (
        Param(
            "numOutputs",
            Int(min=2, max=LIMITS.ports, max_help=f"a layer has at most that many outputs: {raising('ports')}"),
            2,
            positional=True,
            doc="number of parts, ports out1 ... outN; it must divide the channels",
        ),
    )
    importers = dict.fromkeys(("torch.chunk", "torch.Tensor.chunk"), lambda input, chunks, dim=0: _chunk(input, chunks, dim))

    def outputs(self, args):
        return tuple(f"out{i}" for i in range(1, args["numOutputs"] + 1))

    def infer(self, args, inputs):
        shape, parts = inputs["in"], args["numOutputs"]
        if shape.channels % parts:
            raise LayerProblem(
                f"channelSplit into {parts} parts needs channels that split evenly, but gets {shape.channels}",
                code="E207",
                argument="numOutputs",
                help="use a number of outputs that divides the channels",
            )
        part = shape.with_channels(shape.channels // parts)
        return Inferred(dict.fromkeys(self.outputs(args), part))

    def build(self, args, inputs):
        return None

    def generate(self, args, inputs, emit, x):
        import torch

        return emit.function(torch.chunk, x, args["numOutputs"], 1)

    def flops(self, args, inputs, inferred):
        return 0

    def describe(self, args):
        return f"channel split into {args['numOutputs']} parts"
