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

MAGIC = {"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF", "html": b"<!DOCTYPE html>"}


@pytest.mark.parametrize("example", EXAMPLE_NETWORKS)
def test_dot_of_each_example_at_each_depth_matches_golden(example, golden):
    # Every layer shown, then each depth that folds something: 1 up to the deepest block's.
    graph = load_example(example)
    analysis = graphdl.analyze(graph)
    golden(GOLDEN / "dot" / f"{example}.dot", graphdl.to_dot(graph, analysis))
    deepest = max((name.count(".") for name in (layer.name for layer in graph.layers)), default=0)
    for depth in range(1, deepest + 1):
        golden(GOLDEN / "dot" / f"{example}-depth{depth}.dot", graphdl.to_dot(graph, analysis, depth=depth))


def test_dot_shows_shapes_ports_and_errors(golden):
    text = (DIAGNOSTICS / "E401_addition_sizes.dlg").read_text()
    checked = graphdl.check_text(text, path="E401_addition_sizes.dlg")
    dot = graphdl.to_dot(checked.graph, checked.analysis)
    (add,) = [line for line in dot.splitlines() if line.startswith('  "add" [')]
    assert '<b>add</b>' in add and 'bgcolor="#fee2e2"' in add  # the broken layer, red
    assert '"relu1" -> "add":"in2":n [label=" 28x28x20"]' in dot  # into the port's own cell
    golden(GOLDEN / "dot" / "E401_addition_sizes.dot", dot)


@pytest.mark.parametrize("fmt", ["svg", "png", "pdf", "dot", "html"])
def test_render_writes_the_format_its_suffix_names(tmp_path, fmt):
    graph = graphdl.load(EXAMPLES / "mnist.dlg")
    path = graphdl.render(graph, tmp_path / f"mnist.{fmt}")
    data = path.read_bytes()
    if fmt == "dot":
        assert data.decode() == graphdl.to_dot(graph)
    else:
        assert data.startswith(MAGIC[fmt]) and len(data) > 1000
    if fmt in ("svg", "html"):
        assert b"conv1" in data and b"28x28x20" in data


def test_the_command_writes_a_page_per_network_with_every_diagnostic(tmp_path, capsys):
    from graphdl.cli import main

    assert main(["render", str(EXAMPLES / "gan.dlg"), "-o", str(tmp_path / "gan.html")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gan-discriminator.html", "gan-generator.html", "gan-judge.html"]
    # A mistake in an argument is found while elaborating, before analysis: the page shows it too.
    broken = tmp_path / "broken.dlg"
    broken.write_text("network broken {\n    input = featureInput(4)\n    fc = fullyConnected(0)\n}\n")
    assert main(["render", str(broken), "-o", str(tmp_path / "broken.html")]) == 1
    assert "E207" in capsys.readouterr().err and '"E207"' in (tmp_path / "broken.html").read_text()


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


# ---- big networks: folding blocks, rolling up repeats, direction, compact, legend ---------------


@pytest.fixture(scope="module")
def resnet50():
    graph = load_example("resnet50")
    return graph, graphdl.analyze(graph)


def _node(dot: str, node: str) -> str:
    (line,) = [line for line in dot.splitlines() if line.strip().startswith(f'"{node}" [')]
    return line


def test_depth_one_folds_each_stage_into_a_box_with_its_totals(resnet50):
    graph, analysis = resnet50
    dot = graphdl.to_dot(graph, analysis, depth=1)
    nodes = [line.split('"')[1] for line in dot.splitlines() if line.startswith('  "') and " [" in line and "->" not in line]
    assert nodes == ["input", "conv1", "bn1", "relu", "maxpool", "layer1/", "layer2/", "layer3/", "layer4/", "avgpool", "fc", "output:fc"]
    learnables = sum(info.num_learnables for name, info in analysis.layers.items() if name.startswith("layer3."))
    assert learnables == 7_098_368
    assert "<b>layer3</b>" in _node(dot, "layer3/") and "6 x bottleneck<br/>7.1M learnables" in _node(dot, "layer3/")
    # The connections into a folded stage (into the first block's conv1 and its shortcut) are one arrow.
    assert dot.count('"maxpool" -> "layer1/" [label=" 56x56x64"];') == 1
    assert '"layer4/" -> "avgpool" [label=" 7x7x2048"]' in dot
    assert "cluster_" not in dot


def test_identical_blocks_in_a_row_roll_up_unless_asked_not_to(resnet50):
    graph, analysis = resnet50
    dot = graphdl.to_dot(graph, analysis, depth=2)
    # The first block of a stage differs (its stride and its projection shortcut); the rest are one box.
    assert "<b>layer2.0</b><br/><font point-size=\"9\">bottleneck<br/>" in _node(dot, "layer2.0/")
    assert "<b>layer2.1 .. layer2.3</b>" in _node(dot, "layer2.1/") and "3 x bottleneck" in _node(dot, "layer2.1/")
    assert '"layer2.0/" -> "layer2.1/" [label=" 28x28x512"]' in dot and '"layer2.1/" -> "layer3.0/"' in dot
    assert '"layer2.2/"' not in dot
    unrolled = graphdl.to_dot(graph, analysis, depth=2, rollup=False)
    assert all(f'"layer2.{i}/" [' in unrolled for i in range(4)) and " .. " not in unrolled
    assert 'subgraph "cluster_layer2" {' in dot and "layer2 <font point-size=\"9\">4 x bottleneck</font>" in dot


def test_expand_unfolds_a_block_at_any_depth(resnet50):
    graph, analysis = resnet50
    dot = graphdl.to_dot(graph, analysis, depth=1, expand=["layer3.2"])
    assert '"layer1/" [' in dot and '"layer4/" [' in dot  # the other stages stay folded
    assert 'subgraph "cluster_layer3" {' in dot and 'subgraph "cluster_layer3.2" {' in dot
    assert '"layer3.2.conv1" [label=<<b>conv1</b>' in dot  # named within its frame
    # Its neighbours stay folded, and no longer roll up across it.
    assert '"layer3.1/" [' in dot and '"layer3.3/" [' in dot and "<b>layer3.3 .. layer3.5</b>" in dot


@pytest.mark.parametrize(
    ("picture", "message"),
    [
        ({"expand": ["layer5"]}, r"cannot unfold `layer5`: the network has no block of that name"),
        ({"depth": 0}, r"cannot draw to depth 0"),
        ({"rankdir": "BT"}, r"unknown layout direction `BT`"),
    ],
)
def test_a_picture_option_the_network_cannot_give_is_an_error(resnet50, picture, message):
    with pytest.raises(GraphdlError, match=message) as caught:
        graphdl.to_dot(*resnet50, **picture)
    assert caught.value.code == "E016"
    if "expand" in picture:
        assert "did you mean" in str(caught.value) and "`layer4`" in str(caught.value)


def test_left_to_right_puts_ports_on_the_sides():
    graph = load_example("resnet18")
    dot = graphdl.to_dot(graph, rankdir="LR")
    assert "rankdir=LR" in dot
    assert '"layer1.0.bn2" -> "layer1.0.add":"in1":w' in dot
    assert '<td rowspan="2" cellpadding="5"><b>add</b>' in _node(dot, "layer1.0.add")


def test_compact_keeps_names_and_sizes_only():
    dot = graphdl.to_dot(graphdl.load(EXAMPLES / "mnist.dlg"), compact=True)
    assert '"conv1" [label=<<b>conv1</b>>' in dot and "convolution2d" not in dot and "5x5" not in dot
    assert '"conv1" -> "bn1" [label=" 28x28x20"]' in dot


def test_the_legend_names_the_colours_drawn(resnet50):
    dot = graphdl.to_dot(*resnet50, depth=1, legend=True)
    legend = _node(dot, "legend:")
    drawn = ["activation", "block", "convolution", "dense", "input", "normalization", "pooling"]
    assert [cell.split(">")[1].split("<")[0] for cell in legend.split("<td bgcolor")[1:]] == drawn
    assert "legend:" not in graphdl.to_dot(*resnet50, depth=1)


def test_each_output_is_marked_with_its_size():
    graph = load_example("digits_two_heads")
    dot = graphdl.to_dot(graph)
    assert len(graph.output_names) == 2
    for output in graph.output_names:
        assert f'"output:{output}" [shape=plain' in dot
        assert f'"{output}" -> "output:{output}" [label=" ' in dot


def test_a_block_that_shares_weights_says_whose_when_folded():
    dot = graphdl.to_dot(graphdl.load(EXAMPLES / "siamese.dlg"), depth=1)
    assert "shares left" in _node(dot, "right/") and "dashed" in _node(dot, "right/")
    assert "shares" not in _node(dot, "left/") and "55k learnables" in _node(dot, "left/")


def test_text_fits_its_boxes_in_the_widest_font_the_svg_asks_for(tmp_path):
    # The SVG asks for DejaVu Sans first (Verdana's widths, wider than Arial and Helvetica, which
    # follow it); measured with the real font, every line of text fits inside its box or frame.
    import html
    import re

    import matplotlib
    from PIL import ImageFont

    svg = graphdl.render(load_example("resnet18"), tmp_path / "r.svg", depth=3, legend=True).read_text()
    assert 'font-family="DejaVu Sans,Verdana,Bitstream Vera Sans,Arial,Helvetica,sans-serif"' in svg
    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    checked = 0
    for shape in re.findall(r'<g id="(?:node|clust)\d+" class="(?:node|cluster)">(.*?)</g>', svg, re.S):
        xs = [float(x) for x in re.findall(r"(-?[\d.]+),-?[\d.]+", " ".join(re.findall(r'(?:points|d)="([^"]*)"', shape)))]
        if not xs:
            continue  # text without a box: the output marks
        for attributes, text in re.findall(r"<text ([^>]*)>([^<]*)</text>", shape):
            fields = dict(re.findall(r'([\w-]+)="([^"]*)"', attributes))
            bold = fields.get("font-weight") == "bold"
            font = ImageFont.truetype(str(fonts / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")), 100)
            width = font.getlength(html.unescape(text)) * float(fields["font-size"]) / 100
            x = float(fields["x"])
            left = x - width / 2 if fields["text-anchor"] == "middle" else x
            assert min(xs) - 0.5 <= left and left + width <= max(xs) + 0.5, (text, left, width, min(xs), max(xs))
            checked += 1
    assert checked > 100


def test_the_command_draws_as_its_options_say(tmp_path, capsys):
    from graphdl.cli import main

    output = tmp_path / "r.dot"
    assert main(["render", str(EXAMPLES / "resnet50.dlg"), "-o", str(output), "--depth", "1", "--rankdir", "LR", "--legend", "--compact"]) == 0
    graph = load_example("resnet50")
    assert output.read_text() == graphdl.to_dot(graph, depth=1, rankdir="LR", legend=True, compact=True)
    assert main(["render", str(EXAMPLES / "resnet50.dlg"), "-o", str(output), "--depth", "2", "--expand", "layer2", "--no-rollup"]) == 0
    assert output.read_text() == graphdl.to_dot(graph, depth=2, expand=["layer2"], rollup=False)
    assert main(["render", str(EXAMPLES / "resnet50.dlg"), "-o", str(output), "--expand", "layer9"]) == 1
    assert "error[E016]: cannot unfold `layer9`" in capsys.readouterr().err


def test_watch_redraws_when_the_file_or_an_import_changes(tmp_path):
    import queue
    import signal
    import subprocess
    import threading

    blocks, net, output = tmp_path / "blocks.dlg", tmp_path / "net.dlg", tmp_path / "net.dot"
    blocks.write_text("block head(n) {\n    fc = fullyConnected(n)\n    prob = softmax()\n}\n")
    net.write_text('import "blocks.dlg"\n\nnetwork net {\n    input = featureInput(8)\n    out = head(3)\n}\n')
    process = subprocess.Popen(
        [sys.executable, "-m", "graphdl", "render", str(net), "-o", str(output), "--watch", "--color", "never"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        # Ctrl-C as a terminal delivers it, whatever the test's process did with it (a child inherits
        # an ignored SIGINT, and one worker of a full run was seen to have one).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True)
    reader.start()

    def until(text: str) -> list[str]:
        seen = []
        while not any(text in line for line in seen):
            seen.append(lines.get(timeout=60))
        return seen

    try:
        until("watching 2 files for changes")
        assert "fullyConnected<br/>3 fully connected outputs" in output.read_text()
        # A mistake: its diagnostic is printed as it appears, and the picture shows the layer red.
        net.write_text('import "blocks.dlg"\n\nnetwork net {\n    input = featureInput(8)\n    out = head(3)\n    oops = fullyConnectd(2)\n}\n')
        seen = until("watching 2 files")
        assert any("net.dlg changed" in line for line in seen)
        assert any("error[E201]: unknown layer kind or block `fullyConnectd`" in line for line in seen)
        assert any("(layers with errors drawn in red)" in line for line in seen)
        assert 'fillcolor="#fee2e2"' in output.read_text()
        # An imported file changes: the picture follows it.
        blocks.write_text("block head(n) {\n    fc = fullyConnected(n * 2)\n    prob = softmax()\n}\n")
        seen = until("watching 2 files")
        assert any("blocks.dlg changed" in line for line in seen)
        assert "fullyConnected<br/>6 fully connected outputs" in output.read_text()
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C ends the watch
        try:
            assert process.wait(timeout=30) == 0
        finally:
            process.kill()  # if it is still there, not to outlive the test
            reader.join(timeout=30)
            process.stdout.close()


@pytest.mark.parametrize("example", EXAMPLE_NETWORKS)
def test_at_any_depth_every_arrow_joins_drawn_nodes(example):
    # Graphviz would quietly draw a default box for an arrow's end that names no node: a layer
    # folded away but still pointed at, or a roll-up's later part. Every end must be declared.
    import re

    graph = load_example(example)
    analysis = graphdl.analyze(graph)
    deepest = max((layer.name.count(".") for layer in graph.layers), default=0)
    for depth in [None, *range(1, deepest + 1)]:
        for rollup in (True, False):
            dot = graphdl.to_dot(graph, analysis, depth=depth, rollup=rollup, rankdir="LR")
            declared = set(re.findall(r'^\s*("(?:[^"\\]|\\.)*") \[', dot, re.M))
            ends = re.findall(r'^\s*("(?:[^"\\]|\\.)*")(?::\S+)? -> ("(?:[^"\\]|\\.)*")', dot, re.M)
            assert ends and {end for pair in ends for end in pair} <= declared, (depth, rollup)
            assert len(declared) == len([line for line in dot.splitlines() if re.match(r'^\s*"[^"]*" \[', line)])  # each once
