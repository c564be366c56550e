"""Layers that change the layout or size of an observation, not its values: flatten, reshape,
permute, resize, crop and channel shuffle."""

from __future__ import annotations

import math
from dataclasses import dataclass

from graphdl.catalog._arguments import ArgType, ArgumentProblem, Choice, Float, Int, IntList, Param, Size
from graphdl.catalog._importing import BATCH, LayerSpec, TracedTensor, compact, layer_spec, per_dimension, refuse_if, show, size_of
from graphdl.catalog._registry import Inferred, LayerKind, LayerProblem, register
from graphdl.catalog._shape import Shape
from graphdl.catalog._window import describe_shape, image_input


class _Layout(LayerKind):
    category = "reshape"

    def flops(self, args, inputs, inferred):
        return 0


def _not_a_sequence(kind: str, shape: Shape) -> None:
    if shape.is_sequence:
        raise LayerProblem(
            f"{kind} works on one observation at a time, but gets {describe_shape(shape)}", help="apply it to the steps before they form a sequence"
        )


def _import_flatten(input, start_dim=0, end_dim=-1) -> LayerSpec:
    rank = len(size_of(input))
    refuse_if(
        start_dim != 1 or end_dim not in (-1, rank - 1),
        f"start_dim={start_dim}, end_dim={end_dim}: graphdl flattens all but the batch, as torch.flatten(x, 1)",
    )
    return layer_spec("flatten", input)


def _import_view(input, *shape) -> LayerSpec:
    """`x.view(x.size(0), -1)` and its variants: a flatten of all but the batch."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    rest = math.prod(size_of(input)[1:])
    flattens = len(shape) == 2 and ((shape[0] is BATCH and shape[1] in (-1, rest)) or (shape[0] == -1 and shape[1] == rest))
    refuse_if(not flattens, f"to {', '.join(map(show, shape))}: graphdl imports a view or reshape that flattens all but the batch, x.view(x.size(0), -1)")
    return layer_spec("flatten", input)


def _import_upsample(m, x: TracedTensor) -> LayerSpec:
    refuse_if(len(x.size) != 4, f"graphdl resizes 2-D images (resize2d), not a tensor of size {x.size}")
    refuse_if(m.mode not in ("nearest", "bilinear"), f'mode="{m.mode}": graphdl\'s resize2d interpolates by "nearest" or "bilinear" only')
    refuse_if(bool(m.align_corners), "align_corners=True: graphdl's resize2d aligns pixel centres (align_corners=False)")
    if m.size is not None:
        return layer_spec("resize2d", x, outputSize=compact(per_dimension(m.size, 2)), method=m.mode)
    scales = set(per_dimension(m.scale_factor, 2))
    scale = next(iter(scales))
    # resize2d computes its output size from the scale; torch interpolates with the scale
    # itself, which is the same only for a whole factor.
    refuse_if(len(scales) != 1 or not float(scale).is_integer(), f"scale_factor={m.scale_factor}: graphdl scales height and width by one whole factor")
    return layer_spec("resize2d", x, scale=int(scale), method=m.mode)


@register
class Flatten(_Layout):
    name = "flatten"
    summary = "Flattens each observation into a vector of features"
    importers = {
        "torch.nn.Flatten": lambda m, x: _import_flatten(x, m.start_dim, m.end_dim),
        **dict.fromkeys(("torch.flatten", "torch.Tensor.flatten"), _import_flatten),
        **dict.fromkeys(("torch.Tensor.view", "torch.Tensor.reshape"), _import_view),
        "torch.reshape": lambda input, shape: _import_view(input, shape),
    }

    def infer(self, args, inputs):
        _not_a_sequence(self.name, inputs["in"])
        return Inferred({"out": Shape.features(inputs["in"].numel)})

    def build(self, args, inputs):
        from torch import nn

        return nn.Flatten() if inputs["in"].format != "C" else None

    def describe(self, args):
        return "flatten"


@register
class Reshape(_Layout):
    name = "reshape"
    summary = "Reshapes each observation to outputSize (MATLAB's order: height, width, channels), taking its elements in PyTorch's order"
    params = (Param("outputSize", IntList((1, 2, 3, 4)), positional=True, doc="[channels], [height, width, channels] or [height, width, depth, channels]"),)
    no_importer = "not yet: from_torch imports a view or reshape only as the flatten of all but the batch"

    def infer(self, args, inputs):
        shape = inputs["in"]
        _not_a_sequence(self.name, shape)
        size = args["outputSize"]
        out = Shape.features(size[0]) if len(size) == 1 else Shape.image(*size)
        if out.numel != shape.numel:
            raise LayerProblem(
                f"cannot reshape {shape} ({shape.numel} elements) to {out} ({out.numel} elements)",
                code="E207",
                argument="outputSize",
                help=f"give sizes whose product is {shape.numel}",
            )
        return Inferred({"out": out})

    def build(self, args, inputs):
        from graphdl.catalog._torch_modules.reshape import Reshape

        return Reshape(self.infer(args, inputs).outputs["out"].torch_size(1)[1:])

    def describe(self, args):
        return "reshape to " + "x".join(map(str, args["outputSize"]))


@register
class Permute(_Layout):
    name = "permute"
    summary = "Reorders the dimensions of each observation (MATLAB's numbering: spatial ones, then channels); the labels stay in place"
    params = (Param("order", IntList(tuple(range(1, 5))), positional=True, doc="a permutation of 1..n: output dimension i is input dimension order(i)"),)
    no_importer = "not yet: from_torch imports no permute or transpose"

    def infer(self, args, inputs):
        shape = inputs["in"]
        _not_a_sequence(self.name, shape)
        order = args["order"]
        if sorted(order) != list(range(1, len(shape.sizes) + 1)):
            raise LayerProblem(f"permute needs a permutation of 1..{len(shape.sizes)} for {shape}, not {list(order)}", code="E207", argument="order")
        return Inferred({"out": Shape(tuple(shape.sizes[i - 1] for i in order), shape.format)})

    def build(self, args, inputs):
        from graphdl.catalog._torch_modules.reshape import Permute

        shape = inputs["in"]
        # Where each MATLAB dimension lives in the run-time tensor, then that reordered.
        torch_of = [shape.torch_dim(d) for d in range(1, len(shape.sizes) + 1)]
        dims = [0] * (len(shape.sizes) + 1)
        for position, source in enumerate(args["order"]):
            dims[torch_of[position]] = torch_of[source - 1]
        return Permute(tuple(dims))

    def describe(self, args):
        return "permute " + str(list(args["order"]))


@register
class Resize2d(_Layout):
    name = "resize2d"
    auto_name = "resize"
    summary = 'Resizes images by a scale or to an outputSize, by "nearest" or "bilinear" interpolation'
    params = (
        Param("scale", Float(min=0), None, doc="a factor for height and width (floor of size * scale)"),
        Param("outputSize", Size(2), None, doc="[height, width]"),
        Param("method", Choice(("nearest", "bilinear")), "nearest"),
    )
    importers = {"torch.nn.Upsample": _import_upsample}

    def infer(self, args, inputs):
        shape = image_input(self.name, inputs)
        if (args["scale"] is None) == (args["outputSize"] is None):
            raise LayerProblem("resize2d needs a scale or an outputSize, not both and not neither", code="E207", argument="scale")
        size = args["outputSize"] or tuple(math.floor(n * args["scale"]) for n in shape.spatial)
        if min(size) < 1:
            raise LayerProblem(f"resizing {shape} by {args['scale']:g} leaves no pixel", code="E402", argument="scale")
        return Inferred({"out": Shape.image(*size, shape.channels)})

    def build(self, args, inputs):
        from graphdl.catalog._torch_modules.reshape import Resize

        return Resize(self.infer(args, inputs).outputs["out"].spatial, args["method"])

    def flops(self, args, inputs, inferred):
        return inferred.outputs["out"].numel * (1 if args["method"] == "nearest" else 8)

    def describe(self, args):
        how = f"by {args['scale']:g}" if args["scale"] is not None else "to " + "x".join(map(str, args["outputSize"]))
        return f"{args['method']} resize {how}"


@dataclass(frozen=True)
class CropMode(ArgType):
    expected = '"centercrop" or [x, y] (positive integers)'

    def normalize(self, value: object):
        if value == "centercrop":
            return value
        try:
            return IntList((2,)).normalize(value)
        except ArgumentProblem:
            raise self.wrong(value) from None


@register
class Crop2d(_Layout):
    name = "crop2d"
    auto_name = "crop"
    summary = "Crops its input `in` to the height and width of its input `ref`, at the centre or at [x, y] (1-based)"
    params = (Param("mode", CropMode(), "centercrop", positional=True, doc='"centercrop", or [x, y]: the column and row of the top left corner'),)
    no_importer = "PyTorch has no layer that crops to the size of a second input; a forward writes it as slicing, which from_torch does not import"

    def inputs(self, args):
        return ("in", "ref")

    def offsets(self, args, inputs) -> tuple[int, int]:
        shape, ref = image_input(self.name, {"in": inputs["in"]}), image_input(self.name, {"in": inputs["ref"]})
        if any(r > n for r, n in zip(ref.spatial, shape.spatial)):
            raise LayerProblem(f"crop2d cannot crop {shape} to the larger {ref}", code="E402", ports=("in", "ref"))
        if args["mode"] == "centercrop":
            return tuple((n - r) // 2 for n, r in zip(shape.spatial, ref.spatial))
        x, y = args["mode"]
        top, left = y - 1, x - 1
        if top + ref.spatial[0] > shape.spatial[0] or left + ref.spatial[1] > shape.spatial[1]:
            raise LayerProblem(f"a {ref.spatial[0]}x{ref.spatial[1]} crop at [{x}, {y}] leaves {shape}", code="E402", argument="mode")
        return top, left

    def infer(self, args, inputs):
        self.offsets(args, inputs)
        return Inferred({"out": inputs["ref"].with_channels(inputs["in"].channels)})

    def build(self, args, inputs):
        from graphdl.catalog._torch_modules.reshape import Crop

        return Crop(self.offsets(args, inputs), inputs["ref"].spatial)

    def describe(self, args):
        return "center crop" if args["mode"] == "centercrop" else f"crop at {list(args['mode'])}"


@register
class ChannelShuffle(_Layout):
    """ShuffleNet's channel shuffle: the channels, in numGroups groups, interleaved, so that the
    next grouped convolution mixes the groups. Written as the reshape, transpose and flatten that
    torch's ChannelShuffle computes, which export to ONNX and trace for any batch."""

    name = "channelShuffle"
    auto_name = "shuffle"
    summary = "Interleaves the channels of numGroups groups (ShuffleNet): channel g*n + i becomes channel i*numGroups + g"
    params = (Param("numGroups", Int(min=1), positional=True, doc="number of groups of channels, which must divide the channels"),)
    importers = {"torch.nn.ChannelShuffle": lambda m, x: layer_spec("channelShuffle", x, numGroups=m.groups)}

    def infer(self, args, inputs):
        shape = inputs["in"]
        if shape.channels % args["numGroups"]:
            raise LayerProblem(
                f"channelShuffle of {args['numGroups']} groups needs channels that split into them, but gets {shape.channels}",
                code="E207",
                argument="numGroups",
                help="use a number of groups that divides the channels",
            )
        return Inferred({"out": shape})

    def build(self, args, inputs):
        return None

    def generate(self, args, inputs, emit, x):
        groups = args["numGroups"]
        grouped = emit.method("unflatten", x, 1, (groups, inputs["in"].channels // groups))
        return emit.method("flatten", emit.method("transpose", grouped, 1, 2), 1, 2)

    def describe(self, args):
        return f"channel shuffle of {args['numGroups']} groups"
