"""Output layers: where a network ends for one-call training, naming the loss to minimise.

As MATLAB's classificationLayer and regressionLayer: at run time they pass their input through;
`trainnet` reads the loss from them (cross-entropy, half mean squared error) when it is not given
one.
"""

from __future__ import annotations

from graphdl.catalog._registry import Inferred, LayerKind, LayerProblem, register
from graphdl.catalog._window import describe_shape


class _Output(LayerKind):
    category = "output"
    no_importer = "a PyTorch module ends without its loss, so it has nothing that imports as an output layer"
    loss: str

    def build(self, args, inputs):
        return None  # passes its input through

    def flops(self, args, inputs, inferred):
        return 0


@register
class Classification(_Output):
    name = "classification"
    auto_name = "classoutput"
    summary = "Classification output: trainnet minimises the cross-entropy of the class probabilities it receives"
    loss = "crossentropy"

    def infer(self, args, inputs):
        shape = inputs["in"]
        if shape.is_sequence:
            raise LayerProblem(
                f"classification takes one vector of class probabilities per observation, but gets {describe_shape(shape)}",
                help='to classify a whole sequence, give the recurrent layer outputMode="last"',
            )
        return Inferred({"out": shape})

    def describe(self, args):
        return "cross-entropy loss"


@register
class Regression(_Output):
    name = "regression"
    auto_name = "regressionoutput"
    summary = "Regression output: trainnet minimises half the mean squared error of the values it receives"
    loss = "mse"

    def infer(self, args, inputs):
        return Inferred({"out": inputs["in"]})

    def describe(self, args):
        return "mean squared error loss"
