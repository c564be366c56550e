"""Recurrent layers (LSTM, BiLSTM, GRU) and word embedding: layers that take sequences of features.

A recurrent layer's learnables are torch's (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0,
and *_reverse for the backward direction), with the gates in torch's order, which is MATLAB's too.
Torch adds two biases where MATLAB has one; MATLAB's initial bias is put in bias_ih.
"""

from __future__ import annotations

from graphdl.catalog._arguments import Choice, Int, Param
from graphdl.catalog._registry import Factors, Inferred, LayerKind, LayerProblem, register
from graphdl.catalog._shape import Shape
from graphdl.catalog._window import describe_shape

OUTPUT_MODES = ("sequence", "last")
WEIGHT_INITIALIZERS = ("glorot", "he", "orthogonal", "narrow-normal", "zeros", "ones")


def sequence_of_features(kind: str, inputs) -> Shape:
    """The input of a layer that takes a sequence of feature vectors, or a LayerProblem."""
    shape = inputs["in"]
    if shape.format != "CT":
        hint = (
            "a sequenceInput(numFeatures) gives a sequence of feature vectors; a featureInput gives one vector per observation"
            if not shape.is_sequence
            else "give it a sequence of feature vectors: sequenceInput(numFeatures)"
        )
        raise LayerProblem(f"{kind} needs a sequence of feature vectors, but gets {describe_shape(shape)}", code="E403", help=hint)
    return shape


def _output(args, shape: Shape, channels: int) -> Shape:
    return Shape.features(channels) if args["outputMode"] == "last" else Shape.sequence(channels, shape.length)


class _Recurrent(LayerKind):
    category = "sequence"
    no_importer = "not yet: torch's nn.LSTM and nn.GRU take time before channels and return (output, state), which from_torch does not unpack"
    # MATLAB's InputWeights, RecurrentWeights and Bias (torch has two biases where MATLAB has one).
    factors = {
        "inputWeights": Factors(("weight_ih_l0", "weight_ih_l0_reverse")),
        "recurrentWeights": Factors(("weight_hh_l0", "weight_hh_l0_reverse")),
        "bias": Factors(("bias_ih_l0", "bias_hh_l0", "bias_ih_l0_reverse", "bias_hh_l0_reverse"), l2=0.0),
    }
    title: str  # for descriptions
    gates: int
    directions = 1

    def hidden(self, args) -> int:
        return args["numHiddenUnits"]

    def learnables(self, args, features: int) -> dict[str, tuple[int, ...]]:
        rows = self.gates * self.hidden(args)
        sizes = {"weight_ih": (rows, features), "weight_hh": (rows, self.hidden(args)), "bias_ih": (rows,), "bias_hh": (rows,)}
        suffixes = ("_l0", "_l0_reverse")[: self.directions]
        return {name + suffix: size for suffix in suffixes for name, size in sizes.items()}

    def infer(self, args, inputs):
        shape = sequence_of_features(self.name, inputs)
        return Inferred({"out": _output(args, shape, self.directions * self.hidden(args))}, learnables=self.learnables(args, shape.channels))

    def module(self, args, features: int):
        raise NotImplementedError

    def build(self, args, inputs):
        from graphdl.catalog._torch_modules.sequence import initialize_recurrent

        module = self.module(args, inputs["in"].channels)
        initialize_recurrent(module, self.gates, args["inputWeightsInitializer"], args["recurrentWeightsInitializer"], args["biasInitializer"])
        return module

    def flops(self, args, inputs, inferred):
        # Per step and direction: the gates' two matrix products and two biases, and about three
        # elementwise operations per gate (activation, products, sums); every step of a fixed
        # length (the whole recurrence runs for outputMode "last" too), one of any length.
        h, c = self.hidden(args), inputs["in"].channels
        per_step = self.gates * h * (2 * (c + h) + 2 + 3)
        return self.directions * per_step * (inputs["in"].length or 1)

    def describe(self, args):
        what = "the last step" if args["outputMode"] == "last" else "every step"
        return f"{self.title} with {args['numHiddenUnits']} hidden units, output at {what}"


def _recurrent_params(bias_initializers: tuple[str, ...], bias_default: str) -> tuple[Param, ...]:
    return (
        Param("numHiddenUnits", Int(min=1), positional=True, doc="number of hidden units, the features of each output step"),
        Param("outputMode", Choice(OUTPUT_MODES), "sequence", doc='"sequence": every step; "last": the last step only, as features'),
        Param("inputWeightsInitializer", Choice(WEIGHT_INITIALIZERS), "glorot"),
        Param("recurrentWeightsInitializer", Choice(WEIGHT_INITIALIZERS), "orthogonal"),
        Param("biasInitializer", Choice(bias_initializers), bias_default),
    )


@register
class Lstm(_Recurrent):
    name = "lstm"
    title = "LSTM"
    gates = 4
    summary = 'Long short-term memory over a sequence of features: every step\'s hidden state, or the last one (outputMode="last")'
    params = _recurrent_params(("unit-forget-gate", "narrow-normal", "ones", "zeros"), "unit-forget-gate")

    def module(self, args, features):
        from graphdl.catalog._torch_modules.sequence import LSTM

        return LSTM(features, self.hidden(args), last=args["outputMode"] == "last")


@register
class Bilstm(Lstm):
    name = "bilstm"
    title = "bidirectional LSTM"
    directions = 2
    summary = (
        "Bidirectional LSTM: the forward and backward hidden states concatenated, 2 x numHiddenUnits features per step; "
        'outputMode="last" gives the last step of that, as MATLAB does (there the backward direction has seen only the last input)'
    )

    def module(self, args, features):
        from graphdl.catalog._torch_modules.sequence import LSTM

        return LSTM(features, self.hidden(args), bidirectional=True, last=args["outputMode"] == "last")


@register
class Gru(_Recurrent):
    name = "gru"
    title = "GRU"
    gates = 3
    # Torch's GRU applies the reset gate after the recurrent product and has a recurrent bias
    # inside it: MATLAB's ResetGateMode "recurrent-bias-after-multiplication". MATLAB's default,
    # "after-multiplication", is that with the bias fixed at zero; here it starts at zero and learns.
    summary = "Gated recurrent unit over a sequence of features (torch's GRU: the reset gate after the recurrent product, with a recurrent bias)"
    params = _recurrent_params(("zeros", "narrow-normal", "ones"), "zeros")

    def module(self, args, features):
        from graphdl.catalog._torch_modules.sequence import GRU

        return GRU(features, self.hidden(args), last=args["outputMode"] == "last")


@register
class WordEmbedding(LayerKind):
    name = "wordEmbedding"
    auto_name = "embedding"
    no_importer = "not yet: torch's nn.Embedding counts words from 0, MATLAB's from 1, and from_torch traces with a float input"
    category = "sequence"
    factors = {"weight": Factors(("weight",))}
    summary = (
        "Word embedding: maps a sequence of word indices (one channel, 1 to numWords as MATLAB counts) to vectors; "
        "other indices and NaN are out of vocabulary"
    )
    params = (
        Param("dimension", Int(min=1), positional=True, doc="features of each embedding vector"),
        Param("numWords", Int(min=1), positional=True, doc="words in the vocabulary, indices 1 to numWords"),
        Param("weightsInitializer", Choice(WEIGHT_INITIALIZERS), "narrow-normal"),
        Param("oovMode", Choice(("map-to-last", "error")), "map-to-last", doc='out-of-vocabulary indices: to the last row of the weights, or an error'),
    )

    def infer(self, args, inputs):
        shape = inputs["in"]
        if shape.format != "CT" or shape.channels != 1:
            raise LayerProblem(
                f"wordEmbedding needs a sequence of word indices, one channel, but gets {describe_shape(shape)}",
                code="E403",
                help="give it a sequenceInput(1) of word indices",
            )
        # MATLAB's weights have a column more than numWords: the out-of-vocabulary vector.
        weight = (args["numWords"] + 1, args["dimension"])
        return Inferred({"out": Shape.sequence(args["dimension"], shape.length)}, learnables={"weight": weight})

    def build(self, args, inputs):
        from graphdl.catalog._torch_modules.sequence import WordEmbedding, initialize_weight

        module = WordEmbedding(args["numWords"], args["dimension"], args["oovMode"])
        initialize_weight(module.weight, args["weightsInitializer"], args["numWords"] + 1, args["dimension"])
        return module

    def flops(self, args, inputs, inferred):
        return 0  # a look-up

    def describe(self, args):
        return f"word embedding of dimension {args['dimension']} for {args['numWords']} words"
