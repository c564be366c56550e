"""The interactive page in a real browser: a headless Chromium (tests/browser.py) opens the pages
graphdl writes and is clicked, typed into and scrolled as a person would, through the DevTools
protocol's input events."""

from __future__ import annotations

import pytest
from browser import Chromium, find_chromium

import graphdl
from conftest import DIAGNOSTICS, EXAMPLES
from graphdl._frontend import check
from graphdl.views._page import page

CHROMIUM = find_chromium()

pytestmark = [
    pytest.mark.slow,  # a browser starts, and lays out and draws ResNet-50 and ViT-B/16 several times
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium to run the page in (chromium, chromium-browser or google-chrome on PATH)"),
]


@pytest.fixture(scope="module")
def browser():
    chromium = Chromium(CHROMIUM)
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """Write the page of a network of a .dlg file once (its only one, or the one named); its path."""
    folder = tmp_path_factory.mktemp("pages")
    written = {}

    def write(path, network=None):
        if (path, network) not in written:
            checked = check(path, network)
            written[path, network] = folder / f"{path.stem}-{network}.html"
            written[path, network].write_text(page(checked.graph, checked.analysis, checked.diagnostics), encoding="utf-8")
        return written[path, network]

    return write


@pytest.fixture
def resnet50(browser, pages):
    browser.open(pages(EXAMPLES / "resnet50.dlg"))
    return browser


def nodes(browser, prefix=""):
    """The names of the nodes drawn (layers and folded blocks) that start with `prefix`."""
    return browser.evaluate(f"[...document.querySelectorAll('.node')].map(n => n.dataset.name).filter(n => n.startsWith({prefix!r}))")


def drag(browser, start, end):
    """Press the left button at `start`, move to `end` in steps, release."""
    (x0, y0), (x1, y1) = start, end
    browser.send("Input.dispatchMouseEvent", {"type": "mousePressed", "x": x0, "y": y0, "button": "left", "buttons": 1, "clickCount": 1})
    for step in range(1, 6):
        x, y = x0 + (x1 - x0) * step / 5, y0 + (y1 - y0) * step / 5
        browser.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y, "button": "left", "buttons": 1})
    browser.send("Input.dispatchMouseEvent", {"type": "mouseReleased", "x": x1, "y": y1, "button": "left", "buttons": 0, "clickCount": 1})


def click_node(browser, name):
    """Click a node as a person would: dragged into sight first if it is out of sight, a third
    of the drawing's size at a time, so that each drag stays inside the window."""
    selector = f'.node[data-name="{name}"]'
    left, top, width, height = browser.box("#view")
    for _ in range(20):
        x, y = browser.center(selector)
        if left + 20 < x < left + width - 20 and top + 20 < y < top + height - 20:
            break
        # From the drawing's left edge, where no node is, so that the drag starts on none.
        start = (left + 10, top + height / 2)
        step = (max(-width / 3, min(width / 3, left + width / 2 - x)), max(-height / 3, min(height / 3, top + height / 2 - y)))
        drag(browser, start, (start[0] + max(0, step[0]), start[1] + step[1]))
        if step[0] < 0:  # leftwards, from the right edge
            drag(browser, (left + width - 10, top + height / 2), (left + width - 10 + step[0], top + height / 2))
    browser.click_on(selector)


# What a layout must never do: two nodes on top of each other, a node inside a frame not its own,
# two frames of unrelated groups overlapping (from the page's layout, in layout coordinates).
OVERLAPS = """(() => {
  const L = graphdlPage.state.layout;
  const nodes = [...L.nodes.values()];
  const meet = (a, b) => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
  const ofNode = (n) => [n.x - n.w / 2, n.y - n.h / 2, n.x + n.w / 2, n.y + n.h / 2];
  const ofFrame = (f) => [f.box.x, f.box.y, f.box.x + f.box.w, f.box.y + f.box.h];
  const related = (a, b) => a === b || a.startsWith(b + ".") || b.startsWith(a + ".");
  const found = [];
  nodes.forEach((n, i) => nodes.slice(i + 1).forEach((m) => meet(ofNode(n), ofNode(m)) && found.push(`${n.id} on ${m.id}`)));
  for (const f of L.frames) {
    nodes.forEach((n) => !n.path.includes(f.name) && meet(ofFrame(f), ofNode(n)) && found.push(`${n.id} in ${f.name}`));
    L.frames.forEach((g) => f.name < g.name && !related(f.name, g.name) && meet(ofFrame(f), ofFrame(g)) && found.push(`${f.name} on ${g.name}`));
  }
  return found;
})()"""


def panel_rows(browser, table):
    """The rows of a table of the panel, as [name, value] pairs."""
    return browser.evaluate(f"[...document.querySelectorAll('#panel #{table} tr')].map(r => [...r.cells].map(c => c.innerText))")


def test_resnet50_opens_with_its_stages_showing_their_blocks_folded(resnet50):
    assert resnet50.errors == []
    drawn = nodes(resnet50)
    assert drawn[:5] == ["input", "conv1", "bn1", "relu", "maxpool"]
    assert [name for name in drawn if name.startswith("layer")] == [f"layer{s}.{b}" for s, n in ((1, 3), (2, 4), (3, 6), (4, 3)) for b in range(n)]
    assert resnet50.evaluate("document.querySelectorAll('.node.folded').length") == 16
    assert resnet50.evaluate("[...document.querySelectorAll('.frame')].map(f => f.dataset.name)") == ["layer1", "layer2", "layer3", "layer4"]


def test_a_click_unfolds_a_block_and_a_click_on_its_title_folds_it(resnet50):
    click_node(resnet50, "layer1.0")
    inside = nodes(resnet50, "layer1.0.")
    # Its ten layers, and its shortcut's projection, a group of its own, folded.
    assert len(inside) == 11 and "layer1.0.downsample" in inside and "layer1.0.conv1" in inside
    assert nodes(resnet50, "layer1.0") == inside, "the folded node is gone"
    assert resnet50.evaluate("document.querySelector('#panel h2').innerText") == "layer1.0"
    assert resnet50.evaluate("[...document.querySelectorAll('.frame.selected')].map(f => f.dataset.name)") == ["layer1.0"]
    rows = dict(panel_rows(resnet50, "group"))
    assert rows["layers"] == "12" and rows["learnables"] == "75,008"
    assert (rows["in"], rows["out"]) == ("56x56x64 maxpool", "56x56x256 layer1.0.relu3")
    resnet50.click_on('.frame-title[data-name="layer1.0"]')
    assert nodes(resnet50, "layer1.0") == ["layer1.0"]
    assert len(nodes(resnet50)) == 23
    assert resnet50.errors == []


def test_a_click_on_a_layer_shows_its_details(resnet50):
    click_node(resnet50, "layer2.0")
    click_node(resnet50, "layer2.0.conv2")
    checked = check(EXAMPLES / "resnet50.dlg")
    info = checked.analysis["layer2.0.conv2"]
    assert resnet50.evaluate("document.querySelector('#panel h2').innerText") == "layer2.0.conv2"
    assert "convolution2d" in resnet50.evaluate("document.querySelector('#panel .kind').innerText")
    assert panel_rows(resnet50, "sizes") == [["input", str(info.inputs["in"])], ["output", str(info.outputs["out"])]] == [
        ["input", "56x56x128"],
        ["output", "28x28x128"],
    ]
    assert panel_rows(resnet50, "learnables") == [["weight", "128x128x3x3 (147,456)"], ["total", "147,456"]]
    line = checked.graph["layer2.0.conv2"].span.line
    assert resnet50.evaluate("document.getElementById('where').innerText") == f"{EXAMPLES / 'resnet50.dlg'}:{line}"
    assert ["stride", "[2, 2]"] in panel_rows(resnet50, "arguments")
    assert resnet50.evaluate("document.querySelector('.node.selected').dataset.name") == "layer2.0.conv2"


def test_search_finds_a_layer_inside_a_folded_block_and_unfolds_to_it(resnet50):
    resnet50.click_on("#search")
    resnet50.type("layer3.4.conv")
    assert resnet50.evaluate("document.getElementById('matches').innerText") == "3 layers"
    assert resnet50.evaluate("[...document.querySelectorAll('.node.match')].map(n => n.dataset.name)") == ["layer3.4"]
    resnet50.press("Enter")
    assert resnet50.evaluate("document.querySelector('.node.selected').dataset.name") == "layer3.4.conv1"
    assert resnet50.evaluate("document.querySelector('#panel h2').innerText") == "layer3.4.conv1"
    # Brought into view: its middle is in the drawing's part of the window.
    x, y = resnet50.center('.node[data-name="layer3.4.conv1"]')
    left, top, width, height = resnet50.box("#view")
    assert left < x < left + width and top < y < top + height
    resnet50.press("Enter")
    assert resnet50.evaluate("document.querySelector('.node.selected').dataset.name") == "layer3.4.conv2"


def test_wheel_zooms_and_a_drag_pans(resnet50):
    before = resnet50.evaluate("({...graphdlPage.state.view})")
    x, y = resnet50.center("#view")
    resnet50.send("Input.dispatchMouseEvent", {"type": "mouseWheel", "x": x, "y": y, "deltaX": 0, "deltaY": -300})
    zoomed = resnet50.evaluate("({...graphdlPage.state.view})")
    assert zoomed["k"] > before["k"] * 1.3
    drag(resnet50, (x, y), (x + 100, y + 50))
    panned = resnet50.evaluate("({...graphdlPage.state.view})")
    assert (round(panned["x"] - zoomed["x"]), round(panned["y"] - zoomed["y"])) == (100, 50)
    assert len(nodes(resnet50)) == 23, "a drag that ends on a block does not unfold it"


EVERY_NETWORK = [(path, name) for path in sorted(EXAMPLES.glob("*.dlg")) for name in graphdl.networks(path)]


@pytest.mark.parametrize(("path", "network"), EVERY_NETWORK, ids=[f"{p.stem}-{n}" for p, n in EVERY_NETWORK])
def test_every_example_opens_unfolds_and_folds(browser, pages, path, network):
    browser.open(pages(path, network))
    checked = check(path, network)
    assert browser.errors == []
    tops = {layer.name.split(".")[0] for layer in checked.graph.layers}
    # Blocks open level by level while about 50 nodes or fewer show.
    assert len(tops) <= len(nodes(browser)) <= max(50, len(tops))
    assert browser.evaluate(OVERLAPS) == []
    browser.click_on("#unfold-all")
    assert len(nodes(browser)) == len(checked.graph), "every layer drawn"
    assert browser.evaluate(OVERLAPS) == []
    assert browser.evaluate("document.querySelectorAll('.node.folded').length") == 0
    browser.click_on("#fold-all")
    assert sorted(nodes(browser)) == sorted(tops)
    assert browser.errors == []


def test_a_broken_file_shows_its_diagnostics_on_their_layers(browser, pages):
    path = DIAGNOSTICS / "ten_mistakes.dlg"
    browser.open(pages(path))
    assert browser.errors == []
    listed = browser.evaluate("[...document.querySelectorAll('#problems li')].map(li => li.innerText)")
    assert len(listed) == 10 and listed[0].startswith("error[E201] unknown layer kind or block `convolution2D`")
    assert f"{path}:9:13" in listed[0]
    broken = browser.evaluate("[...document.querySelectorAll('.node.broken')].map(n => n.dataset.name)")
    assert set(broken) == {"a", "b", "c", "d", "e", "f", "g", "big"}
    assert browser.evaluate("getComputedStyle(document.querySelector('.node[data-name=\"b\"] rect.box')).stroke") == "rgb(220, 38, 38)"
    assert browser.evaluate("document.querySelector('.node[data-name=\"input\"]').classList.contains('broken')") is False
    click_node(browser, "b")
    shown = browser.evaluate("[...document.querySelectorAll('#panel .diagnostic')].map(d => d.innerText)")
    assert len(shown) == 1 and "error[E202] unknown argument `pading`" in shown[0] and f"{path}:10:33" in shown[0]
    # A click on a diagnostic in the list goes to its layer.
    browser.click_on('#problems li[data-index="8"]')
    assert browser.evaluate("document.querySelector('#panel h2').innerText") == "big"
    assert browser.errors == []


@pytest.mark.parametrize("name", ["E304_empty_network.dlg", "E233_size_of_an_input_fed_nothing.dlg", "E301_cycle.dlg"])
def test_odd_networks_draw_without_an_error(browser, pages, name):
    # No layer at all; a layer connected to nothing inside a block's frame; a cycle.
    browser.open(pages(DIAGNOSTICS / name))
    assert browser.errors == []
    assert browser.evaluate(OVERLAPS) == []
    assert browser.evaluate("document.querySelectorAll('#problems li').length") >= 1


def test_depth_and_expand_choose_the_blocks_it_opens_with(browser, tmp_path):
    # `graphdl render resnet50.dlg -o r.html --depth 1 --expand layer3`: the stages folded but the
    # third, whose six blocks show folded, each its own node (the page rolls nothing up).
    checked = check(EXAMPLES / "resnet50.dlg")
    path = graphdl.render(checked.graph, tmp_path / "r.html", checked.analysis, depth=1, expand=["layer3"])
    browser.open(path)
    assert browser.errors == []
    shown = nodes(browser)
    assert {"layer1", "layer2", "layer4", "conv1", "fc"} <= set(shown)
    assert [name for name in shown if name.startswith("layer3")] == [f"layer3.{i}" for i in range(6)]
