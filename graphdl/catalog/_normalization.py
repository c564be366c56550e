"""Normalisation and regularisation layers."""

from __future__ import annotations

import math

from graphdl.catalog._arguments import Float, Int, Param
from graphdl.catalog._registry import Factors, Inferred, LayerKind, LayerProblem, register
from graphdl.catalog._window import describe_shape


def _epsilon() -> Param:
    return Param("epsilon", Float(min=1e-5), 1e-5, doc="added to the variance (MATLAB's minimum is 1e-5)")


# MATLAB's Scale and Offset are torch's weight and bias.
SCALE_AND_OFFSET = {"scale": Factors(("weight",)), "offset": Factors(("bias",))}


def _scale_and_offset(shape) -> dict[str, tuple[int, ...]]:
    """MATLAB's Scale and Offset, one per channel, by torch's names."""
    return {"weight": (shape.channels,), "bias": (shape.channels,)}


def _divisors(n: int) -> list[int]:
    # Up to the square root: a channel count may be any int32.
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return small + [n // d for d in reversed(small) if d * d != n]


class _Normalization(LayerKind):
    """A normalisation that computes its statistics from each observation, in training and at
    inference alike, then scales and shifts each channel."""

    category = "normalization"
    factors = SCALE_AND_OFFSET

    def infer(self, args, inputs):
        shape = inputs["in"]
        return Inferred({"out": shape}, learnables=_scale_and_offset(shape))

    def flops(self, args, inputs, inferred):
        # A sum and a sum of squares (3), then subtract, divide, scale and shift (4).
        return 7 * inputs["in"].numel


@register
class BatchNormalization(LayerKind):
    name = "batchNormalization"
    auto_name = "batchnorm"
    category = "normalization"
    factors = SCALE_AND_OFFSET
    summary = "Batch normalisation: normalises each channel over the mini-batch (and its pixels and time steps), then scales and shifts"
    params = (_epsilon(),)

    def infer(self, args, inputs):
        shape = inputs["in"]
        channels = (shape.channels,)
        return Inferred(
            {"out": shape},
            learnables=_scale_and_offset(shape),
            state={"running_mean": channels, "running_var": channels, "num_batches_tracked": ()},
        )

    def build(self, args, inputs):
        from torch import nn

        from graphdl.catalog._torch_modules.normalization import BatchNormNd

        shape = inputs["in"]
        # By the run-time rank: a sequence (batch, channels, time) is BatchNorm1d's, a sequence of
        # 2-D images BatchNorm3d's, statistics per channel over all else in each case.
        rank = len(shape.torch_size(1))
        norm = {2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}.get(rank, BatchNormNd)
        # momentum 0.1 is MATLAB's MeanDecay and VarianceDecay.
        return norm(shape.channels, eps=args["epsilon"], momentum=0.1)

    def describe(self, args):
        return "batch normalization"

    def flops(self, args, inputs, inferred):
        return 2 * inputs["in"].numel  # a scale and a shift per element, at inference


@register
class LayerNormalization(_Normalization):
    name = "layerNormalization"
    auto_name = "layernorm"
    summary = "Layer normalisation: normalises each observation over its channels and pixels (a sequence: each step over its channels), then scales and shifts"
    params = (_epsilon(),)

    def build(self, args, inputs):
        from torch import nn

        from graphdl.catalog._torch_modules.normalization import ChannelLayerNorm

        shape = inputs["in"]
        # MATLAB's OperationDimension "auto": spatial and channel for images, channel alone for
        # features and sequences (of images too).
        if shape.spatial and not shape.is_sequence:
            return nn.GroupNorm(1, shape.channels, eps=args["epsilon"])
        return ChannelLayerNorm(shape.channels, args["epsilon"])

    def describe(self, args):
        return "layer normalization"


@register
class GroupNormalization(_Normalization):
    name = "groupNormalization"
    auto_name = "groupnorm"
    summary = "Group normalisation: normalises each group of channels of each observation over its pixels and time steps, then scales and shifts"
    params = (
        Param("numGroups", Int(min=1), positional=True, doc="number of groups of channels; it must divide the channels"),
        _epsilon(),
    )

    def infer(self, args, inputs):
        channels, groups = inputs["in"].channels, args["numGroups"]
        if channels % groups:
            divisors = ", ".join(map(str, _divisors(channels)))
            raise LayerProblem(
                f"groupNormalization needs a number of groups that divides its {channels} channels, but gets {groups}",
                code="E207",
                argument="numGroups",
                help=f"use one of {divisors}",
            )
        return super().infer(args, inputs)

    def build(self, args, inputs):
        from torch import nn

        return nn.GroupNorm(args["numGroups"], inputs["in"].channels, eps=args["epsilon"])

    def describe(self, args):
        n = args["numGroups"]
        return f"group normalization with {n} group{'s' if n != 1 else ''}"


@register
class InstanceNormalization(_Normalization):
    name = "instanceNormalization"
    auto_name = "instancenorm"
    summary = "Instance normalisation: normalises each channel of each observation over its pixels and time steps, then scales and shifts"
    params = (_epsilon(),)

    def infer(self, args, inputs):
        shape = inputs["in"]
        if shape.format == "C":
            # Each channel of a feature vector is one value: normalised, it would always be 0.
            raise LayerProblem(
                f"instanceNormalization needs an image or a sequence, but gets {describe_shape(shape)}",
                help="normalise features with layerNormalization or batchNormalization",
            )
        return super().infer(args, inputs)

    def build(self, args, inputs):
        from torch import nn

        channels = inputs["in"].channels
        return nn.GroupNorm(channels, channels, eps=args["epsilon"])  # a group per channel

    def describe(self, args):
        return "instance normalization"


@register
class CrossChannelNormalization(LayerKind):
    name = "crossChannelNormalization"
    auto_name = "crossnorm"
    category = "normalization"
    summary = "Cross-channel (local response) normalisation: x / (k + alpha * ss / windowChannelSize) ^ beta, ss the sum of squares of nearby channels"
    params = (
        Param("windowChannelSize", Int(min=1), positional=True, doc="channels in each window; an even one reaches one more channel ahead than back"),
        Param("alpha", Float(), 1e-4),
        Param("beta", Float(min=0.01), 0.75),
        Param("k", Float(min=1e-5), 2.0),
    )

    def infer(self, args, inputs):
        return Inferred({"out": inputs["in"]})

    def build(self, args, inputs):
        from graphdl.catalog._torch_modules.normalization import CrossChannelNormalization as Module

        return Module(args["windowChannelSize"], args["alpha"], args["beta"], args["k"])

    def describe(self, args):
        return f"cross channel normalization with {args['windowChannelSize']} channels per element"

    def flops(self, args, inputs, inferred):
        # A square and the window's sum (size), then scale, add, power and divide (4).
        return (args["windowChannelSize"] + 4) * inputs["in"].numel


@register
class Dropout(LayerKind):
    name = "dropout"
    category = "regularization"
    summary = "Dropout: during training, zeroes each element with the given probability and rescales the rest"
    params = (Param("probability", Float(min=0, max=1, max_inclusive=False), 0.5, positional=True),)

    def infer(self, args, inputs):
        return Inferred({"out": inputs["in"]})

    def build(self, args, inputs):
        from torch import nn

        return nn.Dropout(args["probability"])

    def describe(self, args):
        return f"{args['probability']:g} dropout"
