"""The language's constructs, elaborated: what each makes of a network."""

from __future__ import annotations

import pytest
import torch

import graphdl
from conftest import EXAMPLES
from graphdl.elaborate._evaluate import EvaluationError, evaluate
from graphdl.syntax import parse_expression


def expression(text: str, **env):
    tree = parse_expression(text)
    assert tree is not None, text
    return evaluate(tree, env)


def test_expressions_follow_python_precedence_and_matlab_division():
    assert expression("1 + 2 * 3") == 7
    assert expression("(1 + 2) * 3") == 9
    assert expression("-2 ** 2") == -4
    assert expression("2 ** 3 ** 2") == 512
    assert expression("7 / 2") == 3.5 and expression("7 // 2") == 3 and expression("7 % 3") == 1
    assert expression("w / 4", w=64) == 16.0
    assert expression("2 if i == 1 else 1", i=1) == 2 and expression("2 if i == 1 else 1", i=2) == 1
    assert expression("not a and b or c", a=False, b=True, c=False) is True
    assert expression("[w, w * 2, 3]", w=4) == (4, 8, 3)
    assert expression("min(3, 1, 2) + max([4, 5]) + floor(2.7) + ceil(2.1) + round(2.5) + abs(-1)") == 1 + 5 + 2 + 3 + 2 + 1
    for text, message in [("1 / 0", "division by zero"), ("x + 1", "unknown name `x`"), ('"a" * 2', "needs numbers"),
                          ("1 if 2 else 3", "expected `true` or `false`"), ("floorr(1)", "unknown function"), ("floor(1, 2)", "expects one number"),
                          ("10 ** 100", "too large")]:
        with pytest.raises(EvaluationError, match=message):
            expression(text)


def test_inline_layers_are_named_as_matlab_names_them():
    graph = graphdl.loads(
        "network n {\n input = featureInput(4)\n fc = fullyConnected(4)\n input -> relu() -> fc -> relu() -> fullyConnected(2) -> softmax()\n}\n"
    )
    assert [layer.name for layer in graph.layers] == ["input", "fc", "relu", "relu_1", "fc_1", "softmax"]


def test_repetition_names_instances_by_index_and_chains_them():
    graph = graphdl.loads("network n {\n input = featureInput(4)\n hidden = fullyConnected(8 * i) for i in 1..3\n}\n")
    assert [layer.name for layer in graph.layers] == ["input", "hidden.1", "hidden.2", "hidden.3"]
    assert [layer.arguments for layer in graph.layers[1:]] == [((None, 8),), ((None, 16),), ((None, 24),)]
    assert graph.is_series


def test_block_ports_connect_from_outside():
    text = """
block split(width) {
    input x
    output left, right
    a = fullyConnected(width)
    b = fullyConnected(width * 2)
    x -> a -> left
    x -> b -> right
}

network n {
    input = featureInput(4)
    s = split(3)
    join = concatenation(1)
    input -> s
    s/left -> join/in1
    s/right -> join/in2
}
"""
    analysis = graphdl.analyze(graphdl.loads(text))
    assert str(analysis["join"].output) == "9"
    with pytest.raises(graphdl.GraphdlError, match="several outputs; say which"):
        graphdl.loads(text.replace("s/left -> join/in1", "s -> join/in1"))


def test_a_layer_can_share_another_layers_parameters():
    graph = graphdl.loads(
        "network n {\n a = featureInput(4)\n b = featureInput(4)\n fa = fullyConnected(3)\n fb = fullyConnected(3) shares fa\n a -> fa\n b -> fb\n}\n"
    )
    net = graphdl.dlnetwork(graph, seed=0)
    assert list(net.state_dict()) == ["fa.weight", "fa.bias"]
    x = torch.randn(2, 4)
    ya, yb = net(x, x)
    torch.testing.assert_close(ya, yb)


def test_network_parameters_from_python(tmp_path):
    path = tmp_path / "p.dlg"
    path.write_text("network p(classes = 10, size = [8, 8, 1]) {\n input = imageInput(size)\n fc = fullyConnected(classes)\n}\n")
    analysis = graphdl.analyze(graphdl.load(path, parameters={"classes": 3, "size": [4, 4, 2]}))
    assert str(analysis["fc"].output) == "3" and str(analysis["input"].output) == "4x4x2"
    with pytest.raises(graphdl.GraphdlError, match="has no parameter `clases`"):
        graphdl.load(path, parameters={"clases": 3})


def test_imports_are_relative_to_the_importing_file_and_read_once(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "base.dlg").write_text("block dense(width) {\n fc = fullyConnected(width)\n act = relu()\n}\n")
    (tmp_path / "lib" / "left.dlg").write_text('import "base.dlg"\nblock left(width) {\n d = dense(width)\n}\n')
    (tmp_path / "lib" / "right.dlg").write_text('import "base.dlg"\nblock right(width) {\n d = dense(width)\n}\n')
    (tmp_path / "main.dlg").write_text('import "lib/left.dlg"\nimport "lib/right.dlg"\nnetwork m {\n input = featureInput(4)\n a = left(8)\n b = right(2)\n}\n')
    checked = graphdl.check(tmp_path / "main.dlg")
    assert checked.ok, checked.diagnostics
    assert [layer.name for layer in checked.graph.layers] == ["input", "a.d.fc", "a.d.act", "b.d.fc", "b.d.act"]
    assert sorted(checked.sources) == sorted(str(tmp_path / p) for p in ["main.dlg", "lib/left.dlg", "lib/right.dlg", "lib/base.dlg"])
    # Imports are not passed on: main.dlg cannot use `dense` without importing base.dlg itself.
    (tmp_path / "main.dlg").write_text('import "lib/left.dlg"\nnetwork m {\n input = featureInput(4)\n a = dense(8)\n}\n')
    assert [d.code for d in graphdl.check(tmp_path / "main.dlg").diagnostics] == ["E201"]


def test_the_network_used_by_default(tmp_path):
    (tmp_path / "nets.dlg").write_text("network a {\n input = featureInput(2)\n}\nnetwork b {\n input = featureInput(3)\n}\n")
    (tmp_path / "main.dlg").write_text('import "nets.dlg"\nnetwork mine {\n input = featureInput(5)\n}\n')
    assert graphdl.load(tmp_path / "main.dlg").name == "mine"  # its own, not the imported ones
    assert graphdl.load(tmp_path / "main.dlg", network="b").name == "b"
    (tmp_path / "only.dlg").write_text('import "nets.dlg"\n')
    with pytest.raises(graphdl.GraphdlError, match="several networks"):
        graphdl.load(tmp_path / "only.dlg")


def test_networks_names_what_a_file_defines_itself(tmp_path):
    (tmp_path / "gan.dlg").write_text("network generator {\n input = featureInput(2)\n}\nnetwork critic {\n input = featureInput(3)\n}\n")
    (tmp_path / "main.dlg").write_text('import "gan.dlg"\nnetwork mine {\n input = featureInput(5)\n}\nnetwork broken {\n input = \n}\n')
    assert graphdl.networks(tmp_path / "gan.dlg") == ("generator", "critic")  # in order
    assert graphdl.networks(tmp_path / "main.dlg") == ("mine", "broken")  # not the imported ones; mistakes left to check
    with pytest.raises(graphdl.GraphdlError, match=r"error\[E001\]: cannot read .*missing.dlg"):
        graphdl.networks(tmp_path / "missing.dlg")


def test_a_file_of_blocks_alone_is_a_warning_not_an_error(tmp_path):
    path = tmp_path / "blocks.dlg"
    path.write_text("block dense(width) {\n fc = fullyConnected(width)\n}\n")
    checked = graphdl.check(path)
    assert checked.ok and [d.code for d in checked.diagnostics] == ["E002"]
    with pytest.raises(graphdl.GraphdlError, match="defines blocks"):
        graphdl.load(path)


def test_a_resnet_prints_flat_and_parses_back_equal():
    graph = graphdl.load(EXAMPLES / "resnet18.dlg")
    text = graphdl.to_dlg(graph)
    assert "layer2.0.downsample.0 = convolution2d(1, 128, stride=2, bias=false)" in text
    assert graphdl.loads(text) == graph
