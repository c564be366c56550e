"""Input layers: where data enters a network (images, 3-D images, feature vectors, sequences),
with MATLAB's optional normalisation."""

from __future__ import annotations

from graphdl.catalog._arguments import Choice, Int, IntList, Param, SequenceSize
from graphdl.catalog._registry import Inferred, LayerKind, register
from graphdl.catalog._shape import Shape

NORMALIZATIONS = ("none", "zerocenter", "zscore", "rescale-symmetric", "rescale-zero-one")
DIMENSIONS = ("auto", "channel", "element", "all")


def _normalization(default: str) -> tuple[Param, ...]:
    return (
        Param("normalization", Choice(NORMALIZATIONS), default, doc="statistics computed from the training data (trainnet does it)"),
        Param(
            "normalizationDimension",
            Choice(DIMENSIONS),
            "auto",
            doc='statistics per "channel" ("auto"), per "element" of an observation, or one for "all"',
        ),
    )


class _Input(LayerKind):
    category = "input"
    no_importer = "from_torch makes the input layer from its input_size and input_kind: a module has no input layer"

    def inputs(self, args):
        return ()

    def shape(self, args) -> Shape:
        raise NotImplementedError

    def statistics_size(self, args) -> tuple[int, ...]:
        """The size of each statistic: MATLAB's NormalizationDimension, "auto" being "channel"."""
        size = self.shape(args).torch_size(1)[1:]  # (channels, *spatial[, 1 step])
        dimension = args["normalizationDimension"]
        if dimension == "element":
            return size
        channels = size[0] if dimension in ("auto", "channel") else 1
        return (channels,) + (1,) * (len(size) - 1)

    def infer(self, args, inputs):
        shape = self.shape(args)
        stats = {"zerocenter": ("mean",), "zscore": ("mean", "std")}.get(args["normalization"], ("min", "max"))
        state = {} if args["normalization"] == "none" else {name: self.statistics_size(args) for name in stats}
        return Inferred({"out": shape}, state=state)

    def build(self, args, inputs):
        if args["normalization"] == "none":
            return None
        from graphdl.catalog._torch_modules.input import InputNormalization

        return InputNormalization(args["normalization"], self.statistics_size(args))

    def generate(self, args, inputs, emit, x):
        # Inline, as a hand-written forward writes it (`x - self.mean`): the same operations as
        # InputNormalization.forward, without the cost of a module call.
        import operator

        mode = args["normalization"]
        if mode == "none":
            return x
        if mode == "zerocenter":
            return emit.function(operator.sub, x, emit.tensor("mean"))
        if mode == "zscore":
            return emit.function(operator.truediv, emit.function(operator.sub, x, emit.tensor("mean")), emit.tensor("std"))
        low = emit.tensor("min")
        unit = emit.function(operator.truediv, emit.function(operator.sub, x, low), emit.function(operator.sub, emit.tensor("max"), low))
        if mode == "rescale-zero-one":
            return unit
        return emit.function(operator.sub, emit.function(operator.mul, 2, unit), 1)

    def flops(self, args, inputs, inferred):
        return 0 if args["normalization"] == "none" else inferred.outputs["out"].numel * (1 if args["normalization"] == "zerocenter" else 2)

    def describe(self, args):
        shape = self.shape(args)
        what = "sequences" if shape.is_sequence else "images" if shape.format != "C" else "features"
        return f"{shape} {what} with '{args['normalization']}' normalization"


@register
class ImageInput(_Input):
    name = "imageInput"
    auto_name = "imageinput"
    summary = "Input of 2-D images, height x width x channels"
    params = (
        Param("inputSize", IntList((2, 3)), positional=True, doc="[height, width, channels] (or [height, width] for one channel)"),
        *_normalization("zerocenter"),
    )

    def shape(self, args):
        size = args["inputSize"]
        return Shape.image(*size) if len(size) == 3 else Shape.image(*size, 1)


@register
class FeatureInput(_Input):
    name = "featureInput"
    auto_name = "input"
    summary = "Input of feature vectors"
    params = (
        Param("numFeatures", Int(min=1), positional=True, doc="number of features per observation"),
        *_normalization("none"),
    )

    def shape(self, args):
        return Shape.features(args["numFeatures"])


@register
class Image3dInput(_Input):
    name = "image3dInput"
    auto_name = "image3dinput"
    summary = "Input of 3-D images, height x width x depth x channels"
    params = (
        Param("inputSize", IntList((3, 4)), positional=True, doc="[height, width, depth, channels] (or [height, width, depth] for one channel)"),
        *_normalization("zerocenter"),
    )

    def shape(self, args):
        size = args["inputSize"]
        return Shape.image(*size) if len(size) == 4 else Shape.image(*size, 1)


@register
class SequenceInput(_Input):
    name = "sequenceInput"
    auto_name = "sequenceinput"
    summary = "Input of sequences: of feature vectors, or of images [height, width, channels]"
    params = (
        Param("inputSize", SequenceSize(), positional=True, doc="features per step, or [height, width, channels] of each image"),
        *_normalization("none"),
        Param("length", Int(min=1), None, doc="a fixed number of steps (any, if not given), so that the lengths can be checked"),
    )

    def shape(self, args):
        size = args["inputSize"]
        return Shape.sequence(size[-1], args["length"], spatial=size[:-1])
