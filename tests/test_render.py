"""Pictures: DOT text against golden files, and real SVG, PNG and PDF files drawn by Graphviz (the
graphviz-pure program that graphdl's install brings, or the system's dot)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import graphdl
from conftest import DIAGNOSTICS, EXAMPLE_NETWORKS, EXAMPLES, GOLDEN, load_example
from graphdl import GraphdlError
from graphdl.views._render import graphviz_program

MAGIC = {"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF"}


@pytest.mark.parametrize("example", EXAMPLE_NETWORKS)
def test_dot_of_each_example_matches_golden(example, golden):
    graph = load_example(example)
    golden(GOLDEN / "dot" / f"{example}.dot", graphdl.to_dot(graph))


def test_dot_shows_shapes_ports_and_errors(golden):
    text = (DIAGNOSTICS / "E401_addition_sizes.dlg").read_text()
    checked = graphdl.check_text(text, path="E401_addition_sizes.dlg")
    dot = graphdl.to_dot(checked.graph, checked.analysis)
    assert '"add" [label=<<b>add</b>' in dot and 'fillcolor="#fee2e2"' in dot  # the broken layer, red
    assert '"relu1" -> "add" [label=" 28x28x20", headlabel="in2"' in dot
    golden(GOLDEN / "dot" / "E401_addition_sizes.dot", dot)


@pytest.mark.parametrize("fmt", ["svg", "png", "pdf", "dot"])
def test_render_writes_the_format_its_suffix_names(tmp_path, fmt):
    graph = graphdl.load(EXAMPLES / "mnist.dlg")
    path = graphdl.render(graph, tmp_path / f"mnist.{fmt}")
    data = path.read_bytes()
    if fmt == "dot":
        assert data.decode() == graphdl.to_dot(graph)
    else:
        assert data.startswith(MAGIC[fmt]) and len(data) > 1000
    if fmt == "svg":
        assert b"conv1" in data and b"28x28x20" in data


def test_render_refuses_an_unknown_format(tmp_path):
    with pytest.raises(GraphdlError, match=r"unknown format `.gif`"):
        graphdl.render(graphdl.load(EXAMPLES / "mnist.dlg"), tmp_path / "x.gif")


def test_graphviz_is_found_without_a_system_install(monkeypatch):
    # What graphdl's own install brings is enough: with PATH emptied, graphviz-pure is still
    # found beside the Python running graphdl.
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("GRAPHDL_DOT", raising=False)
    assert Path(graphviz_program()).name == "graphviz-pure"


def test_a_graphviz_failure_is_an_error_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHDL_DOT", "/nonexistent/dot")
    with pytest.raises(GraphdlError, match="cannot run Graphviz"):
        graphdl.render(graphdl.load(EXAMPLES / "mnist.dlg"), tmp_path / "x.svg")


def test_each_layer_is_drawn_in_its_category_colours():
    from graphdl.catalog import CATEGORIES, lookup

    graph = graphdl.load(EXAMPLES / "mnist.dlg")
    dot = graphdl.to_dot(graph)
    for layer in graph:
        colours = CATEGORIES[lookup(layer.kind).category]
        (node,) = [line for line in dot.splitlines() if line.strip().startswith(f'"{layer.name}" [label')]
        assert f'fillcolor="{colours.fill}", color="{colours.border}"' in node


def test_pdf_through_graphviz_pure_without_svglib_names_the_extra(tmp_path, monkeypatch):
    # svglib is the `pdf` extra; a None in sys.modules is how Python says a package is not there.
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("GRAPHDL_DOT", raising=False)
    monkeypatch.setitem(sys.modules, "svglib.svglib", None)
    with pytest.raises(ImportError, match="svglib") as caught:
        graphdl.render(graphdl.load(EXAMPLES / "mnist.dlg"), tmp_path / "mnist.pdf")
    assert isinstance(caught.value, GraphdlError) and caught.value.code == "E008"
    assert 'graphdl[pdf]' in str(caught.value)
    assert not (tmp_path / "mnist.pdf").exists()


def test_any_network_name_gives_valid_dot(tmp_path):
    graph = graphdl.LayerGraph('my "net" \\ 2\\')
    graph.add_layers(graphdl.layer("input", "featureInput", 4), graphdl.layer("fc", "fullyConnected", 2))
    assert graphdl.to_dot(graph).startswith('digraph "my \\"net\\" \\\\ 2\\\\" {')
    assert graphdl.render(graph, tmp_path / "net.svg").read_bytes().startswith(MAGIC["svg"])  # graphviz parses it


def test_only_layers_with_weights_say_whom_they_share_with():
    dot = graphdl.to_dot(graphdl.load(EXAMPLES / "siamese.dlg"))
    assert "shares left.conv1" in dot and "shares left.fc" in dot
    assert "shares left.relu1" not in dot and "shares left.pool1" not in dot
