"""Networks in a Jupyter notebook: a real kernel runs a notebook (nbclient) whose cells end with a
LayerGraph, an Analysis, a DLNetwork, an Analysis with an error and a summary; each shows as its
picture (SVG) or an HTML table, beside its text. Without a kernel, IPython's own display formatter
checks the same pictures, the fallback to text when Graphviz fails, and the width of big ones."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from IPython.core.formatters import DisplayFormatter

import graphdl
from conftest import EXAMPLES, load_example, run_notebook
from graphdl.views import show_pictures_in

slow = pytest.mark.slow  # the tests of the notebook start a Jupyter kernel

# A 50x50 window on a 28x28 image: an error of the layer `conv`, found by analysis.
BROKEN = "network broken {\n input = imageInput([28, 28, 1])\n conv = convolution2d(50, 8)\n fc = fullyConnected(10)\n prob = softmax()\n}\n"

SETUP = f"""
import os, sys
import graphdl
graph = graphdl.load({str(EXAMPLES / "mnist.dlg")!r})
"""

# Each cell ends with the value it shows. The network comes last but one: before it, no cell may
# have imported torch.
CELLS = {
    "graph": "graph",
    "analysis": "graphdl.analyze(graph)",
    "broken": f"graphdl.check_text({BROKEN!r}).analysis",
    "summary": "graphdl.summary(graph)",
    "torch loaded": "'torch' in sys.modules",
    "network": "graphdl.dlnetwork(graph)",
    "no graphviz": "os.environ['GRAPHDL_DOT'] = os.devnull + '/dot'\ngraph",
}

SVG = "{http://www.w3.org/2000/svg}"
ERROR_BORDER = "#dc2626"  # the colour of a layer with an error (views' _ERROR)


@pytest.fixture(scope="module")
def notebook(tmp_path_factory):
    """The notebook run once in a kernel: each cell's outputs, by name."""
    outputs = run_notebook([SETUP, *CELLS.values()], tmp_path_factory.mktemp("notebook"))
    return dict(zip(CELLS, outputs[1:]))


def shown(outputs) -> dict[str, str]:
    """The one value a cell shows at its end: its data, by MIME type."""
    results = [o for o in outputs if o["output_type"] == "execute_result"]
    assert len(results) == 1, outputs
    return results[0]["data"]


def boxes(svg: str) -> dict[str, ET.Element]:
    """The boxes a Graphviz picture draws, by name (a node's <title>): the layers among them."""
    root = ET.fromstring(svg.encode())  # a parse error fails the test: the SVG must be well-formed
    assert root.tag == SVG + "svg"
    return {g.find(SVG + "title").text: g for g in root.iter(SVG + "g") if g.get("class") == "node"}


def drawn_as_error(box: ET.Element) -> bool:
    return any(shape.get("stroke") == ERROR_BORDER for shape in box if shape.tag != SVG + "title")


MNIST_LAYERS = ["input", "conv1", "bn1", "relu1", "pool1", "fc", "prob"]


@slow
def test_a_layer_graph_shows_as_its_picture_beside_its_text(notebook):
    data = shown(notebook["graph"])
    assert set(data) == {"image/svg+xml", "text/plain"}
    assert set(MNIST_LAYERS) <= set(boxes(data["image/svg+xml"]))
    assert data["text/plain"] == "<LayerGraph mnist: 7 layers, 6 connections, series>"


@slow
def test_an_analysis_shows_as_its_picture_and_a_line_of_text(notebook):
    data = shown(notebook["analysis"])
    assert set(data) == {"image/svg+xml", "text/plain"}
    pictured = boxes(data["image/svg+xml"])
    assert set(MNIST_LAYERS) <= set(pictured)
    assert not any(drawn_as_error(box) for box in pictured.values())
    assert data["text/plain"] == "<Analysis of mnist: 7 layers, 0 errors, 0 warnings>"


@slow
def test_an_analysis_with_an_error_draws_the_broken_layer_red(notebook):
    data = shown(notebook["broken"])
    pictured = boxes(data["image/svg+xml"])
    assert {"input", "conv", "fc", "prob"} <= set(pictured)
    assert [name for name, box in pictured.items() if drawn_as_error(box)] == ["conv"]
    assert data["text/plain"] == "<Analysis of broken: 4 layers, 1 error, 0 warnings>"


@slow
def test_a_summary_shows_as_an_html_table_and_as_its_text(notebook):
    data = shown(notebook["summary"])
    assert set(data) == {"text/html", "text/plain"}
    expected = graphdl.summary(graphdl.load(EXAMPLES / "mnist.dlg"))
    assert data["text/plain"] == expected.rstrip("\n")  # the table itself, not a quoted string
    assert data["text/html"] == expected._repr_html_()
    rows = re.findall(r"<tr>(.*?)</tr>", data["text/html"])
    assert [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)[1] for row in rows] == ["name", *MNIST_LAYERS]


@slow
def test_showing_graphs_analyses_and_summaries_does_not_import_torch(notebook):
    assert shown(notebook["torch loaded"])["text/plain"] == "False"


@slow
def test_a_network_shows_as_the_picture_of_its_graph_beside_its_modules(notebook):
    data = shown(notebook["network"])
    assert set(data) == {"image/svg+xml", "text/plain"}
    assert data["image/svg+xml"] == shown(notebook["analysis"])["image/svg+xml"]
    assert data["text/plain"].startswith("DLNetwork_mnist(\n  7 layers, 39,770 learnables")


@slow
def test_without_graphviz_a_graph_shows_as_text_with_a_warning_and_no_traceback(notebook):
    outputs = notebook["no graphviz"]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert set(shown(outputs)) == {"text/plain"}
    warned = "".join(o["text"] for o in outputs if o["output_type"] == "stream" and o["name"] == "stderr")
    assert "graphdl shows 'mnist' without its picture: error[E009]" in warned


# ---- without a kernel: IPython's display formatter, as a kernel's shell holds it -----------------


@pytest.fixture
def display():
    formatter = DisplayFormatter()
    show_pictures_in(formatter)
    return lambda value: formatter.format(value)[0]


def test_an_analysis_is_shown_with_a_line_of_text_not_every_layers_shapes(display):
    broken = graphdl.check_text(BROKEN).analysis
    assert display(broken)["text/plain"] == repr(broken) == "<Analysis of broken: 4 layers, 1 error, 0 warnings>"


def sizes(svg: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """The size an SVG states (points) and the size of the drawing in it (its viewBox)."""
    stated = re.search(r'<svg width="([0-9.]+)pt" height="([0-9.]+)pt"', svg).groups()
    drawn = re.search(r'viewBox="[0-9.]+ [0-9.]+ ([0-9.]+) ([0-9.]+)"', svg).groups()
    return tuple(map(float, stated)), tuple(map(float, drawn))


def test_a_picture_wider_than_a_notebook_cell_is_shown_as_wide_as_one(display):
    (width, height), (drawn_width, drawn_height) = sizes(display(load_example("resnet50"))["image/svg+xml"])
    assert drawn_width > 720
    assert (width, height) == (720, pytest.approx(drawn_height * 720 / drawn_width, abs=1))


def test_a_narrower_picture_is_shown_at_the_size_graphviz_drew_it(display):
    stated, drawn = sizes(display(load_example("mnist"))["image/svg+xml"])
    assert stated == drawn


def test_a_compiled_network_of_its_own_class_finds_the_picture_registered_for_dlnetwork(display):
    graph = graphdl.load(EXAMPLES / "mnist.dlg")
    net = graphdl.dlnetwork(graph)
    assert type(net).__name__ == "DLNetwork_mnist"
    assert display(net)["image/svg+xml"] == display(graph)["image/svg+xml"]


def test_when_graphviz_fails_the_value_shows_as_text_and_a_warning_says_why(display, monkeypatch, tmp_path):
    monkeypatch.setenv("GRAPHDL_DOT", str(tmp_path / "no-such-dot"))
    graph = graphdl.load(EXAMPLES / "mnist.dlg")
    with pytest.warns(UserWarning, match=r"graphdl shows 'mnist' without its picture: error\[E009\]: cannot run Graphviz"):
        data = display(graph)
    assert data == {"text/plain": repr(graph)}
