"""LayerGraph: the editing vocabulary, and text and Python building the same graph."""

from __future__ import annotations

import pytest

import graphdl
from conftest import EXAMPLES
from graphdl import GraphdlError, LayerGraph, layer
from graphdl.graph import Connection

DAG = """
network dag {
    input = imageInput([28, 28, 1])
    conv1 = convolution2d(3, 8, padding="same")
    relu1 = relu()
    conv2 = convolution2d(3, 8, padding="same")
    add = addition(2)
    out = softmax()
    input -> conv1 -> relu1 -> conv2 -> add/in1
    relu1 -> add/in2
    add -> out
}
"""


def seed_graph() -> LayerGraph:
    g = LayerGraph("mnist")
    g.add_layers(
        layer("input", "imageInput", [28, 28, 1]),
        layer("conv1", "convolution2d", 5, 20, padding="same"),
        layer("bn1", "batchNormalization"),
        layer("relu1", "relu"),
        layer("pool1", "maxPooling2d", 2, stride=2),
        layer("fc", "fullyConnected", 10),
        layer("prob", "softmax"),
    )
    return g


def test_python_builds_the_same_series_graph_as_the_text():
    assert seed_graph() == graphdl.load(EXAMPLES / "mnist.dlg")


def test_python_builds_the_same_dag_as_the_text():
    g = LayerGraph("dag")
    g.add_layers(
        layer("input", "imageInput", [28, 28, 1]),
        layer("conv1", "convolution2d", 3, 8, padding="same"),
        layer("relu1", "relu"),
        layer("conv2", "convolution2d", 3, 8, padding="same"),
        layer("add", "addition", 2),
        layer("out", "softmax"),
    )  # connected in series, add/in1 included, as MATLAB's addLayers does
    g.connect("relu1", "add/in2")
    assert g == graphdl.loads(DAG)
    assert not g.is_series


def test_views():
    g = graphdl.loads(DAG)
    assert [layer.name for layer in g.layers] == ["input", "conv1", "relu1", "conv2", "add", "out"]
    assert g.input_names == ("input",)
    assert g.output_names == ("out",)
    assert [str(c) for c in g.connections] == [
        "input/out -> conv1/in",
        "conv1/out -> relu1/in",
        "relu1/out -> conv2/in",
        "relu1/out -> add/in2",
        "conv2/out -> add/in1",
        "add/out -> out/in",
    ]
    assert g["conv1"].arguments == ((None, 3), (None, 8), ("padding", "same"))
    assert g["conv1"].args["padding"] == "same" and g["conv1"].args["stride"] == (1, 1)
    assert "conv1" in g and "nope" not in g and len(g) == 6
    assert graphdl.load(EXAMPLES / "mnist.dlg").is_series


def test_connect_and_disconnect_with_ports():
    g = graphdl.loads(DAG)
    g.disconnect("relu1", "add/in2")
    assert g.output_names == ("out",)
    with pytest.raises(GraphdlError, match=r"several inputs: specify `add/in1` or `add/in2`"):
        g.connect("relu1", "add")
    g.connect("relu1", "add/in2")
    assert g == graphdl.loads(DAG)
    with pytest.raises(GraphdlError, match=r"already connected"):
        g.connect("conv1", "add/in2")
    with pytest.raises(GraphdlError, match=r"no input port `in3`; its input ports: in1, in2"):
        g.connect("conv1", "add/in3")
    with pytest.raises(GraphdlError, match=r"did you mean `relu1`"):
        g.connect("relu2", "add/in2")
    with pytest.raises(GraphdlError, match=r"E226.*`conv1` is not connected to `out`"):
        g.disconnect("conv1", "out")


def test_remove_layers_removes_their_connections():
    g = graphdl.loads(DAG)
    g.remove_layers("conv2")
    assert "conv2" not in g
    assert all("conv2" not in (c.source, c.destination) for c in g.connections)
    assert not graphdl.analyze(g).ok  # add/in1 is open now


def test_replace_layer_keeps_connections_and_order():
    g = graphdl.load(EXAMPLES / "mnist.dlg")
    g.replace_layer("relu1", layer("act", "leakyRelu", 0.1))
    assert [layer.name for layer in g.layers][2:5] == ["bn1", "act", "pool1"]
    assert {str(c) for c in g.connections} >= {"bn1/out -> act/in", "act/out -> pool1/in"}
    assert graphdl.analyze(g).ok


def test_replace_layer_by_several_layers_in_series():
    g = graphdl.load(EXAMPLES / "mnist.dlg")
    g.replace_layer("relu1", layer("act", "relu"), layer("drop", "dropout", 0.2))
    assert {str(c) for c in g.connections} >= {"bn1/out -> act/in", "act/out -> drop/in", "drop/out -> pool1/in"}
    assert graphdl.analyze(g).ok


def test_replace_layer_refuses_a_replacement_with_too_few_inputs():
    g = graphdl.loads(DAG)
    with pytest.raises(GraphdlError, match="2 connected inputs, but its replacement `r` has 1"):
        g.replace_layer("add", layer("r", "relu"))


def test_layer_checks_kind_and_arguments_at_once():
    with pytest.raises(GraphdlError, match=r"(?s)unknown layer kind `convolution2D`.*did you mean `convolution2d`") as info:
        layer("c", "convolution2D", 5, 20)
    assert info.value.diagnostics[0].code == "E201"
    with pytest.raises(GraphdlError) as info:
        layer("c", "convolution2d", 5, numFilter=20, stride=0)
    assert [d.code for d in info.value.diagnostics] == ["E202", "E207", "E205"]
    with pytest.raises(GraphdlError, match="identifier"):
        layer("not a name", "relu")


def test_add_layers_refuses_duplicate_names():
    g = seed_graph()
    with pytest.raises(GraphdlError, match="already in the graph"):
        g.add_layers(layer("conv1", "relu"))


def test_equality_ignores_spans_but_not_arguments_or_wiring():
    a = graphdl.loads(DAG)
    b = graphdl.loads("\n\n" + DAG)  # same network, other positions
    assert a == b
    b.replace_layer("out", layer("out", "relu"))
    assert a != b
    c = graphdl.loads(DAG)
    c.disconnect("add", "out")
    c.add_connection(Connection("relu1", "out", "out", "in"))
    assert a != c


def test_copy_is_independent():
    g = seed_graph()
    h = g.copy()
    h.remove_layers("prob")
    assert "prob" in g and "prob" not in h
