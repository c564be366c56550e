"""Input layers: where data enters a network, with MATLAB's optional normalisation."""

from __future__ import annotations

from graphdl.catalog.arguments import Choice, Int, IntList, Param
from graphdl.catalog.registry import Inferred, LayerKind, register
from graphdl.shape import Shape

NORMALIZATIONS = ("none", "zerocenter", "zscore", "rescale-symmetric", "rescale-zero-one")


def _normalization(default: str) -> Param:
    return Param(
        "normalization",
        Choice(NORMALIZATIONS),
        default,
        doc="statistics are per element of an observation, computed from the training data by trainnet",
    )


class _Input(LayerKind):
    category = "input"

    def inputs(self, args):
        return ()

    def shape(self, args) -> Shape:
        raise NotImplementedError

    def infer(self, args, inputs):
        shape = self.shape(args)
        stats = {"zerocenter": ("mean",), "zscore": ("mean", "std")}.get(args["normalization"], ("min", "max"))
        state = {} if args["normalization"] == "none" else {name: shape.torch_size(1)[1:] for name in stats}
        return Inferred({"out": shape}, state=state)

    def build(self, args, inputs):
        if args["normalization"] == "none":
            return None
        from graphdl.catalog.modules import InputNormalization

        return InputNormalization(args["normalization"], self.shape(args).torch_size(1)[1:])

    def describe(self, args):
        shape = self.shape(args)
        what = "images" if shape.format != "C" else "features"
        return f"{shape} {what} with '{args['normalization']}' normalization"


@register
class ImageInput(_Input):
    name = "imageInput"
    summary = "Input of 2-D images, height x width x channels"
    params = (
        Param("inputSize", IntList((2, 3)), positional=True, doc="[height, width, channels] (or [height, width] for one channel)"),
        _normalization("zerocenter"),
    )

    def shape(self, args):
        size = args["inputSize"]
        return Shape.image(*size) if len(size) == 3 else Shape.image(*size, 1)


@register
class FeatureInput(_Input):
    name = "featureInput"
    summary = "Input of feature vectors"
    params = (
        Param("numFeatures", Int(min=1), positional=True, doc="number of features per observation"),
        _normalization("none"),
    )

    def shape(self, args):
        return Shape.features(args["numFeatures"])
