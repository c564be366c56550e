"""Layers that change the layout of an observation, not its values."""

from __future__ import annotations

from graphdl.catalog.registry import Inferred, LayerKind, register
from graphdl.shape import Shape


@register
class Flatten(LayerKind):
    name = "flatten"
    category = "reshape"
    summary = "Flattens each observation into a vector of features"

    def infer(self, args, inputs):
        return Inferred({"out": Shape.features(inputs["in"].numel)})

    def build(self, args, inputs):
        from torch import nn

        return nn.Flatten() if inputs["in"].format != "C" else None

    def describe(self, args):
        return "flatten"

    def flops(self, args, inputs, inferred):
        return 0
