"""Property tests of the printer and the formatter, on generated networks: series and DAGs, with
blocks, repetition, anonymous layers, constants and weight sharing.

- A network printed flat parses back to an equal graph: loads(to_dlg(g)) == g.
- Formatting changes no meaning (the formatted text gives the same graph) and is idempotent.
- A graph built in Python, hierarchical names and sharing included, prints and parses back equal.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

import graphdl
from graphdl import LayerGraph, layer

WIDTH = 8  # every layer of a generated network keeps this many features, so additions always fit
SINGLE = ["relu()", "leakyRelu(0.1)", f"fullyConnected({WIDTH})", "dropout(0.25)", "batchNormalization()", "softmax()"]


@st.composite
def sources(draw) -> str:
    """The text of a valid network: a series or a DAG, using a block or not."""
    lines = []
    use_block = draw(st.booleans())
    if use_block:
        body = draw(st.lists(st.sampled_from(SINGLE[:5]), min_size=1, max_size=3))
        lines.append("# a block of layers in series")
        lines.append("block unit(width) {")
        lines += [f"    l{i} = {call.replace(str(WIDTH), 'width')}" for i, call in enumerate(body)]
        lines.append("}")
        lines.append("")
    lines.append(f"network generated(width = {WIDTH}) {{")
    lines.append("    let half = width / 2")
    lines.append("    input = featureInput(width)")
    count = draw(st.integers(1, 7))
    calls = []
    for _ in range(count):
        choice = draw(st.sampled_from(["single", "block", "repeat", "shared"] if use_block else ["single"]))
        if choice == "single":
            calls.append(draw(st.sampled_from(SINGLE)))
        elif choice == "block":
            calls.append("unit(width)")
        elif choice == "repeat":
            calls.append(f"unit(width) for i in 1..{draw(st.integers(1, 3))}")
        else:
            previous_blocks = [j for j, c in enumerate(calls) if c == "unit(width)"]
            calls.append(f"unit(half * 2) shares n{previous_blocks[-1]}" if previous_blocks else "unit(width)")
    for i, call in enumerate(calls):
        lines.append(f"    n{i} = {call}")
    if draw(st.booleans()):  # a DAG: every node takes one or two earlier nodes
        names = ["input"] + [f"n{i}" for i in range(count)]
        for i in range(count):
            first, second = draw(st.sampled_from(names[: i + 1])), draw(st.sampled_from(names[: i + 1]))
            if draw(st.booleans()):
                inline = draw(st.sampled_from(["", " -> relu()", " -> leakyRelu(0.2) -> dropout(0.1)"]))
                lines.append(f"    {first}{inline} -> n{i}  # node {i}")
            else:
                lines.append(f"    join{i} = addition()")
                lines.append(f"    {first} -> join{i}/in1 -> n{i}")
                lines.append(f"    {second} -> join{i}/in2")
    lines.append("}")
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sources())
def test_printed_networks_parse_back_equal(text):
    graph = graphdl.loads(text)
    printed = graphdl.to_dlg(graph)
    assert graphdl.loads(printed) == graph, printed


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sources())
def test_formatting_keeps_meaning_and_is_idempotent(text):
    formatted = graphdl.format_dlg(text)
    assert graphdl.format_dlg(formatted) == formatted
    assert graphdl.loads(formatted) == graphdl.loads(text)
    comments = [line.strip() for line in text.splitlines() if "#" in line]
    assert all(any(c[c.index("#") :] in line for line in formatted.splitlines()) for c in comments)


@st.composite
def python_graphs(draw) -> LayerGraph:
    """A valid graph built with the Python API: dotted names, DAG wiring, shared layers."""
    graph = LayerGraph("built")
    graph.add_layers(layer("input", "featureInput", WIDTH))
    names = ["input"]
    owners: list[str] = []
    for i in range(draw(st.integers(1, 8))):
        name = draw(st.sampled_from([f"l{i}", f"group.{i}.fc", f"stage{i % 2}.{i}"]))
        kind = draw(st.sampled_from(["fullyConnected", "relu", "addition"]))
        if kind == "addition":
            graph.add_layers(layer(name, "addition", 2))
            first, second = draw(st.sampled_from(names)), draw(st.sampled_from(names))
            graph.connect(first, f"{name}/in1")
            graph.connect(second, f"{name}/in2")
        else:
            shares = draw(st.sampled_from([None, *owners])) if kind == "fullyConnected" else None
            graph.add_layers(layer(name, kind, WIDTH, shares=shares) if kind == "fullyConnected" else layer(name, kind))
            graph.connect(draw(st.sampled_from(names)), name)
            if kind == "fullyConnected" and shares is None:
                owners.append(name)
        names.append(name)
    return graph


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(python_graphs())
def test_python_built_graphs_print_and_parse_back_equal(graph):
    assert graphdl.analyze(graph).ok
    assert graphdl.loads(graphdl.to_dlg(graph)) == graph


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(python_graphs())
def test_execution_order_is_the_lexicographic_topological_order(graph):
    import networkx as nx

    from graphdl.analysis import execution_order

    position = {name: i for i, name in enumerate(graph.nx)}
    assert execution_order(graph) == list(nx.lexicographical_topological_sort(graph.nx, key=position.__getitem__))
