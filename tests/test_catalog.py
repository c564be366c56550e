"""The layer catalog: argument types, the registration contract, and a kind registered from
Python working like a built-in one (here a layer with two outputs, which no built-in has yet)."""

from __future__ import annotations

import pytest
import torch

import graphdl
from graphdl.catalog import (
    ArgumentProblem,
    Choice,
    Float,
    Inferred,
    Int,
    IntList,
    LayerKind,
    LayerProblem,
    Padding,
    Param,
    Shape,
    Size,
    kinds,
    layer_spec,
    lookup,
    register,
)


def test_argument_types_normalise_or_say_what_they_expected():
    assert Size(2).normalize(5) == (5, 5) and Size(2).normalize((3, 4)) == (3, 4)
    assert Padding(2).normalize(1) == ((1, 1), (1, 1))
    assert Padding(2).normalize((1, 2)) == ((1, 1), (2, 2))
    assert Padding(2).normalize((0, 1, 2, 3)) == ((0, 1), (2, 3))
    assert Padding(2).normalize("same") == "same"
    assert Float(min=0).normalize(2) == 2.0 and isinstance(Float().normalize(2), float)
    assert IntList((2, 3)).normalize((28, 28, 1)) == (28, 28, 1)
    problems = [
        (Int(min=1), True, "E203", "expected a positive integer, found true"),
        (Int(min=1), 0, "E207", "expected a positive integer, found 0"),
        (Int(min=1), 2**40, "E207", "more than 2147483647"),
        (Float(min=0, max=1, max_inclusive=False), 1.0, "E207", "expected a number in [0, 1), found 1"),
        (Float(), 1e999, "E207", "too large"),
        (Choice(("a", "b")), "c", "E207", 'expected one of "a", "b", found "c"'),
        (Size(2), (1, 2, 3), "E203", "a list of 2 positive integers"),
        (Padding(2), (1, 2, 3), "E203", '"same", a non-negative integer'),
        (IntList((2, 3)), (28,), "E203", "a list of 2 or 3 positive integers"),
    ]
    for kind, value, code, message in problems:
        with pytest.raises(ArgumentProblem) as info:
            kind.normalize(value)
        assert info.value.code == code and message in info.value.message


def test_numpy_numbers_are_welcome_from_python():
    import numpy as np

    layer = graphdl.layer("c", "convolution2d", np.int64(5), np.int32(20), stride=np.int64(2))
    assert layer.args["filterSize"] == (5, 5) and layer.args["stride"] == (2, 2)


def test_registration_checks_the_contract():
    with pytest.raises(TypeError, match="must implement `infer`; it must implement `build`"):

        @register
        class NoRules(LayerKind):
            name = "noRules"
            category = "activation"
            summary = "nothing"

    with pytest.raises(TypeError, match="the name `relu` is taken"):

        @register
        class Relu2(LayerKind):
            name = "relu"
            category = "activation"
            summary = "again"

            def infer(self, args, inputs):
                return Inferred({"out": inputs["in"]})

            def build(self, args, inputs):
                return None

    with pytest.raises(TypeError, match="positional params must come before"):

        @register
        class Order(LayerKind):
            name = "order"
            category = "activation"
            summary = "x"
            params = (Param("a", Int(), 1), Param("b", Int(), positional=True))

            def infer(self, args, inputs):
                return Inferred({"out": inputs["in"]})

            def build(self, args, inputs):
                return None

    with pytest.raises(TypeError, match="`category` must be one of"):

        @register
        class Odd(LayerKind):
            name = "odd"
            category = "exotic"
            summary = "x"

            def infer(self, args, inputs):
                return Inferred({"out": inputs["in"]})

            def build(self, args, inputs):
                return None

    with pytest.raises(TypeError, match=r"keyed by qualified names such as \"torch.nn.ReLU\", not 'ReLU'"):

        @register
        class Unqualified(LayerKind):
            name = "unqualified"
            category = "activation"
            summary = "x"
            importers = {"ReLU": lambda m, x: layer_spec("relu", x)}

            def infer(self, args, inputs):
                return Inferred({"out": inputs["in"]})

            def build(self, args, inputs):
                return None

    with pytest.raises(TypeError, match=r"`torch\.nn\.ReLU` is imported as the kind `relu` already; the importer of `torch\.nn\.ReLU` must be callable"):

        @register
        class Claimed(LayerKind):
            name = "claimed"
            category = "activation"
            summary = "x"
            importers = {"torch.nn.ReLU": None}

            def infer(self, args, inputs):
                return Inferred({"out": inputs["in"]})

            def build(self, args, inputs):
                return None

    with pytest.raises(TypeError, match="it has importers, so it needs no `no_importer`"):

        @register
        class Both(LayerKind):
            name = "both"
            category = "activation"
            summary = "x"
            importers = {"torch.nn.Mish": lambda m, x: None}
            no_importer = "no reason"

            def infer(self, args, inputs):
                return Inferred({"out": inputs["in"]})

            def build(self, args, inputs):
                return None

    with pytest.raises(
        TypeError, match=r"`imported_by` names `torch\.nn\.Mish`, which no registered kind imports; .*it is imported by another kind's importer"
    ):

        @register
        class Unmade(LayerKind):
            name = "unmade"
            category = "activation"
            summary = "x"
            imported_by = ("torch.nn.Mish",)
            no_importer = "no reason"

            def infer(self, args, inputs):
                return Inferred({"out": inputs["in"]})

            def build(self, args, inputs):
                return None

    assert not {"noRules", "order", "unqualified", "claimed", "both", "unmade"} & {kind.name for kind in kinds()}


BUILT_IN = sorted(kind.name for kind in kinds() if type(kind).__module__.startswith("graphdl.catalog."))


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_built_in_kind_imports_from_pytorch_or_says_why_not(name):
    kind = lookup(name)
    assert kind.importers or kind.imported_by or kind.no_importer, (
        f"{name} has no importer from PyTorch (`importers`), is made by no other kind's (`imported_by`), and has no `no_importer` saying why"
    )


class _Halves(torch.nn.Module):
    def forward(self, x):
        return tuple(torch.chunk(x, 2, dim=1))


@register
class SplitChannels(LayerKind):
    """A test-only kind with two outputs: the first and second half of the channels."""

    name = "testSplitChannels"
    category = "reshape"
    summary = "Splits the channels in two halves"

    def outputs(self, args):
        return ("first", "second")

    def infer(self, args, inputs):
        shape = inputs["in"]
        if shape.channels % 2:
            raise LayerProblem(f"cannot halve {shape.channels} channels", help="give it an even number of channels")
        half = Shape((*shape.sizes[:-1], shape.channels // 2), shape.format)
        return Inferred({"first": half, "second": half})

    def build(self, args, inputs):
        return _Halves()


SPLIT = """
network halves {
    input = imageInput([8, 8, 4], normalization="none")
    split = testSplitChannels()
    a = relu()
    b = convolution2d(1, 3)
    input -> split
    split/first -> a
    split/second -> b
}
"""


def test_a_registered_kind_works_in_text_analysis_compilation_and_pictures():
    graph = graphdl.loads(SPLIT)
    analysis = graphdl.analyze(graph)
    assert str(analysis["split"].outputs["second"]) == "8x8x2"
    net = graphdl.dlnetwork(graph, seed=0)
    x = torch.randn(2, 4, 8, 8)
    a, b = net(x)
    torch.testing.assert_close(a, torch.relu(x[:, :2]))
    assert b.shape == (2, 3, 8, 8)
    # One result per name asked for; a layer with several outputs gives a tuple.
    (_, second), relu = net.forward(x, outputs=["split", "a"])
    torch.testing.assert_close(second, x[:, 2:])
    torch.testing.assert_close(relu, a)
    dot = graphdl.to_dot(graph)
    assert '"split":"second":s -> "b"' in dot and "8x8x2" in dot  # out of the port's own cell
    assert "testSplitChannels" in graphdl.summary(graph)


def test_a_registered_kind_reports_its_problems_with_positions():
    checked = graphdl.check_text(SPLIT.replace("[8, 8, 4]", "[8, 8, 3]"), path="halves.dlg")
    (diagnostic,) = checked.diagnostics
    assert diagnostic.message == "cannot halve 3 channels"
    assert (diagnostic.span.line, diagnostic.span.column) == (4, 13)
    assert diagnostic.help == "give it an even number of channels"
    with pytest.raises(graphdl.GraphdlError, match="several outputs; say which"):
        graphdl.loads(SPLIT.replace("split/first -> a", "split -> a"))
