"""Conditions, lists and empty repetitions (issue 13, points 1 and 2): what each makes of a network."""

from __future__ import annotations

import pytest

import graphdl
from graphdl.elaborate._evaluate import EvaluationError, evaluate
from graphdl.syntax import parse_expression

BASIC = """
block basic(cin, cout, stride = 1) {
    input x
    output y
    conv1 = convolution2d(3, cout, stride=stride, padding=1, bias=false)
    bn1   = batchNormalization()
    conv2 = convolution2d(3, cout, padding=1, bias=false)
    bn2   = batchNormalization()
    add   = addition()
    x -> conv1 -> bn1 -> relu() -> conv2 -> bn2 -> add/in1
    if stride != 1 or cin != cout {
        down   = convolution2d(1, cout, stride=stride, bias=false)
        downbn = batchNormalization()
        x -> down -> downbn -> add/in2
    } else {
        x -> add/in2
    }
    add -> relu() -> y
}
"""


def names(graph) -> list[str]:
    return [layer.name for layer in graph.layers]


def edges(graph) -> set[tuple[str, str, str, str]]:
    return {(c.source, c.source_port, c.destination, c.destination_port) for c in graph.connections}


def pairs(graph) -> list[tuple[str, str]]:
    return [(c.source, c.destination) for c in graph.connections]


def test_a_condition_chooses_the_layers_and_connections_of_a_block():
    graph = graphdl.loads(BASIC + "network n {\n input = imageInput([8, 8, 16])\n same = basic(16, 16)\n down = basic(16, 32, 2)\n}\n")
    assert "same.down" not in names(graph) and "down.down" in names(graph) and "down.downbn" in names(graph)
    assert ("input", "out", "same.add", "in2") in edges(graph)  # the shortcut taken when no projection is made
    assert ("down.downbn", "out", "down.add", "in2") in edges(graph)
    assert graphdl.analyze(graph).num_learnables == 2 * (16 * 16 * 9 + 32) + (16 * 32 * 9 + 32 * 32 * 9 + 4 * 32) + 16 * 32 + 2 * 32


def test_else_if_chains_and_series_bodies_skip_what_is_not_taken():
    text = """
block head(kind) {
    if kind == "relu" {
        act = relu()
    } else if kind == "gelu" {
        act = gelu()
    } else {
        act = tanh()
    }
    if kind != "none" {
        fc = fullyConnected(4)
    }
}

network n(kind = "relu") {
    input = featureInput(4)
    a = head(kind)
    b = head("gelu")
    c = head("other")
}
"""
    graph = graphdl.loads(text)
    kinds = {layer.name: layer.kind for layer in graph.layers}
    assert kinds == {"input": "featureInput", "a.act": "relu", "a.fc": "fullyConnected", "b.act": "gelu", "b.fc": "fullyConnected",
                     "c.act": "tanh", "c.fc": "fullyConnected"}  # fmt: skip
    assert graphdl.loads(text, parameters={"kind": "none"}).get("a.fc") is None
    assert pairs(graphdl.loads(text, parameters={"kind": "none"}))[:2] == [("input", "a.act"), ("a.act", "b.act")]


def test_a_network_body_may_hold_conditions_with_constants_declared_before_them():
    text = """
network n(classes = 10, dropout = 0.0) {
    let wide = classes > 100
    input = featureInput(8)
    fc1   = fullyConnected(512 if wide else 64)
    if dropout > 0 {
        drop = dropout(dropout)
    }
    fc2   = fullyConnected(classes)
}
"""
    assert names(graphdl.loads(text)) == ["input", "fc1", "fc2"]
    assert names(graphdl.loads(text, parameters={"dropout": 0.2})) == ["input", "fc1", "drop", "fc2"]


def test_lists_index_measure_and_repeat():
    def value(text, **env):
        return evaluate(parse_expression(text), env)

    assert value("widths[0] + widths[-1]", widths=(16, 32, 64)) == 80
    assert value("len(widths)", widths=(16, 32)) == 2 and value("sum([1, 2, 3])") == 6
    assert value("enumerate([7, 8])") == ((0, 7), (1, 8))
    assert value("table[1][0]", table=((1, 2), (3, 4))) == 3
    for text, message in [("[1, 2][2]", "index 2 is outside a list of 2 items"), ("[1, 2][0.5]", "a whole number"), ("3[0]", "only a list"),
                          ("len(3)", "expects one list"), ("sum(['a'])", "expects a list of numbers")]:  # fmt: skip
        with pytest.raises(EvaluationError, match=message):
            value(text)


def test_repeating_over_a_list_numbers_members_by_position_and_unpacks_rows():
    text = """
block unit(w, s) {
    conv = convolution2d(3, w, stride=s, padding=1)
    act  = relu()
}

network n(table = [[8, 1], [16, 2], [32, 2]]) {
    input  = imageInput([16, 16, 3])
    stage  = unit(w, s) for w, s in table
    widths = fullyConnected(w) for w in [10, 5]
}
"""
    graph = graphdl.loads(text)
    assert [n for n in names(graph) if n.endswith("conv")] == ["stage.0.conv", "stage.1.conv", "stage.2.conv"]
    assert [graph.get(f"stage.{i}.conv").arguments[1][1] for i in range(3)] == [8, 16, 32]
    assert names(graph)[-2:] == ["widths.0", "widths.1"]
    assert graphdl.analyze(graph).layers["stage.2.act"].outputs["out"].sizes == (4, 4, 32)


def test_an_empty_repetition_passes_on_what_flows_into_it():
    series = """
block stage(c, n) {
    first = convolution2d(3, c, padding=1)
    rest  = convolution2d(3, c, padding=1) for i in 2..n
}

network n {
    input = imageInput([8, 8, 3])
    one   = stage(4, 1)
    two   = stage(4, 2)
    none  = fullyConnected(2) for w in []
    out   = softmax()
}
"""
    graph = graphdl.loads(series)
    assert names(graph) == ["input", "one.first", "two.first", "two.rest.2", "out"]
    assert pairs(graph) == [("input", "one.first"), ("one.first", "two.first"), ("two.first", "two.rest.2"), ("two.rest.2", "out")]
    wired = """
network n(depth = 0) {
    input = featureInput(4)
    extra = fullyConnected(4) for i in 1..depth
    add   = addition()
    input -> extra -> add/in1
    input -> add/in2
}
"""
    assert ("input", "out", "add", "in1") in edges(graphdl.loads(wired))
    assert ("extra.1", "out", "add", "in1") in edges(graphdl.loads(wired, parameters={"depth": 1}))


def test_layer_counts_follow_the_branch_taken():
    # The branch not taken would make more layers than a network may have: it is not counted.
    text = "network n(big = false) {\n input = featureInput(4)\n if big {\n  many = relu() for i in 1..2000000\n }\n fc = fullyConnected(2)\n}\n"
    assert names(graphdl.loads(text)) == ["input", "fc"]
    with pytest.raises(graphdl.GraphdlError, match="E231"):
        graphdl.loads(text, parameters={"big": True})


@pytest.mark.parametrize(
    "text",
    [
        BASIC,
        "network n(t = [[1, 2], [3, 4]]) {\n    input = featureInput(4)\n    fc = fullyConnected(a * b) for a, b in t\n"
        "    if len(t) > 1 {\n        act = relu()\n    } else if t[0][0] == 1 {\n        act = tanh()\n    }\n}\n",
    ],
)
def test_conditions_and_lists_format_and_parse_back(text):
    formatted = graphdl.format_dlg(text)
    assert graphdl.format_dlg(formatted) == formatted
    assert "} else {" in formatted or "} else if" in formatted


# ---- sizes of what flows (issue 13, point 3) ----------------------------------------------------

BASIC_INFERRED = BASIC.replace(
    "block basic(cin, cout, stride = 1) {\n    input x\n    output y\n",
    "block basic(cout, stride = 1) {\n    input x\n    output y\n    let cin = channels(x)\n",
)


def test_a_block_asks_the_channels_of_its_input_and_matches_the_block_told_them():
    told = graphdl.loads(BASIC + "network n {\n input = imageInput([8, 8, 16])\n a = basic(16, 16)\n b = basic(16, 32, 2)\n c = basic(32, 32)\n}\n")
    asked = graphdl.loads(BASIC_INFERRED + "network n {\n input = imageInput([8, 8, 16])\n a = basic(16)\n b = basic(32, 2)\n c = basic(32)\n}\n")
    assert names(asked) == names(told) and edges(asked) == edges(told)
    assert graphdl.analyze(asked).num_learnables == graphdl.analyze(told).num_learnables


def test_sizes_reach_repetitions_nested_instances_and_network_expressions():
    text = """
block dense_layer(growth) {
    input x
    output y
    bn   = batchNormalization()
    conv = convolution2d(3, growth, padding=1)
    cat  = depthConcatenation()
    x -> bn -> relu() -> conv -> cat/in2
    x -> cat/in1
    cat -> y
}

block transition {
    input x
    output y
    conv = convolution2d(1, channels(x) // 2)
    pool = averagePooling2d(2, stride=2)
    x -> conv -> pool -> y
}

block dense_stage(layers, growth) {
    input x
    output y
    dense = dense_layer(growth) for i in 1..layers
    down  = transition()
    x -> dense -> down -> y
}

network n {
    input  = imageInput([16, 16, 8], normalization="none")
    stage1 = dense_stage(3, 4)
    stage2 = dense_stage(2, 4)
    pool   = globalAveragePooling2d()
    fc     = fullyConnected(channels(pool) + size(input)[0])
}
"""
    graph = graphdl.loads(text)
    analysis = graphdl.analyze(graph)
    # 8 + 3*4 = 20 -> transition 10; 10 + 2*4 = 18 -> transition 9
    assert analysis.layers["stage1.down.conv"].outputs["out"].sizes == (16, 16, 10)
    assert analysis.layers["stage2.down.conv"].outputs["out"].sizes == (8, 8, 9)
    assert analysis.layers["fc"].outputs["out"].sizes == (9 + 16,)
    net = graphdl.dlnetwork(graph, seed=0)
    import torch

    assert tuple(net(torch.rand(2, 8, 16, 16)).shape) == (2, 25)


def test_a_condition_on_an_inferred_size_in_a_series_block():
    text = """
block maybe_project(cout) {
    input x
    if channels(x) != cout {
        proj = convolution2d(1, cout)
    }
    act = relu()
}

network n {
    input = imageInput([4, 4, 3])
    a = maybe_project(8)
    b = maybe_project(8)
}
"""
    assert names(graphdl.loads(text)) == ["input", "a.proj", "a.act", "b.act"]


def test_a_block_may_contain_itself_inside_a_condition_that_ends_it():
    text = """
block level(width, depth) {
    input x
    output y
    enc = convolution2d(3, width, padding="same")
    cat = depthConcatenation()
    x -> enc -> cat/in1
    if depth > 1 {
        down  = maxPooling2d(2, stride=2)
        inner = level(width * 2, depth - 1)
        up    = transposedConv2d(2, width, stride=2)
        enc -> down -> inner -> up -> cat/in2
    } else {
        enc -> cat/in2
    }
    cat -> y
}

network unet(depth = 3) {
    input = imageInput([16, 16, 1], normalization="none")
    body  = level(4, depth)
}
"""
    graph = graphdl.loads(text)
    assert "body.inner.inner.enc" in names(graph) and "body.inner.inner.inner.enc" not in names(graph)
    assert graphdl.analyze(graph).layers["body.inner.inner.enc"].outputs["out"].sizes == (4, 4, 16)
    # Without a condition on the way round, it is E225; through another block too.
    with pytest.raises(graphdl.GraphdlError, match="instantiates itself, with no condition"):
        graphdl.loads("block a(n) {\n b = fullyConnected(n)\n c = bb(n)\n}\nblock bb(n) {\n d = a(n)\n}\n"
                      "network n {\n input = featureInput(2)\n x = a(2)\n}\n")  # fmt: skip
    # Counted before it is expanded: a tree of 2^40 instances is refused at once.
    tree = "block t(d) {\n fc = fullyConnected(2)\n if d > 0 {\n  l = t(d - 1)\n  r = t(d - 1)\n }\n}\nnetwork n {\n input = featureInput(2)\n x = t(40)\n}\n"
    with pytest.raises(graphdl.GraphdlError, match="E231"):
        graphdl.loads(tree)


def test_fmt_breaks_a_long_table_one_row_a_line():
    table = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
    rows = ", ".join(f"[{t}, {c}, {n}, {s}]" for t, c, n, s in table)
    text = f"network n(classes = 10, table = [{rows}]) {{\n    let widths = [{', '.join(str(8 * i) for i in range(1, 30))}]\n    input = featureInput(4)\n}}\n"
    formatted = graphdl.format_dlg(text)
    assert formatted.startswith("network n(\n    classes = 10,\n    table = [\n        [1, 16, 1, 1],\n")
    assert "    ],\n) {\n    let widths = [\n        8,\n" in formatted
    assert max(len(line) for line in formatted.splitlines()) <= 100
    assert graphdl.format_dlg(formatted) == formatted
    assert graphdl.loads(formatted).parameters == graphdl.loads(text).parameters


def test_an_instance_of_empty_repetitions_only_passes_on_what_flows_into_it():
    text = """
block stage(c, n) {
    blocks = convolution2d(3, c, padding=1) for j in 1..n
}

block tower(c, depth) {
    input x
    output y
    layers = convolution2d(3, c, padding="same") for i in 1..depth
    x -> layers -> y
}

network net(setting = [[4, 1], [8, 0], [8, 2]]) {
    input  = imageInput([8, 8, 3])
    stages = stage(c, n) for c, n in setting
    t0     = tower(8, 0)
    t1     = tower(8, 1)
    fc     = fullyConnected(2)
}
"""
    graph = graphdl.loads(text)
    assert names(graph) == ["input", "stages.0.blocks.1", "stages.2.blocks.1", "stages.2.blocks.2", "t1.layers.1", "fc"]
    assert pairs(graph) == [
        ("input", "stages.0.blocks.1"), ("stages.0.blocks.1", "stages.2.blocks.1"), ("stages.2.blocks.1", "stages.2.blocks.2"),
        ("stages.2.blocks.2", "t1.layers.1"), ("t1.layers.1", "fc"),
    ]  # fmt: skip
