"""The symbol index the editor navigates by (graphdl/editor/_symbols.py): what each name in a
`.dlg` file is, where it is defined and where it is used, the outline and the folds."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import EXAMPLES
from graphdl.editor._symbols import KINDS, FileSymbols, Symbol

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.dlg"))


def index(path: Path, text: str | None = None, files=None) -> FileSymbols:
    return FileSymbols.of(str(path), path.read_text() if text is None else text, files)


def at(symbols: FileSymbols, text: str, needle: str, nth: int = 0):
    """The occurrence at the `nth` place `needle` is written: the cursor where it has a `|`, else
    on its first character."""
    offset = -1
    for _ in range(nth + 1):
        offset = text.index(needle.replace("|", ""), offset + 1)
    return symbols.at(offset + max(needle.find("|"), 0))


def lines_of(symbols: FileSymbols, symbol: Symbol) -> list[tuple[int, bool]]:
    return [(o.span.line, o.definition) for o in symbols.references(symbol)]


def test_resnet50_block_scoping():
    text = (EXAMPLES / "resnet50.dlg").read_text()
    symbols = index(EXAMPLES / "resnet50.dlg")
    # `planes` in the block is its parameter, used in four arguments and the condition.
    planes = at(symbols, text, "bottleneck(|planes").symbol
    assert (planes.kind, planes.scope) == ("parameter", "bottleneck")
    assert sum(1 for o in symbols.references(planes) if not o.definition) == 5
    # `x`, the block's input port, named by chains and by `channels(x)`.
    x = at(symbols, text, "input |x").symbol
    assert (x.kind, x.name) == ("port", "x")
    uses = [o for o in symbols.references(x) if not o.definition]
    assert len(uses) == 4 and any(text[o.span.start - 9 : o.span.start] == "channels(" for o in uses)
    # `add` is used (in a chain) before it is declared, and resolves all the same.
    first_add = at(symbols, text, "add/in1")
    assert first_add.symbol.kind == "layer" and not first_add.definition
    assert any(o.definition for o in symbols.references(first_add.symbol))
    # Each instance names the block: four repetitions in the network.
    block = next(s for s in symbols.symbols if s.kind == "block")
    assert [d for _, d in lines_of(symbols, block)] == [True, False, False, False, False]
    # A repetition's variable is a parameter of that one declaration: each `i` its own.
    variables = {o.symbol for o in symbols.occurrences if o.symbol.name == "i"}
    assert sorted(len(symbols.references(v)) for v in variables) == [1, 2, 2, 2]  # layer1's is not used
    # The network's `size` is not the block's: the network has its own parameters.
    size = at(symbols, text, "size = 224").symbol
    assert size.scope == "resnet50" and len(symbols.references(size)) == 3


def test_dotted_names_and_ports_of_instances():
    text = """block pair(width) {
    input x
    output y
    a = fullyConnected(width)
    b = relu()
    x -> a -> b -> y
}

network net(n = 2) {
    input = featureInput(8)
    stage = pair(4) for i in 1..n
    last  = pair(width=8)
    input -> stage -> last/x
    last/y -> fullyConnected(2)
    output stage.1
}
"""
    symbols = FileSymbols.of("/tmp/net.dlg", text)
    # `last/x` names the block's input: a port of the block, in its own text.
    port = at(symbols, text, "last/|x")
    assert port.symbol.kind == "port" and port.symbol.span.line == 2
    assert at(symbols, text, "last/|y").symbol.span.line == 3
    # `width=8` names the block's parameter.
    keyword = at(symbols, text, "width=8")
    assert keyword.symbol.kind == "parameter" and keyword.symbol.scope == "pair" and keyword.symbol.span.line == 1
    # `stage.1`, a member of the repetition, is a use of `stage` over its first part.
    member = at(symbols, text, "stage.1")
    assert member.symbol.name == "stage" and member.span.end - member.span.start == len("stage")
    # `n` in the range's bound is the network's parameter.
    assert at(symbols, text, "1..|n").symbol.kind == "parameter"
    assert symbols.scope_at(text.index("stage =")) == "net" and symbols.scope_at(0) == "pair"


def test_siamese_shares():
    text = (EXAMPLES / "siamese.dlg").read_text()
    symbols = index(EXAMPLES / "siamese.dlg")
    left = at(symbols, text, "left ").symbol
    assert left.kind == "layer"
    # Declared, shared by `right`, and chained.
    assert sorted(d for _, d in lines_of(symbols, left)) == [False, False, True]
    assert at(symbols, text, "shares left") is None  # the keyword is no name
    assert at(symbols, text, "shares |left").symbol == left
    # `features` of the network passed to the block, `features` of the block: two symbols.
    features = {o.symbol for o in symbols.occurrences if o.symbol.name == "features"}
    assert {s.scope for s in features} == {"encoder", "siamese"}


@pytest.mark.parametrize("name", ["gan", "vae"])
def test_several_networks_keep_their_names_apart(name):
    path = EXAMPLES / f"{name}.dlg"
    symbols = index(path)
    networks = [entry for entry in symbols.outline if entry.kind == "network"]
    assert len(networks) >= 2
    # A layer name used in two networks is two symbols, each used only in its own.
    by_name: dict[str, set[Symbol]] = {}
    for occurrence in symbols.occurrences:
        if occurrence.symbol.kind == "layer":
            by_name.setdefault(occurrence.symbol.name, set()).add(occurrence.symbol)
    shared = [symbols_ for symbols_ in by_name.values() if len(symbols_) > 1]
    assert shared
    for group in shared:
        for symbol in group:
            scope = next(entry for entry in symbols.outline if entry.name == symbol.scope)
            assert all(scope.span.start <= o.span.start < scope.span.end for o in symbols.references(symbol))


def test_imported_block_resolves_to_its_file(tmp_path):
    blocks = tmp_path / "blocks.dlg"
    blocks.write_text("block convbn(channels, stride = 1) {\n    conv = convolution2d(3, channels, stride=stride)\n    bn = batchNormalization()\n}\n")
    main = tmp_path / "main.dlg"
    text = 'import "blocks.dlg"\n\nnetwork small {\n    input = imageInput([8, 8, 3])\n    stem = convbn(8, stride=2)\n}\n'
    main.write_text(text)
    symbols = index(main)
    block = at(symbols, text, "convbn").symbol
    assert (block.kind, block.path, block.span.line) == ("block", str(blocks), 1)
    stride = at(symbols, text, "stride=2").symbol
    assert (stride.kind, stride.scope, stride.path) == ("parameter", "convbn", str(blocks))
    # The import's path names the file; its definition is the file's start.
    imported = at(symbols, text, "blocks.dlg")
    assert imported.symbol.kind == "import" and imported.symbol.path == str(blocks) and imported.symbol.span.start == 0
    assert text[imported.span.start : imported.span.end] == "blocks.dlg"
    # The block's own index has the same symbol: references match across the two files.
    home = index(blocks)
    assert block in home.symbols and stride in home.symbols
    # Unsaved text of the imported file counts before the disk's.
    edited = "\n\n" + blocks.read_text()
    moved = at(index(main, files={str(blocks): edited}), text, "convbn").symbol
    assert moved.span.line == 3


def test_missing_import_is_no_symbol(tmp_path):
    text = 'import "nowhere.dlg"\n\nnetwork n {\n    input = featureInput(2)\n    b = nothing(1)\n}\n'
    symbols = FileSymbols.of(str(tmp_path / "main.dlg"), text)
    assert symbols.at(text.index("nowhere")) is None and symbols.imports == ()
    assert symbols.at(text.index("nothing")) is None  # an unknown callee: no block of that name


def test_a_file_with_syntax_errors_is_still_indexed():
    text = """network broken(width = 4) {
    input = featureInput(width)
    fc1 = fullyConnected(width +)
    fc2 = fullyConnected(width)
    input -> fc1 -> fc2 ->
    fc2 -> relu()
}
"""
    symbols = FileSymbols.of("/tmp/broken.dlg", text)
    width = at(symbols, text, "width").symbol
    assert width.kind == "parameter"
    assert len(symbols.references(width)) >= 3
    fc1 = at(symbols, text, "fc1").symbol  # its statement did not parse: its name is still declared
    assert fc1.kind == "layer" and fc1.span.line == 3
    assert at(symbols, text, "fc2 -> relu").symbol == at(symbols, text, "fc2 =").symbol
    assert [entry.name for entry in symbols.outline[0].children] == ["input", "fc1", "fc2"]


def test_outline_and_folds_of_resnet50():
    text = (EXAMPLES / "resnet50.dlg").read_text()
    symbols = index(EXAMPLES / "resnet50.dlg")
    block, network = symbols.outline
    assert (block.name, block.kind, block.detail) == ("bottleneck", "block", "(planes, stride)")
    assert [c.name for c in block.children][:3] == ["x", "y", "conv1"]
    assert "downsample.0" in [c.name for c in block.children]  # declared inside the condition
    assert (network.name, network.kind) == ("resnet50", "network")
    assert [c.name for c in network.children] == ["input", "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"]
    assert network.children[5].detail == "bottleneck(64) for i in 0..2"
    lines = text.split("\n")
    folds = dict(symbols.folds)
    # The block from its header to the line before its `}`; the `if` branch to the line before `} else {`.
    start = next(i for i, line in enumerate(lines) if line.startswith("block bottleneck"))
    assert lines[folds[start] + 1] == "}"
    condition = next(i for i, line in enumerate(lines) if line.strip().startswith("if "))
    assert lines[folds[condition] + 1].strip() == "} else {"
    else_line = folds[condition] + 1
    assert lines[folds[else_line] + 1].strip() == "}"
    # The file's opening comments fold as one comment.
    assert next(f for f in symbols.regions if f.first == 0).kind == "comment"


def test_multi_line_calls_and_imports_fold(tmp_path):
    text = """import "a.dlg"
import "b.dlg"

network n {
    input = imageInput(
        [28, 28, 1],
        normalization="none"
    )
}
"""
    symbols = FileSymbols.of(str(tmp_path / "n.dlg"), text)
    kinds = {(f.first, f.last): f.kind for f in symbols.regions}
    assert kinds == {(0, 1): "imports", (3, 7): "region", (4, 6): "region"}


def test_names_beside_a_symbol():
    text = (EXAMPLES / "resnet50.dlg").read_text()
    symbols = index(EXAMPLES / "resnet50.dlg")
    conv1 = at(symbols, text, "    |conv1 =").symbol
    assert {"bn1", "x", "y", "downsample.0"} <= symbols.names_beside(conv1)
    assert "maxpool" not in symbols.names_beside(conv1)  # the network's, not the block's
    planes = at(symbols, text, "(|planes, stride").symbol
    assert {"planes", "stride"} <= symbols.names_beside(planes) and "classes" not in symbols.names_beside(planes)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_every_occurrence_names_its_symbol(path):
    text = path.read_text()
    symbols = index(path)
    assert symbols.occurrences
    for occurrence in symbols.occurrences:
        symbol = occurrence.symbol
        assert symbol.kind in KINDS
        assert text[occurrence.span.start : occurrence.span.end] == symbol.name
        assert symbols.at(occurrence.span.start) == occurrence
        if symbol.path == str(path):
            assert any(o.definition and o.span == symbol.span for o in symbols.references(symbol))
    assert all(first <= last for first, last in symbols.folds)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(EXAMPLE_FILES), st.data())
def test_any_offset_and_any_edit(path, data):
    """At any offset, `at` finds the occurrence holding it, or none; an edit anywhere in an example
    (text cut out, or a character put in) leaves an index whose every occurrence still names its
    symbol, and never raises."""
    text = path.read_text()
    symbols = index(path)
    offset = data.draw(st.integers(0, len(text)))
    found = symbols.at(offset)
    assert found is None or found.span.start <= offset <= found.span.end
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, min(len(text), start + 40)))
    inserted = data.draw(st.sampled_from(["", "x", "(", ")", "{", "}", "->", "\n", "=", "/", '"', "#", "é"]))
    edited = text[:start] + inserted + text[end:]
    again = FileSymbols.of(str(path), edited)
    for occurrence in again.occurrences:
        assert edited[occurrence.span.start : occurrence.span.end] == occurrence.symbol.name
        assert again.at(occurrence.span.start) == occurrence


@given(st.text(max_size=300))
@settings(max_examples=100, deadline=None)
def test_any_text_is_indexed_without_raising(text):
    symbols = FileSymbols.of("/tmp/any.dlg", text)
    assert all(text[o.span.start : o.span.end] == o.symbol.name for o in symbols.occurrences)
