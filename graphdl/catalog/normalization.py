"""Normalisation and regularisation layers."""

from __future__ import annotations

from graphdl.catalog.arguments import Float, Param
from graphdl.catalog.registry import Inferred, LayerKind, register


@register
class BatchNormalization(LayerKind):
    name = "batchNormalization"
    auto_name = "batchnorm"
    category = "normalization"
    summary = "Batch normalisation: normalises each channel over the mini-batch, then scales and shifts"
    params = (
        Param("epsilon", Float(min=1e-5), 1e-5, doc="added to the variance (MATLAB's minimum is 1e-5)"),
    )

    def infer(self, args, inputs):
        shape = inputs["in"]
        channels = (shape.channels,)
        return Inferred(
            {"out": shape},
            learnables={"weight": channels, "bias": channels},
            state={"running_mean": channels, "running_var": channels, "num_batches_tracked": ()},
        )

    def build(self, args, inputs):
        from torch import nn

        shape = inputs["in"]
        norm = {0: nn.BatchNorm1d, 1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}[len(shape.spatial)]
        # momentum 0.1 is MATLAB's MeanDecay and VarianceDecay.
        return norm(shape.channels, eps=args["epsilon"], momentum=0.1)

    def describe(self, args):
        return "batch normalization"

    def flops(self, args, inputs, inferred):
        return 2 * inputs["in"].numel  # a scale and a shift per element, at inference


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
