"""The pieces of vision transformers and generators that are neither attention nor convolution:
patch embedding (an image cut into patches, each projected: ViT's stem), embedding concatenation
(a learned class token before a sequence), 1-D indexing (one element of a sequence: the class
token's output), and project-and-reshape (features projected and reshaped to an image: a GAN
generator's first layer). MATLAB's patchEmbeddingLayer, embeddingConcatenationLayer,
indexing1dLayer and projectAndReshapeLayer.

Learnables are in torch's layout, as every kind's: patchEmbedding's are an nn.Conv2d's with
kernel and stride the patch size, so torchvision's ViT `conv_proj` loads into it as it is;
projectAndReshape's an nn.Linear's, its output read as (channels, height, width), as
`linear(x).view(N, c, h, w)` reads it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from graphdl.catalog._arguments import ArgType, ArgumentProblem, Choice, Int, IntList, Param, Size
from graphdl.catalog._registry import Factors, Inferred, LayerKind, LayerProblem, register
from graphdl.catalog._sequence import sequence_of_features
from graphdl.catalog._shape import Shape
from graphdl.catalog._window import describe_shape, image_input
from graphdl.syntax import show_value

WEIGHT_INITIALIZERS = ("glorot", "he", "narrow-normal", "zeros", "ones")
BIAS_INITIALIZERS = ("zeros", "ones", "narrow-normal")
_WEIGHT_AND_BIAS = {"weight": Factors(("weight",)), "bias": Factors(("bias",), l2=0.0)}  # MATLAB: no L2 on biases


def _initializers(weights: str = "glorot") -> tuple[Param, ...]:
    return (Param("weightsInitializer", Choice(WEIGHT_INITIALIZERS), weights), Param("biasInitializer", Choice(BIAS_INITIALIZERS), "zeros"))


def _initialize(module, args, fan_in: int, fan_out: int):
    from graphdl.catalog._torch_modules.convolution import initialize

    initialize(module.weight, args["weightsInitializer"], fan_in, fan_out)
    initialize(module.bias, args["biasInitializer"], fan_in, fan_out)
    return module


@register
class PatchEmbedding(LayerKind):
    """ViT's stem: an image cut into patches that do not overlap, each projected to outputSize
    channels by the same weights (a convolution of kernel and stride the patch size), the grid of
    patches then flattened to a sequence. "row-major" (the default) takes the patches row by row,
    left to right, as torchvision's VisionTransformer does (`conv_proj(x).flatten(2)`);
    "column-major", MATLAB's default, column by column."""

    name = "patchEmbedding"
    auto_name = "patchembed"
    category = "convolution"
    factors = _WEIGHT_AND_BIAS
    summary = (
        "Cuts an image into patchSize patches and projects each to outputSize channels (a convolution of kernel and stride patchSize): "
        "a sequence of (height/ph)*(width/pw) steps, patches taken row by row (torchvision's ViT), or column by column"
    )
    no_importer = (
        "PyTorch has no such module: torchvision writes it as an nn.Conv2d of stride its kernel and a flatten(2).transpose(1, 2), "
        "which from_torch does not import as a sequence"
    )
    params = (
        Param("patchSize", Size(2), positional=True, doc="[height, width] of each patch, or one size for both; they must divide the image's"),
        Param("outputSize", Int(min=1), positional=True, doc="channels of each patch's embedding"),
        Param(
            "spatialFlattenMode",
            Choice(("row-major", "column-major")),
            "row-major",
            doc='order of the patches: "row-major" row by row, as torchvision\'s ViT; "column-major" column by column, as MATLAB\'s default',
        ),
        *_initializers(),
    )

    def _grid(self, args, inputs) -> tuple[Shape, tuple[int, int]]:
        shape = image_input(self.name, inputs)
        patch = args["patchSize"]
        for size, p, what in zip(shape.spatial, patch, ("height", "width")):
            if size % p:
                raise LayerProblem(
                    f"patchEmbedding cuts its {shape} input into {patch[0]}x{patch[1]} patches, but its {what} {size} is not a multiple of {p}",
                    code="E207",
                    argument="patchSize",
                    help=f"give a patch {what} that divides {size}, or resize or crop the image to a multiple of {p}",
                )
        return shape, (shape.spatial[0] // patch[0], shape.spatial[1] // patch[1])

    def infer(self, args, inputs):
        shape, (rows, columns) = self._grid(args, inputs)
        out = args["outputSize"]
        learnables = {"weight": (out, shape.channels, *args["patchSize"]), "bias": (out,)}
        return Inferred({"out": Shape.sequence(out, rows * columns)}, learnables=learnables)

    def build(self, args, inputs):
        from torch import nn

        channels, patch, out = inputs["in"].channels, args["patchSize"], args["outputSize"]
        conv = nn.Conv2d(channels, out, patch, stride=patch)
        area = math.prod(patch)
        return _initialize(conv, args, area * channels, area * out)

    def generate(self, args, inputs, emit, x):
        patches = emit.module(x)  # (batch, outputSize, rows, columns)
        if args["spatialFlattenMode"] == "column-major":
            patches = emit.method("transpose", patches, 2, 3)
        return emit.method("flatten", patches, 2)  # (batch, outputSize, steps): a sequence

    def flops(self, args, inputs, inferred):
        per_output = 2 * math.prod(args["patchSize"]) * inputs["in"].channels + 1
        return inferred.outputs["out"].numel * per_output

    def describe(self, args):
        ph, pw = args["patchSize"]
        return f"{ph}x{pw} patches embedded in {args['outputSize']} channels"


@register
class EmbeddingConcatenation(LayerKind):
    """A learned embedding, one vector of the input's channels, put before the first step of a
    sequence: ViT's class token, whose output at the end of the encoder is the classifier's input
    (indexing1d("first")). Its `weight` is the token as a vector of the channels: torchvision's
    `class_token` (1, 1, C) reshaped to (C,)."""

    name = "embeddingConcatenation"
    auto_name = "embedconcat"
    category = "attention"
    factors = {"weights": Factors(("weight",))}  # MATLAB's WeightsLearnRateFactor, WeightsL2Factor
    summary = "Puts a learned embedding (a class token of the input's channels) before the first step of a sequence: T steps become T + 1"
    no_importer = "PyTorch has no such module: a forward concatenates a parameter to its input (torch.cat), which from_torch does not import"
    params = (
        Param(
            "weightsInitializer",
            Choice(WEIGHT_INITIALIZERS),
            "zeros",
            doc='"zeros", as torchvision\'s ViT starts its class token (MATLAB\'s default is "narrow-normal")',
        ),
    )

    def infer(self, args, inputs):
        shape = sequence_of_features(self.name, inputs)
        steps = None if shape.length is None else shape.length + 1
        return Inferred({"out": Shape.sequence(shape.channels, steps)}, learnables={"weight": (shape.channels,)})

    def build(self, args, inputs):
        from graphdl.catalog._torch_modules.convolution import initialize
        from graphdl.catalog._torch_modules.transformer import EmbeddingConcatenation

        channels = inputs["in"].channels
        module = EmbeddingConcatenation(channels)
        initialize(module.weight, args["weightsInitializer"], channels, channels)
        return module

    def flops(self, args, inputs, inferred):
        return 0  # a copy

    def describe(self, args):
        return "learned embedding before the first step"


@dataclass(frozen=True)
class Index1d(ArgType):
    """MATLAB's Index of indexing1dLayer: "first", "last", or a position counted from 1."""

    expected = '"first", "last" or a positive integer (counted from 1)'

    def normalize(self, value: object) -> int | str:
        if value in ("first", "last"):
            return value
        if isinstance(value, str):
            raise ArgumentProblem(f"expected {self.expected}, found {show_value(value)}", "E207")
        try:
            return Int(min=1).normalize(value)
        except ArgumentProblem as problem:
            raise ArgumentProblem(f"expected {self.expected}, found {show_value(value)}", problem.code) from None


@register
class Indexing1d(LayerKind):
    """One step of a sequence, which stops being a sequence: ViT's classifier reads the class
    token's output, `x[:, 0]` in torchvision's (batch, steps, channels)."""

    name = "indexing1d"
    auto_name = "index1d"
    category = "reshape"
    summary = 'Takes one step of a sequence ("first", "last", or its position counted from 1): a sequence of features becomes features, of images an image'
    no_importer = "PyTorch has no such module: a forward indexes the tensor (x[:, 0]), which from_torch does not import"
    params = (Param("index", Index1d(), "first", positional=True, doc='"first", "last", or the position of the step, counted from 1'),)

    def infer(self, args, inputs):
        shape = inputs["in"]
        if not shape.is_sequence:
            raise LayerProblem(
                f"indexing1d takes one step of a sequence, but gets {describe_shape(shape)}",
                help="give it a sequence, such as a selfAttention's output; features or an image have no steps to index",
            )
        index = args["index"]
        if isinstance(index, int) and shape.length is not None and index > shape.length:
            raise LayerProblem(
                f"indexing1d takes step {index} of a sequence of {shape.length} steps",
                code="E207",
                argument="index",
                help=f'give a position from 1 to {shape.length}, or "last"',
            )
        return Inferred({"out": shape.step})

    def build(self, args, inputs):
        return None

    def generate(self, args, inputs, emit, x):
        index = args["index"]
        position = 0 if index == "first" else -1 if index == "last" else index - 1
        return emit.method("select", x, -1, position)  # time is the last dimension at run time

    def flops(self, args, inputs, inferred):
        return 0

    def describe(self, args):
        index = args["index"]
        return f"the {index} step" if isinstance(index, str) else f"step {index}"


@register
class ProjectAndReshape(LayerKind):
    """A GAN generator's first layer: features (a latent vector, or a 1x1xC image) projected by a
    fully connected layer to prod(outputSize) values, reshaped to an image of outputSize (MATLAB's
    order: height, width, channels). The projection's output j is read in torch's order, channel
    slowest, width fastest: `nn.Linear` then `.view(N, c, h, w)` (for [h, w, c]), which is what
    torch generators (DCGAN's) write. MATLAB reshapes the same vector column-major, height
    fastest: weights from MATLAB need their rows permuted."""

    name = "projectAndReshape"
    auto_name = "proj"
    category = "dense"
    factors = _WEIGHT_AND_BIAS
    summary = (
        "Projects features to prod(outputSize) values and reshapes them to an image of outputSize ([height, width, channels]), "
        "as nn.Linear then .view(N, channels, height, width)"
    )
    no_importer = "PyTorch has no such module: a forward writes nn.Linear then a view to an image, which from_torch does not import"
    params = (
        Param("outputSize", IntList((3, 4)), positional=True, doc="[height, width, channels] (or [height, width, depth, channels]) of the output image"),
        *_initializers(),
    )

    def _features(self, inputs) -> int:
        shape = inputs["in"]
        if shape.is_sequence or any(size != 1 for size in shape.spatial):
            raise LayerProblem(
                f"projectAndReshape projects features (or a 1x1 image of channels), but gets {describe_shape(shape)}",
                help="a featureInput or a fullyConnected layer gives features; a flatten layer makes them of an image",
            )
        return shape.channels

    def infer(self, args, inputs):
        features = self._features(inputs)
        out = Shape.image(*args["outputSize"])
        return Inferred({"out": out}, learnables={"weight": (out.numel, features), "bias": (out.numel,)})

    def build(self, args, inputs):
        from torch import nn

        features, values = self._features(inputs), math.prod(args["outputSize"])
        return _initialize(nn.Linear(features, values), args, features, values)

    def generate(self, args, inputs, emit, x):
        if inputs["in"].format != "C":
            x = emit.method("flatten", x, 1)
        out = Shape.image(*args["outputSize"])
        return emit.method("unflatten", emit.module(x), 1, out.torch_size(1)[1:])  # (batch, c, h, w)

    def flops(self, args, inputs, inferred):
        return math.prod(args["outputSize"]) * (2 * inputs["in"].channels + 1)

    def describe(self, args):
        return "projection reshaped to " + "x".join(map(str, args["outputSize"]))
