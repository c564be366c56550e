"""Normalisation and regularisation layers, and ConvNeXt's per-channel layer scale."""

from __future__ import annotations

import math

from graphdl.catalog._arguments import Choice, Float, Int, Param
from graphdl.catalog._importing import LayerSpec, TracedTensor, layer_spec, refuse_if, window_dims
from graphdl.catalog._registry import Factors, Inferred, LayerKind, LayerProblem, register
from graphdl.catalog._shape import Shape
from graphdl.catalog._window import describe_shape
from graphdl.diagnostics import counted

# MATLAB's minimum epsilon, 1e-5, is cuDNN's for batch normalisation; the normalisations over the
# channels of one observation have no such bound in torch, and published models go below it
# (ViT's and ConvNeXt's layer norms use 1e-6): for them, a positive number is enough.
_LEAST_EPSILON = {"batch": 1e-5, "other": 1e-12}


def _epsilon(least: float = _LEAST_EPSILON["other"]) -> Param:
    bound = "MATLAB's and cuDNN's minimum is 1e-5" if least == _LEAST_EPSILON["batch"] else f"at least {least:g}"
    return Param("epsilon", Float(min=least), 1e-5, doc=f"added to the variance ({bound})")


# MATLAB's Scale and Offset are torch's weight and bias.
SCALE_AND_OFFSET = {"scale": Factors(("weight",)), "offset": Factors(("bias",))}


def _scale_and_offset(shape) -> dict[str, tuple[int, ...]]:
    """MATLAB's Scale and Offset, one per channel, by torch's names."""
    return {"weight": (shape.channels,), "bias": (shape.channels,)}


def _divisors(n: int) -> list[int]:
    # Up to the square root: a channel count may be any int32.
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return small + [n // d for d in reversed(small) if d * d != n]


def _import_epsilon(eps: float, least: float = _LEAST_EPSILON["other"]) -> float:
    bound = "1e-5, MATLAB's minimum" if least == _LEAST_EPSILON["batch"] else f"{least:g}"
    refuse_if(eps < least, f"eps={eps:g}: graphdl's epsilon is at least {bound}")
    return eps


def _import_batch_norm(m, x: TracedTensor) -> LayerSpec:
    # torch's batch norms check the rank themselves, and take no unbatched input.
    refuse_if(not m.affine, "affine=False: graphdl's batchNormalization always learns a scale and an offset")
    refuse_if(not m.track_running_stats, "track_running_stats=False: graphdl's batchNormalization keeps running statistics for inference")
    refuse_if(m.momentum != 0.1, f"momentum={m.momentum}: graphdl's batchNormalization updates its statistics with momentum 0.1, MATLAB's decay")
    return layer_spec("batchNormalization", x, epsilon=_import_epsilon(m.eps, _LEAST_EPSILON["batch"]))


def _import_layer_norm(m, x: TracedTensor) -> LayerSpec:
    refuse_if(
        len(x.size) != 2 or tuple(m.normalized_shape) != x.size[1:],
        f"nn.LayerNorm{tuple(m.normalized_shape)} on a tensor of size {x.size} normalises its last dimensions; graphdl's layerNormalization "
        "matches it on features (batch, channels) only",
    )
    refuse_if(m.weight is None or m.bias is None, "without a learnable scale and offset: graphdl's layerNormalization learns both")
    return layer_spec("layerNormalization", x, epsilon=_import_epsilon(m.eps))


def _import_group_norm(m, x: TracedTensor) -> LayerSpec:
    refuse_if(not m.affine, "affine=False: graphdl's groupNormalization always learns a scale and an offset")
    return layer_spec("groupNormalization", x, numGroups=m.num_groups, epsilon=_import_epsilon(m.eps))


def _import_instance_norm(m, x: TracedTensor) -> LayerSpec:
    window_dims(m, x)
    refuse_if(not m.affine, "affine=False (PyTorch's default): graphdl's instanceNormalization learns a scale and an offset; use affine=True")
    refuse_if(m.track_running_stats, "track_running_stats=True: graphdl's instanceNormalization uses each observation's own statistics, also at inference")
    return layer_spec("instanceNormalization", x, epsilon=_import_epsilon(m.eps))


def _import_local_response_norm(m, x: TracedTensor) -> LayerSpec:
    refuse_if(
        m.size % 2 == 0,
        f"size={m.size}: an even window reaches one channel further back in torch's LocalResponseNorm, further ahead in MATLAB's",
    )
    return layer_spec("crossChannelNormalization", x, windowChannelSize=m.size, alpha=m.alpha, beta=m.beta, k=m.k)


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
    params = (_epsilon(_LEAST_EPSILON["batch"]),)
    importers = dict.fromkeys(("torch.nn.BatchNorm1d", "torch.nn.BatchNorm2d", "torch.nn.BatchNorm3d"), _import_batch_norm)

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


# MATLAB's OperationDimension of layerNormalizationLayer: which dimensions of each observation
# share a mean and a variance.
OPERATION_DIMENSIONS = ("auto", "channel-only", "spatial-channel", "batch-excluded")


def operation_dimension(args, shape: Shape) -> str:
    """What a layer normalisation of this input normalises over, its "auto" resolved as MATLAB's:
    the channels and pixels of an image, the channels alone of features and of each step of a
    sequence (of images too). Where modes coincide (features have no pixels, an image no time),
    the one they share: "channel-only" for features, "spatial-channel" for a single image."""
    mode = args["operationDimension"]
    if mode == "auto":
        mode = "spatial-channel" if shape.spatial and not shape.is_sequence else "channel-only"
    if shape.format == "C" or (mode == "spatial-channel" and not shape.spatial):
        return "channel-only"
    if mode == "batch-excluded" and not shape.is_sequence:
        return "spatial-channel"
    return mode


@register
class LayerNormalization(_Normalization):
    name = "layerNormalization"
    auto_name = "layernorm"
    summary = (
        "Layer normalisation: normalises each observation over its channels and pixels (a sequence: each step over its channels), "
        "or over the dimensions operationDimension names, then scales and shifts each channel"
    )
    params = (
        _epsilon(),
        Param(
            "operationDimension",
            Choice(OPERATION_DIMENSIONS),
            "auto",
            doc=(
                "MATLAB's: \"channel-only\" normalises each pixel and time step over its channels (ConvNeXt's LayerNorm2d on images); "
                '"spatial-channel" each observation (each step of a sequence) over its channels and pixels; "batch-excluded" over all '
                'but the batch, time included; "auto" is "spatial-channel" for images, "channel-only" for features and sequences'
            ),
        ),
    )
    importers = {"torch.nn.LayerNorm": _import_layer_norm}

    def build(self, args, inputs):
        from torch import nn

        from graphdl.catalog._torch_modules.normalization import ChannelLayerNorm, StepGroupNorm

        shape = inputs["in"]
        mode = operation_dimension(args, shape)
        if mode == "channel-only":
            return ChannelLayerNorm(shape.channels, args["epsilon"])
        if mode == "spatial-channel" and shape.is_sequence:
            return StepGroupNorm(1, shape.channels, eps=args["epsilon"])
        # All but the batch: an image's channels and pixels, or a sequence's with its time.
        return nn.GroupNorm(1, shape.channels, eps=args["epsilon"])

    def describe(self, args):
        mode = args["operationDimension"]
        return "layer normalization" + ("" if mode == "auto" else f" ({mode})")


@register
class GroupNormalization(_Normalization):
    name = "groupNormalization"
    auto_name = "groupnorm"
    summary = "Group normalisation: normalises each group of channels of each observation over its pixels and time steps, then scales and shifts"
    params = (
        Param("numGroups", Int(min=1), positional=True, doc="number of groups of channels; it must divide the channels"),
        _epsilon(),
    )
    importers = {"torch.nn.GroupNorm": _import_group_norm}

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

    def cautions(self, args, inputs):
        shape = inputs["in"]
        return _single_values(shape, shape.channels // args["numGroups"], "each group of channels")

    def describe(self, args):
        n = args["numGroups"]
        return f"group normalization with {counted(n, 'group')}"


@register
class InstanceNormalization(_Normalization):
    name = "instanceNormalization"
    auto_name = "instancenorm"
    summary = "Instance normalisation: normalises each channel of each observation over its pixels and time steps, then scales and shifts"
    params = (_epsilon(),)
    importers = dict.fromkeys(("torch.nn.InstanceNorm1d", "torch.nn.InstanceNorm2d", "torch.nn.InstanceNorm3d"), _import_instance_norm)

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

    def cautions(self, args, inputs):
        return _single_values(inputs["in"], 1, "each channel")


def _single_values(shape: Shape, channels_per_group: int, what: str) -> tuple[LayerProblem, ...]:
    """The warning for a normalisation whose groups hold one value each (a 1x1 image, one
    channel a group): normalised, the value is always 0, and torch's GroupNorm refuses a batch of
    one observation ("Expected more than 1 value per channel when training"). A sequence's time
    steps add values, so it is never one."""
    if shape.is_sequence or channels_per_group * math.prod(shape.spatial) != 1:
        return ()
    problem = LayerProblem(
        f"{what} of its input ({describe_shape(shape)}) is a single value to normalise: its output is its offset alone, "
        "and torch refuses a batch of one observation",
        code="E406",
        help="normalise over more values (fewer groups, a larger image), or use batchNormalization",
    )
    return (problem,)

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
    importers = {"torch.nn.LocalResponseNorm": _import_local_response_norm}

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
    importers = {"torch.nn.Dropout": lambda m, x: layer_spec("dropout", x, probability=m.p)}

    def infer(self, args, inputs):
        return Inferred({"out": inputs["in"]})

    def build(self, args, inputs):
        from torch import nn

        return nn.Dropout(args["probability"])

    def describe(self, args):
        return f"{args['probability']:g} dropout"


@register
class StochasticDepth(LayerKind):
    """torchvision.ops.StochasticDepth, the "drop path" of EfficientNet, ConvNeXt and Swin: placed
    on a residual branch, it drops the branch of whole observations while training."""

    name = "stochasticDepth"
    auto_name = "droppath"
    category = "regularization"
    summary = 'Stochastic depth: during training, zeroes each observation ("row") or the whole batch ("batch") with the given probability and rescales the rest'
    params = (
        Param("probability", Float(min=0, max=1), positional=True, doc="probability of zeroing an observation (the batch), from 0 to 1"),
        Param("mode", Choice(("row", "batch")), "row", doc='"row": each observation by itself; "batch": the whole mini-batch at once'),
    )
    no_importer = "torchvision.ops.StochasticDepth is torchvision's, and graphdl imports torch's modules only"

    def infer(self, args, inputs):
        return Inferred({"out": inputs["in"]})

    def build(self, args, inputs):
        from graphdl.catalog._torch_modules.normalization import StochasticDepth as Module

        return Module(args["probability"], args["mode"])

    def flops(self, args, inputs, inferred):
        return 0  # nothing at inference

    def describe(self, args):
        return f"{args['probability']:g} stochastic depth ({args['mode']})"


@register
class LayerScale(LayerKind):
    """ConvNeXt's layer scale (torchvision's CNBlock.layer_scale), as a layer: the learnable has
    torchvision's name and size, so a block's `layer_scale` loads as it is."""

    name = "layerScale"
    auto_name = "layerscale"
    category = "normalization"
    summary = "Layer scale (ConvNeXt): multiplies each channel by a learnable factor, each starting at initialValue"
    params = (Param("initialValue", Float(), 1e-6, positional=True, doc="the factors' initial value"),)
    no_importer = "PyTorch has no layer-scale module: torchvision's ConvNeXt multiplies by a parameter of its block, which from_torch does not import"

    def infer(self, args, inputs):
        shape = inputs["in"]
        return Inferred({"out": shape}, learnables={"layer_scale": _layer_scale_size(shape)})

    def build(self, args, inputs):
        from graphdl.catalog._torch_modules.normalization import LayerScale as Module

        shape = inputs["in"]
        return Module(shape.channels, len(_layer_scale_size(shape)) - 1, args["initialValue"])

    def describe(self, args):
        return f"layer scale from {args['initialValue']:g}"


def _layer_scale_size(shape: Shape) -> tuple[int, ...]:
    """(channels, 1, ...): a 1 for each run-time dimension after the channels, so that the
    factors broadcast over pixels and time steps; (channels, 1, 1) for an image, torchvision's."""
    return (shape.channels, *([1] * (len(shape.torch_size(1)) - 2)))
