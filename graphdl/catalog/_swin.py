"""The Swin Transformer's layers (torchvision.models.swin_transformer, V1): attention within
shifted windows of an image, and the merging of 2x2 patches that halves its height and width.

graphdl's images are (batch, channels, height, width) at run time; torchvision's Swin works on
(batch, height, width, channels). Each layer here moves the channels last and back itself, and
keeps torchvision's parameter names, so that a torchvision block's state_dict entries load one for
one. The rest of a Swin block is other kinds': layerNormalization(operationDimension="channel-only")
is its LayerNorm over the channels, a 1x1 convolution2d its Linear, stochasticDepth its drop path.
"""

from __future__ import annotations

import math

from graphdl.catalog._arguments import Float, Int, Param, Size
from graphdl.catalog._registry import Inferred, LayerKind, LayerProblem, register
from graphdl.catalog._shape import Shape
from graphdl.catalog._window import image_input, show_size
from graphdl.diagnostics import counted

_TORCHVISION = "torchvision's {} is torchvision's, and graphdl imports torch's modules only"


def _padded(size: tuple[int, int], window: tuple[int, int]) -> tuple[int, int]:
    """The image's size padded at the bottom and right to whole windows, as torchvision pads it."""
    return tuple(math.ceil(n / w) * w for n, w in zip(size, window))


@register
class ShiftedWindowAttention(LayerKind):
    """torchvision's ShiftedWindowAttention: the image padded to whole windows, shifted
    cyclically by shiftSize (masking attention between the regions the shift brings together),
    cut into windows of windowSize, multi-head self-attention within each window with a learnt
    bias per head for each relative position, the heads projected, and all undone. Where one
    window covers a whole (padded) dimension, the shift along it is 0, as torchvision makes it."""

    name = "shiftedWindowAttention"
    auto_name = "windowattention"
    category = "attention"
    summary = (
        "Swin's shifted-window multi-head self-attention on an image: attention within windows of windowSize pixels, "
        "shifted cyclically by shiftSize, with a relative position bias (torchvision's ShiftedWindowAttention)"
    )
    params = (
        Param("numHeads", Int(min=1), positional=True, doc="number of heads; it must divide the channels"),
        Param("windowSize", Size(2), positional=True, doc="[height, width] of each window (Swin's 7)"),
        Param("shiftSize", Size(2, min=0), 0, doc="[down, right] cyclic shift, smaller than windowSize (Swin's alternate blocks: half the window)"),
    )
    no_importer = _TORCHVISION.format("ShiftedWindowAttention")

    def infer(self, args, inputs):
        shape = image_input(self.name, inputs)
        heads, window, shift = args["numHeads"], args["windowSize"], args["shiftSize"]
        if shape.channels % heads:
            raise LayerProblem(
                f"shiftedWindowAttention of {counted(heads, 'head')} needs channels that split into them, but gets {shape.channels}",
                code="E207",
                argument="numHeads",
                help="use a number of heads that divides the channels",
            )
        if any(s >= w for s, w in zip(shift, window)):
            raise LayerProblem(
                f"shiftSize {show_size(shift)} must be smaller than windowSize {show_size(window)} in each dimension",
                code="E207",
                argument="shiftSize",
                help="Swin shifts by half the window: shiftSize=floor(windowSize / 2), or 0",
            )
        channels = shape.channels
        table = ((2 * window[0] - 1) * (2 * window[1] - 1), heads)
        learnables = {
            "qkv.weight": (3 * channels, channels),
            "qkv.bias": (3 * channels,),
            "proj.weight": (channels, channels),
            "proj.bias": (channels,),
            "relative_position_bias_table": table,
        }
        return Inferred({"out": shape}, learnables=learnables)

    def build(self, args, inputs):
        from graphdl.catalog._torch_modules.swin import ShiftedWindowAttention as Module

        shape = inputs["in"]
        return Module(shape.channels, args["numHeads"], args["windowSize"], args["shiftSize"], shape.spatial)

    def flops(self, args, inputs, inferred):
        # Over the padded image: the projections to queries, keys and values and back (with their
        # biases); per window, each pair of its tokens: a query times a key and a weighted value,
        # and per head the bias, the mask and the softmax (about five operations).
        shape, window = inputs["in"], args["windowSize"]
        channels, heads = shape.channels, args["numHeads"]
        tokens = math.prod(_padded(shape.spatial, window))
        per_window = math.prod(window)
        projections = tokens * (3 * channels * (2 * channels + 1) + channels * (2 * channels + 1))
        return projections + tokens * per_window * (4 * channels + 5 * heads)

    def describe(self, args):
        shift = args["shiftSize"]
        shifted = f", shifted by {show_size(shift)}" if any(shift) else ""
        return f"{show_size(args['windowSize'])} window attention with {counted(args['numHeads'], 'head')}{shifted}"


@register
class PatchMerging(LayerKind):
    """torchvision's PatchMerging: between Swin's stages, each 2x2 neighbourhood's channels
    concatenated (top left, bottom left, top right, bottom right), layer-normalised over those
    4C channels and reduced by a linear map without bias to 2C."""

    name = "patchMerging"
    auto_name = "patchmerging"
    category = "dense"
    summary = "Swin's patch merging: concatenates each 2x2 neighbourhood's channels, layer-normalises them and maps 4C to 2C; halves height and width"
    # As layerNormalization's: any positive epsilon (torchvision's is nn.LayerNorm's 1e-5).
    params = (Param("epsilon", Float(min=1e-12), 1e-5, doc="added to the variance of its layer normalisation (at least 1e-12)"),)
    no_importer = _TORCHVISION.format("PatchMerging")

    def infer(self, args, inputs):
        shape = image_input(self.name, inputs)
        channels = shape.channels
        # Odd sizes are padded by a row or column of zeros, as torchvision pads them.
        out = Shape.image(*(math.ceil(n / 2) for n in shape.spatial), 2 * channels)
        learnables = {"reduction.weight": (2 * channels, 4 * channels), "norm.weight": (4 * channels,), "norm.bias": (4 * channels,)}
        return Inferred({"out": out}, learnables=learnables)

    def build(self, args, inputs):
        from graphdl.catalog._torch_modules.swin import PatchMerging as Module

        return Module(inputs["in"].channels, args["epsilon"])

    def flops(self, args, inputs, inferred):
        # Per merged pixel: the layer normalisation of 4C values (7 each), the 4C-to-2C product.
        out = inferred.outputs["out"]
        pixels, channels = math.prod(out.spatial), inputs["in"].channels
        return pixels * (7 * 4 * channels + 2 * 4 * channels * 2 * channels)

    def describe(self, args):
        return "patch merging"
