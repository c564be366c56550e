"""Navigation through the language server, over real stdio with an LSP client (pytest-lsp):
definition, references, rename, the outline and folding, on copies of the examples and on two
files, one importing the other. One server serves the whole module."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient

import graphdl
from conftest import EXAMPLES

pytestmark = pytest.mark.asyncio(loop_scope="module")

SERVER = [sys.executable, "-m", "graphdl", "lsp"]

BLOCKS = """block convbn(channels, stride = 1) {
    conv = convolution2d(3, channels, stride=stride, padding="same")
    bn   = batchNormalization()
    act  = relu()
}
"""

MAIN = """import "blocks.dlg"

network small(width = 16) {
    let wide = width * 2
    input = imageInput([32, 32, 3])
    stem  = convbn(width)
    down  = convbn(wide, stride=2)
    pool  = globalAveragePooling2d()
    fc    = fullyConnected(10)
}
"""

OTHER = """import "blocks.dlg"

network other {
    input = imageInput([8, 8, 3])
    unit  = convbn(4)
}
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("workspace")
    for name in ("resnet50.dlg", "siamese.dlg"):
        shutil.copy(EXAMPLES / name, folder / name)
    (folder / "blocks.dlg").write_text(BLOCKS)
    (folder / "main.dlg").write_text(MAIN)
    (folder / "other.dlg").write_text(OTHER)  # never opened: found by walking the workspace folder
    return folder


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient, workspace: Path):
    # VS Code's capabilities include watching files for the server, which asks for it: the
    # client answers the request as VS Code does (pytest-lsp's own client has no handler for it).
    lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)(lambda params: None)
    uri = from_fs_path(str(workspace))
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=pytest_lsp.client_capabilities("visual-studio-code"),
            root_uri=uri,
            workspace_folders=[types.WorkspaceFolder(uri, "workspace")],
        )
    )
    yield
    await lsp_client.shutdown_session()


def uri_of(path: Path) -> str:
    return from_fs_path(str(path))


def opened(client: LanguageClient, path: Path) -> str:
    """The document at `path` opened in the editor (once), its text returned."""
    text = path.read_text()
    if uri_of(path) not in getattr(client, "_opened", set()):
        client._opened = getattr(client, "_opened", set()) | {uri_of(path)}
        client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri_of(path), "dlg", 1, text)))
    return text


def position(text: str, needle: str, nth: int = 0) -> types.Position:
    """Where the `nth` `needle` is written: at its `|`, else at its first character (ASCII text)."""
    offset = -1
    for _ in range(nth + 1):
        offset = text.index(needle.replace("|", ""), offset + 1)
    offset += max(needle.find("|"), 0)
    return types.Position(text.count("\n", 0, offset), offset - (text.rfind("\n", 0, offset) + 1))


def spots(text: str, needle: str) -> list[types.Position]:
    """Every place `needle` is written outside comments, at its `|`."""
    found, offset = [], text.find(needle.replace("|", ""))
    while offset >= 0:
        line_start = text.rfind("\n", 0, offset) + 1
        if "#" not in text[line_start:offset]:
            at = offset + max(needle.find("|"), 0)
            found.append(types.Position(text.count("\n", 0, at), at - line_start))
        offset = text.find(needle.replace("|", ""), offset + 1)
    return found


def starts(locations) -> list[tuple[str, int, int]]:
    return sorted((Path(location.uri).name, location.range.start.line, location.range.start.character) for location in locations)


def apply(text: str, edits: list[types.TextEdit]) -> str:
    lines = text.split("\n")

    def offset(p: types.Position) -> int:
        return sum(len(line) + 1 for line in lines[: p.line]) + p.character

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
    return text


async def references(client: LanguageClient, path: Path, at: types.Position, declaration: bool = True):
    return await client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri_of(path)), position=at, context=types.ReferenceContext(include_declaration=declaration)
        )
    )


async def rename(client: LanguageClient, path: Path, at: types.Position, new: str) -> types.WorkspaceEdit:
    return await client.text_document_rename_async(types.RenameParams(text_document=types.TextDocumentIdentifier(uri_of(path)), position=at, new_name=new))


async def test_definition_of_a_layer(client: LanguageClient, workspace: Path):
    path = workspace / "resnet50.dlg"
    text = opened(client, path)
    # `add` is chained before it is declared.
    found = await client.text_document_definition_async(types.DefinitionParams(types.TextDocumentIdentifier(uri_of(path)), position(text, "bn3 -> |add")))
    assert starts([found]) == [("resnet50.dlg", position(text, "    |add   =").line, 4)]


async def test_references_of_a_layer(client: LanguageClient, workspace: Path):
    path = workspace / "siamese.dlg"
    text = opened(client, path)
    found = await references(client, path, position(text, "-> |difference/in1"))
    assert starts(found) == [("siamese.dlg", p.line, p.character) for p in spots(text, "difference")]
    assert len(found) == 4  # declared, and three uses; not the comment's "absolute difference"
    without = await references(client, path, position(text, "-> |difference/in1"), declaration=False)
    assert len(without) == 3


async def test_a_parameter_and_a_constant(client: LanguageClient, workspace: Path):
    path = workspace / "resnet50.dlg"
    text = opened(client, path)
    found = await references(client, path, position(text, "conv3 = convolution2d(1, |planes"), declaration=False)
    assert len(found) == 5 and all(Path(location.uri).name == "resnet50.dlg" for location in found)
    definition = await client.text_document_definition_async(
        types.DefinitionParams(types.TextDocumentIdentifier(uri_of(path)), position(text, "conv3 = convolution2d(1, |planes"))
    )
    assert starts([definition]) == [("resnet50.dlg", *_pair(position(text, "bottleneck(|planes")))]
    main = workspace / "main.dlg"
    text = opened(client, main)
    wide = await references(client, main, position(text, "convbn(|wide"))
    assert starts(wide) == [("main.dlg", *_pair(p)) for p in (position(text, "let |wide"), position(text, "convbn(|wide"))]


def _pair(p: types.Position) -> tuple[int, int]:
    return p.line, p.character


async def test_a_block_across_two_files(client: LanguageClient, workspace: Path):
    main, blocks = workspace / "main.dlg", workspace / "blocks.dlg"
    text = opened(client, main)
    found = await client.text_document_definition_async(types.DefinitionParams(types.TextDocumentIdentifier(uri_of(main)), position(text, "|convbn(wide")))
    assert starts([found]) == [("blocks.dlg", *_pair(position(BLOCKS, "block |convbn")))]
    # From the block's own file (not open), its uses in the file that imports it.
    every = await references(client, blocks, position(BLOCKS, "block conv|bn"))
    uses = [("main.dlg", *_pair(p)) for p in spots(text, "|convbn(")]
    assert len(uses) == 2
    assert starts(every) == [("blocks.dlg", *_pair(position(BLOCKS, "block |convbn"))), *uses, ("other.dlg", *_pair(position(OTHER, "|convbn")))]
    # `stride=2` in main.dlg names the block's parameter.
    stride = await references(client, main, position(text, "|stride=2"))
    in_block = [("blocks.dlg", *_pair(p)) for p in (position(BLOCKS, "channels, |stride"), position(BLOCKS, "stride=|stride"))]
    assert starts(stride) == [*in_block, ("main.dlg", *_pair(position(text, "|stride=2")))]
    imported = await client.text_document_definition_async(types.DefinitionParams(types.TextDocumentIdentifier(uri_of(main)), position(text, '"|blocks')))
    assert starts([imported]) == [("blocks.dlg", 0, 0)]


async def test_rename_a_layer(client: LanguageClient, workspace: Path):
    path = workspace / "siamese.dlg"
    text = opened(client, path)
    edit = await rename(client, path, position(text, "|difference  ="), "gap")
    assert list(edit.changes) == [uri_of(path)]
    renamed = apply(text, edit.changes[uri_of(path)])
    expected = "\n".join(line if line.startswith("#") else line.replace("difference", "gap") for line in text.split("\n"))
    assert renamed == expected and "absolute difference" in renamed
    result = workspace / "renamed.dlg"
    result.write_text(renamed)
    try:
        assert graphdl.check(result).ok
    finally:
        result.unlink()


async def test_rename_a_block_across_files(client: LanguageClient, workspace: Path):
    main, blocks = workspace / "main.dlg", workspace / "blocks.dlg"
    text = opened(client, main)
    edit = await rename(client, main, position(text, "|convbn(width"), "unit")
    assert sorted(Path(uri).name for uri in edit.changes) == ["blocks.dlg", "main.dlg", "other.dlg"]
    assert apply(text, edit.changes[uri_of(main)]) == text.replace("convbn(", "unit(")
    assert apply(BLOCKS, edit.changes[uri_of(blocks)]) == BLOCKS.replace("block convbn", "block unit")
    assert apply(OTHER, edit.changes[uri_of(workspace / "other.dlg")]) == OTHER.replace("convbn(", "unit(")
    # Not to the name of a network of a file that imports it, nor to a layer kind's.
    with pytest.raises(JsonRpcException, match=r"`small` is already the name of a network or block in main\.dlg"):
        await rename(client, blocks, position(BLOCKS, "block |convbn"), "small")
    with pytest.raises(JsonRpcException, match="is a layer kind"):
        await rename(client, main, position(text, "|convbn(width"), "relu")


async def test_rename_refuses(client: LanguageClient, workspace: Path):
    path = workspace / "resnet50.dlg"
    text = opened(client, path)
    identifier = types.TextDocumentIdentifier(uri_of(path))
    # Nothing to rename on a layer kind (the catalog's), nor a network (named from outside).
    for needle in ("conv1 = |convolution2d(1", "network |resnet50"):
        with pytest.raises(JsonRpcException, match=r"nothing to rename|rename it by hand"):
            await client.text_document_prepare_rename_async(types.PrepareRenameParams(identifier, position(text, needle)))
    found = await client.text_document_prepare_rename_async(types.PrepareRenameParams(identifier, position(text, "    |relu3 =")))
    assert found.placeholder == "relu3"
    # A name that cannot name a layer, and one taken in the same block.
    with pytest.raises(JsonRpcException, match="Python keyword"):
        await rename(client, path, position(text, "    |relu3 ="), "class")
    with pytest.raises(JsonRpcException, match="already a layer or port of `bottleneck`"):
        await rename(client, path, position(text, "    |relu3 ="), "bn1")
    with pytest.raises(JsonRpcException, match="already a parameter or constant"):
        await rename(client, path, position(text, "bottleneck(|planes"), "stride")


async def test_outline_of_resnet50(client: LanguageClient, workspace: Path):
    path = workspace / "resnet50.dlg"
    opened(client, path)
    outline = await client.text_document_document_symbol_async(types.DocumentSymbolParams(types.TextDocumentIdentifier(uri_of(path))))
    assert [(s.name, s.kind) for s in outline] == [("bottleneck", types.SymbolKind.Function), ("resnet50", types.SymbolKind.Class)]
    block, network = outline
    kinds = [(c.name, c.kind) for c in block.children[:3]]
    assert kinds == [("x", types.SymbolKind.Interface), ("y", types.SymbolKind.Interface), ("conv1", types.SymbolKind.Field)]
    assert [c.name for c in network.children] == ["input", "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"]
    assert network.children[6].detail == "bottleneck(128, 2 if i == 0 else 1) for i in 0..3"
    assert network.selection_range.start.line == network.range.start.line


async def test_folding_of_a_block(client: LanguageClient, workspace: Path):
    path = workspace / "resnet50.dlg"
    text = opened(client, path)
    ranges = await client.text_document_folding_range_async(types.FoldingRangeParams(types.TextDocumentIdentifier(uri_of(path))))
    lines = text.split("\n")
    block = next(r for r in ranges if lines[r.start_line].startswith("block bottleneck"))
    assert lines[block.end_line + 1] == "}" and block.kind == types.FoldingRangeKind.Region
    branch = next(r for r in ranges if lines[r.start_line].strip().startswith("if stride"))
    assert lines[branch.end_line + 1].strip() == "} else {"
    assert ranges[0].start_line == 0 and ranges[0].kind == types.FoldingRangeKind.Comment


async def test_what_cannot_be_answered_is_answered_empty(client: LanguageClient, workspace: Path):
    """A file that is not there, a position past the end of the text, a broken file: empty
    answers, and the server goes on answering."""
    missing = types.TextDocumentIdentifier(uri_of(workspace / "missing.dlg"))
    assert await client.text_document_definition_async(types.DefinitionParams(missing, types.Position(0, 0))) is None
    assert not await client.text_document_document_symbol_async(types.DocumentSymbolParams(missing))
    assert not await client.text_document_folding_range_async(types.FoldingRangeParams(missing))
    path = workspace / "broken.dlg"
    path.write_text("network n {\n    a = relu(\n    b = -> ->\n")
    opened(client, path)
    identifier = types.TextDocumentIdentifier(uri_of(path))
    assert await client.text_document_definition_async(types.DefinitionParams(identifier, types.Position(40, 99))) is None
    assert not await references(client, path, types.Position(1, 4))
    assert not await client.text_document_document_symbol_async(types.DocumentSymbolParams(identifier))
    siamese = workspace / "siamese.dlg"
    text = opened(client, siamese)
    assert len(await references(client, siamese, position(text, "-> |difference/in1"))) == 4
