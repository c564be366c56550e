"""The interactive page (graphdl/views/_page.py) as text: one self-contained file, whose embedded
network says what analysis says. tests/test_page_browser.py drives it in a real browser."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

import graphdl
from conftest import DIAGNOSTICS, EXAMPLES
from graphdl._frontend import check, check_text
from graphdl.views._page import page

EVERY_NETWORK = [(path, name) for path in sorted(EXAMPLES.glob("*.dlg")) for name in graphdl.networks(path)]


def embedded(text: str) -> dict:
    """The network the page carries, as its script reads it."""
    (blob,) = re.findall(r'<script type="application/json" id="network">(.*?)</script>', text, re.DOTALL)
    return json.loads(blob)


def page_of(path, network=None) -> str:
    checked = check(path, network)
    return page(checked.graph, checked.analysis, checked.diagnostics)


@pytest.mark.parametrize(("path", "network"), EVERY_NETWORK, ids=[f"{p.stem}-{n}" for p, n in EVERY_NETWORK])
def test_the_page_of_every_example_is_one_file_that_needs_no_network(path, network):
    text = page_of(path, network)
    assert text.startswith("<!DOCTYPE html>")
    assert not re.search(r"https?:", text), "nothing is fetched, not even a namespace is spelt as a URL"
    assert "src=" not in text and "@import" not in text
    assert set(re.findall(r'href="([^"]*)"', text)) <= {"#"}, "links only within the page"
    assert set(re.findall(r"url\(([^)]*)\)", text)) <= {"#arrow"}, "the only url() is the arrowhead's, in the page"
    data = embedded(text)
    checked = check(path, network)
    assert data["name"] == network and data["path"] == str(path)
    assert [layer["name"] for layer in data["layers"]] == [layer.name for layer in checked.graph.layers]
    assert len(data["connections"]) == len(checked.graph.connections)
    assert data["diagnostics"] == []


def test_resnet50_layers_carry_the_sizes_learnables_and_flops_analysis_gives():
    checked = check(EXAMPLES / "resnet50.dlg")
    data = embedded(page(checked.graph, checked.analysis))
    layers = {layer["name"]: layer for layer in data["layers"]}
    conv1 = layers["layer1.0.conv1"]
    assert conv1["kind"] == "convolution2d" and conv1["category"] == "convolution"
    assert conv1["inputs"] == {"in": "56x56x64"} and conv1["outputs"] == {"out": "56x56x64"}
    assert conv1["learnables"] == {"weight": [64, 64, 1, 1]} and conv1["numLearnables"] == 4096
    assert conv1["arguments"]["numFilters"] == "64" and conv1["arguments"]["stride"] == "[1, 1]", "defaults filled in"
    assert conv1["description"] == "64 1x1 convolutions with stride 1x1 and padding 0x0"
    assert (conv1["path"], conv1["line"]) == (str(EXAMPLES / "resnet50.dlg"), checked.graph["layer1.0.conv1"].span.line)
    assert conv1["instances"] == [{"name": "layer1.0", "block": "bottleneck", "path": str(EXAMPLES / "resnet50.dlg"), "line": 40}]
    for name, info in checked.analysis.layers.items():
        assert layers[name]["outputs"] == {port: str(shape) for port, shape in info.outputs.items()}
        assert layers[name]["flops"] == info.flops
    assert [name for name, layer in layers.items() if layer["isOutput"]] == list(checked.graph.output_names)
    assert not any(layer["broken"] for layer in data["layers"])
    assert data["learnables"] == checked.analysis.num_learnables == 25_557_032


def test_groups_carry_totals_equal_to_the_sums_of_their_layers():
    checked = check(EXAMPLES / "resnet50.dlg")
    data = embedded(page(checked.graph, checked.analysis))
    layers = {layer["name"]: layer for layer in data["layers"]}
    groups = {group["name"]: group for group in data["groups"]}
    assert {"layer1", "layer1.0", "layer1.0.downsample", "layer4.2"} <= set(groups)
    for group in groups.values():
        assert group["learnables"] == sum(layers[name]["numLearnables"] for name in group["layers"])
        assert group["flops"] == sum(layers[name]["flops"] for name in group["layers"])
    block = groups["layer1.0"]
    assert (block["kind"], block["depth"], len(block["layers"])) == ("bottleneck", 2, 12)
    assert groups["layer1"]["kind"] == "3 x bottleneck"
    # The block's input feeds two of its layers and is one input; its output is its last relu's.
    assert block["inputs"] == [{"layer": "maxpool", "port": "out", "size": "56x56x64"}]
    assert block["outputs"] == [{"layer": "layer1.0.relu3", "port": "out", "size": "56x56x256"}]


def test_diagnostics_are_attached_to_the_layers_they_concern():
    def diagnostics(name):
        checked = check(DIAGNOSTICS / name)
        data = embedded(page(checked.graph, checked.analysis, checked.diagnostics))
        return data, [(d["code"], d["line"], d["column"], d["layers"]) for d in data["diagnostics"]]

    data, found = diagnostics("E201_unknown_kind.dlg")
    assert found == [("E201", 3, 13, ["conv1"])]
    assert data["diagnostics"][0]["help"] == "did you mean `convolution2d`?"
    assert data["diagnostics"][0]["path"] == str(DIAGNOSTICS / "E201_unknown_kind.dlg")
    assert [layer["name"] for layer in data["layers"] if layer["broken"]] == ["conv1"]
    assert data["layers"][1]["written"] == 'convolution2D(5, 20, padding="same")', "the declaration of a layer of an unknown kind"
    assert diagnostics("E212_unknown_port.dlg")[1] == [("E212", 7, 23, ["add"])], "a connection to a port the layer lacks"
    assert diagnostics("E301_cycle.dlg")[1] == [("E301", 7, 5, ["add", "fc1"])], "the connection that closes the cycle"
    assert diagnostics("E401_addition_sizes.dlg")[1][0][3] == ["add"]
    data, found = diagnostics("ten_mistakes.dlg")
    assert [layers for _, _, _, layers in found] == [["a"], ["b"], ["c"], ["d"], ["e"], [], ["g"], ["a"], ["big"], []]
    (b,) = [layer for layer in data["layers"] if layer["name"] == "b"]
    assert b["arguments"] == {"#1": "3", "#2": "8", "pading": '"same"'}, "arguments that do not bind, as written"
    assert {layer["name"] for layer in data["layers"] if layer["broken"]} == {"a", "b", "c", "d", "e", "f", "g", "big"}


def test_a_diagnostic_inside_a_block_concerns_the_instance_it_names():
    text = """
    block unit(window) {
        input x
        output y
        pool = maxPooling2d(window)
        x -> pool -> y
    }
    network net {
        input = imageInput([8, 8, 1])
        first = unit(2)
        second = unit(9)
    }
    """
    checked = check_text(text, path="net.dlg")
    data = embedded(page(checked.graph, checked.analysis, checked.diagnostics))
    assert [(d["code"], d["layers"]) for d in data["diagnostics"]] == [("E402", ["second.pool"])]


def test_text_from_the_file_stays_text_in_the_page():
    hostile = "</script><script>alert('x')</script><!-- \u2028 & '"
    text = f'network net {{\n    input = imageInput([28, 28, 1])\n    conv = convolution2d(3, 8, padding="{hostile}")\n}}\n'
    checked = check_text(text, path="net.dlg")
    html_text = page(checked.graph, checked.analysis, checked.diagnostics)
    assert html_text.count("</script>") == 2, "only the page's own two scripts end"
    assert "<!--" not in html_text and "\u2028" not in html_text
    data = embedded(html_text)
    (layer,) = [layer for layer in data["layers"] if layer["name"] == "conv"]
    assert hostile in layer["arguments"]["padding"], "the value comes back as it was written"
    assert any(hostile in d["message"] for d in data["diagnostics"])


def test_the_page_needs_no_torch():
    code = (
        "import sys; from graphdl._frontend import check; from graphdl.views._page import page;"
        f"c = check({str(EXAMPLES / 'resnet18.dlg')!r}); page(c.graph, c.analysis);"
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_depth_and_expand_choose_what_the_page_opens_with(tmp_path):
    checked = check(EXAMPLES / "resnet50.dlg")
    assert "open" not in embedded(page(checked.graph, checked.analysis))  # the page decides
    assert embedded(page(checked.graph, checked.analysis, depth=1))["open"] == []
    assert embedded(page(checked.graph, checked.analysis, depth=2))["open"] == ["layer1", "layer2", "layer3", "layer4"]
    assert embedded(page(checked.graph, checked.analysis, depth=1, expand=["layer3.2"]))["open"] == ["layer3", "layer3.2"]
    # The command passes its options on, and refuses a block the network lacks, as for a picture.
    from graphdl.cli import main

    assert main(["render", str(EXAMPLES / "resnet50.dlg"), "-o", str(tmp_path / "r.html"), "--depth", "1", "--expand", "layer2"]) == 0
    assert embedded((tmp_path / "r.html").read_text())["open"] == ["layer2"]
    with pytest.raises(graphdl.GraphdlError, match="cannot unfold `layer7`") as caught:
        graphdl.render(checked.graph, tmp_path / "x.html", expand=["layer7"])
    assert caught.value.code == "E016" and not (tmp_path / "x.html").exists()
