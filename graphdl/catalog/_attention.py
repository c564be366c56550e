"""Attention and position encoding layers: the pieces of transformers, on sequences of features.

The position layers output the encoding of the positions of their input, not the input plus it,
as MATLAB's do: an addition layer adds it to the sequence.
"""

from __future__ import annotations

from graphdl.catalog._arguments import ArgumentProblem, Choice, Float, Int, Param
from graphdl.catalog._registry import Factors, Inferred, LayerKind, LayerProblem, register
from graphdl.catalog._sequence import sequence_of_features
from graphdl.catalog._shape import Shape
from graphdl.catalog._window import describe_shape
from graphdl.diagnostics import counted


class AutoOrInt(Int):
    """MATLAB's "auto" (a size the layer works out) or a positive integer."""

    @property
    def expected(self) -> str:
        return '"auto" or a positive integer'

    def normalize(self, value: object) -> int | str:
        if isinstance(value, str):
            if value != "auto":
                raise ArgumentProblem(f'expected {self.expected}, found "{value}"', "E207")
            return value
        return super().normalize(value)


def _sequence(kind: str, inputs) -> Shape:
    shape = inputs["in"]
    if not shape.is_sequence:
        raise LayerProblem(
            f"{kind} encodes the positions of a sequence, but gets {describe_shape(shape)}",
            code="E403",
            help="a sequenceInput gives a sequence; a featureInput gives one vector per observation",
        )
    return shape


@register
class SelfAttention(LayerKind):
    """MATLAB's selfAttentionLayer. With numKeyChannels and numValueChannels the input's channels
    it computes what torch's nn.MultiheadAttention(channels, numHeads, batch_first=True) does on
    (x, x, x) (ViT's attention, selfAttention(12, 768) for ViT-B): its query, key and value are
    the three row blocks of torch's in_proj_weight and in_proj_bias, in that order, and its output
    torch's out_proj (tests/test_vit_layers.py loads torchvision's so)."""

    name = "selfAttention"
    auto_name = "selfattention"
    no_importer = "not yet: torch's nn.MultiheadAttention takes a query, key and value and returns (output, weights), which from_torch does not unpack"
    category = "attention"
    # MATLAB's QueryWeightsLearnRateFactor, ..., OutputBiasL2Factor.
    factors = {
        **{f"{projection}Weights": Factors((f"{projection}.weight",)) for projection in ("query", "key", "value", "output")},
        **{f"{projection}Bias": Factors((f"{projection}.bias",), l2=0.0) for projection in ("query", "key", "value", "output")},
    }
    summary = (
        "Multi-head self-attention over the steps of a sequence: queries, keys and values projected from the input, "
        "scaled dot-product attention per head, the heads merged and projected to outputSize"
    )
    params = (
        Param("numHeads", Int(min=1), positional=True, doc="attention heads; they divide numKeyChannels and numValueChannels"),
        Param("numKeyChannels", Int(min=1), positional=True, doc="channels of the queries and keys, over all heads"),
        Param("numValueChannels", AutoOrInt(min=1), "auto", doc='channels of the values, over all heads; "auto": numKeyChannels'),
        Param("outputSize", AutoOrInt(min=1), "auto", doc='output channels; "auto": the input\'s'),
        Param("attentionMask", Choice(("none", "causal")), "none", doc='"causal": each step attends only to itself and earlier steps'),
        Param("dropoutProbability", Float(min=0, max=1, max_inclusive=False), 0.0, doc="dropout of the attention weights, in training"),
    )

    def sizes(self, args, channels: int) -> tuple[int, int, int]:
        """Channels of the keys, the values and the output."""
        keys = args["numKeyChannels"]
        values = keys if args["numValueChannels"] == "auto" else args["numValueChannels"]
        output = channels if args["outputSize"] == "auto" else args["outputSize"]
        return keys, values, output

    def infer(self, args, inputs):
        shape = sequence_of_features(self.name, inputs)
        keys, values, output = self.sizes(args, shape.channels)
        heads = args["numHeads"]
        for argument, size in (("numKeyChannels", keys), ("numValueChannels", values)):
            if size % heads:
                raise LayerProblem(
                    f"{argument} {size} is not divisible by numHeads {heads}: each head takes an equal share of the channels",
                    code="E207",
                    argument=argument,
                    help=f"make {argument} a multiple of {heads}, or change numHeads",
                )
        learnables = {}
        for projection, outputs, features in (
            ("query", keys, shape.channels),
            ("key", keys, shape.channels),
            ("value", values, shape.channels),
            ("output", output, values),
        ):
            learnables[f"{projection}.weight"] = (outputs, features)
            learnables[f"{projection}.bias"] = (outputs,)
        return Inferred({"out": Shape.sequence(output, shape.length)}, learnables=learnables)

    def build(self, args, inputs):
        from graphdl.catalog._torch_modules.attention import SelfAttention
        from graphdl.catalog._torch_modules.convolution import initialize

        channels = inputs["in"].channels
        keys, values, output = self.sizes(args, channels)
        module = SelfAttention(channels, args["numHeads"], keys, values, output, causal=args["attentionMask"] == "causal", dropout=args["dropoutProbability"])
        # MATLAB's defaults: glorot weights, zero biases.
        for linear in (module.query, module.key, module.value, module.output):
            initialize(linear.weight, "glorot", linear.in_features, linear.out_features)
            initialize(linear.bias, "zeros", linear.in_features, linear.out_features)
        return module

    def flops(self, args, inputs, inferred):
        # Per step, the four projections (multiply-adds and a bias); per pair of steps, a query
        # times a key, a softmax (three operations per head) and a weighted sum of values. For a
        # sequence of any length the pairs are counted as for one step: the length is unknown.
        channels, steps = inputs["in"].channels, inputs["in"].length or 1
        keys, values, output = self.sizes(args, channels)
        projections = 2 * keys * (2 * channels + 1) + values * (2 * channels + 1) + output * (2 * values + 1)
        pairs = 2 * keys + 3 * args["numHeads"] + 2 * values
        return steps * projections + steps * steps * pairs

    def describe(self, args):
        heads = args["numHeads"]
        causal = ", causal" if args["attentionMask"] == "causal" else ""
        return f"self-attention with {counted(heads, 'head')} and {args['numKeyChannels']} key channels{causal}"


@register
class PositionEmbedding(LayerKind):
    """MATLAB's positionEmbeddingLayer. Added to its input by an addition layer, it is a learned
    additive position embedding such as ViT's: torchvision's pos_embedding (1, steps, channels)
    is this `weight` (maxPosition, outputSize) without its first dimension."""

    name = "positionEmbedding"
    auto_name = "posembedding"
    no_importer = "PyTorch has no such layer: a forward indexes a parameter by position, which from_torch does not import"
    category = "attention"
    factors = {"weight": Factors(("weight",))}
    summary = "Learned position embedding: for a sequence of T steps, the embeddings of positions 1 to T (add them to the input with an addition layer)"
    params = (
        Param("outputSize", Int(min=1), positional=True, doc="channels of each position's embedding"),
        Param("maxPosition", Int(min=1), positional=True, doc="the longest sequence it embeds"),
        Param("weightsInitializer", Choice(("narrow-normal", "glorot", "he", "zeros", "ones")), "narrow-normal"),
    )

    def infer(self, args, inputs):
        shape = _sequence(self.name, inputs)
        if shape.length is not None and shape.length > args["maxPosition"]:
            raise LayerProblem(
                f"positionEmbedding embeds up to maxPosition {args['maxPosition']} positions, but its input has {shape.length} steps",
                code="E207",
                argument="maxPosition",
                help=f"make maxPosition at least {shape.length}",
            )
        learnables = {"weight": (args["maxPosition"], args["outputSize"])}
        return Inferred({"out": Shape.sequence(args["outputSize"], shape.length)}, learnables=learnables)

    def build(self, args, inputs):
        from graphdl.catalog._torch_modules.attention import PositionEmbedding
        from graphdl.catalog._torch_modules.convolution import initialize

        module = PositionEmbedding(args["maxPosition"], args["outputSize"])
        initialize(module.weight, args["weightsInitializer"], args["maxPosition"], args["outputSize"])
        return module

    def flops(self, args, inputs, inferred):
        return 0  # a look-up

    def describe(self, args):
        return f"position embedding of {args['outputSize']} channels for up to {args['maxPosition']} positions"


@register
class SinusoidalPositionEncoding(LayerKind):
    name = "sinusoidalPositionEncoding"
    auto_name = "sinusoidalposenc"
    no_importer = "PyTorch has no such layer: a forward adds a buffer of sines and cosines, which from_torch does not import"
    category = "attention"
    summary = (
        "Sinusoidal position encoding (Vaswani et al.): for a sequence of T steps, channel 2i of position p = 0 .. T-1 is "
        "sin(p / 10000^(2i/outputSize)), channel 2i+1 its cosine (add it to the input with an addition layer)"
    )
    params = (Param("outputSize", Int(min=2), positional=True, doc="channels of the encoding, an even number"),)

    def infer(self, args, inputs):
        if args["outputSize"] % 2:
            raise LayerProblem(f"outputSize must be even (a sine and a cosine per frequency), not {args['outputSize']}", code="E207", argument="outputSize")
        shape = _sequence(self.name, inputs)
        return Inferred({"out": Shape.sequence(args["outputSize"], shape.length)})

    def build(self, args, inputs):
        from graphdl.catalog._torch_modules.attention import SinusoidalPositionEncoding

        return SinusoidalPositionEncoding(args["outputSize"])

    def flops(self, args, inputs, inferred):
        return 2 * inferred.outputs["out"].numel  # an angle and its sine or cosine per element

    def describe(self, args):
        return f"sinusoidal position encoding of {args['outputSize']} channels"
