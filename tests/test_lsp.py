"""`graphdl lsp`, driven over stdio by an LSP client (pytest-lsp), one server for the module:
diagnostics as `graphdl check` gives them, hover with `graphdl summary`'s sizes, inlay hints,
completion, formatting as `graphdl fmt` does it, and no input that stops the server answering."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from hypothesis import HealthCheck, given, settings, strategies as st
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

from graphdl._frontend import check
from graphdl.cli._main import main
from graphdl.syntax import format_dlg
from graphdl.views import summary

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
BROKEN = sorted((ROOT / "tests" / "diagnostics").glob("*.dlg"))

pytestmark = pytest.mark.asyncio(loop_scope="module")


def recording_client() -> LanguageClient:
    """pytest-lsp's client, keeping every publishDiagnostics in arrival order (its
    `wait_for_notification` misses one that arrives in the same read as the one before)."""
    client = LanguageClient(converter_factory=default_converter)

    def publish_diagnostics(client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        client.diagnostics[params.uri] = params.diagnostics
        client.published.append(params)

    def register_capability(client: LanguageClient, params: types.RegistrationParams) -> None:
        client.registrations.extend(params.registrations)

    client.published = []
    client.registrations = []
    features = {
        **DEFAULT_CLIENT_FEATURES,
        types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: publish_diagnostics,
        types.CLIENT_REGISTER_CAPABILITY: register_capability,
    }
    register_lsp_features(client, features)
    return client


SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "graphdl", "lsp"], client_factory=recording_client)


@pytest_lsp.fixture(scope="module", config=SERVER)
async def client(lsp_client: LanguageClient):
    # A client that would rather count in UTF-8, as Neovim does: the server keeps to UTF-16.
    general = types.GeneralClientCapabilities(position_encodings=[types.PositionEncodingKind.Utf8, types.PositionEncodingKind.Utf16])
    markdown = [types.MarkupKind.Markdown]
    shown = types.TextDocumentClientCapabilities(
        hover=types.HoverClientCapabilities(content_format=markdown),
        completion=types.CompletionClientCapabilities(completion_item=types.ClientCompletionItemOptions(documentation_format=markdown)),
    )
    # A client that watches files for its servers, as VS Code does.
    watching = types.WorkspaceClientCapabilities(did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(dynamic_registration=True))
    capabilities = types.ClientCapabilities(general=general, text_document=shown, workspace=watching)
    lsp_client.initialized_with = await lsp_client.initialize_session(types.InitializeParams(capabilities=capabilities, root_uri=ROOT.as_uri()))
    yield
    await lsp_client.shutdown_session()


class Session:
    """Documents opened in the server, each a version counter, closed at the end."""

    def __init__(self, client: LanguageClient):
        self.client = client
        self.versions: dict[str, int] = {}

    def open(self, path: Path, text: str | None = None) -> str:
        uri = path.as_uri()
        self.versions[uri] = 1
        item = types.TextDocumentItem(uri, "dlg", 1, path.read_text(encoding="utf-8") if text is None else text)
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(item))
        return uri

    def change(self, uri: str, text: str) -> None:
        self.versions[uri] += 1
        document = types.VersionedTextDocumentIdentifier(self.versions[uri], uri)
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(document, [types.TextDocumentContentChangeWholeDocument(text)]))

    def close_all(self) -> None:
        for uri in self.versions:
            self.client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
        self.versions.clear()


@contextlib.asynccontextmanager
async def session(client: LanguageClient):
    opened = Session(client)
    client.published.clear()
    try:
        yield opened
    finally:
        opened.close_all()


async def published(client: LanguageClient, uri: str, version: int | None = None) -> list[types.Diagnostic]:
    """The next diagnostics published for `uri` (for its `version`, where given: those of a
    document closed before are published too, without a version)."""

    async def wait():
        while True:
            for params in client.published:
                if params.uri == uri and (version is None or params.version == version):
                    client.published.remove(params)
                    return params.diagnostics
            await asyncio.sleep(0.005)

    return await asyncio.wait_for(wait(), 30)


async def until(condition) -> None:
    while not condition():
        await asyncio.sleep(0.005)


def reported_by_check(path: Path) -> set[tuple[str, int, int]]:
    """(code, 0-based line, 0-based column) of what `graphdl check` prints for the file itself."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        main(["check", str(path), "--color", "never"])
    found = re.findall(r"^(?:error|warning)\[(E\d+)\]: .*\n *--> (.*):(\d+):(\d+)$", stderr.getvalue(), re.MULTILINE)
    return {(code, int(line) - 1, int(column) - 1) for code, where, line, column in found if Path(where).resolve() == path.resolve()}


async def test_diagnostics_are_those_of_check(client: LanguageClient):
    async with session(client) as documents:
        for path in BROKEN:
            uri = documents.open(path)
            found = await published(client, uri, documents.versions[uri])
            assert {(d.code, d.range.start.line, d.range.start.character) for d in found} == reported_by_check(path), path.name
            assert all(d.source == "graphdl" and d.code_description.href.endswith(f"/{d.code}.md") for d in found)
            if path.name == "E210_duplicate_layer.dlg":  # its label, a related location
                (related,) = found[0].related_information
                assert (related.location.uri, related.location.range.start.line, related.message) == (uri, 2, "first declared here")


async def test_a_fix_clears_the_diagnostics(client: LanguageClient):
    path = ROOT / "tests" / "diagnostics" / "E201_unknown_kind.dlg"
    text = path.read_text()
    async with session(client) as documents:
        uri = documents.open(path)
        (found,) = await published(client, uri, documents.versions[uri])
        assert found.code == "E201" and "help: did you mean `convolution2d`?" in found.message
        assert Path(found.code_description.href.removeprefix("file://")).read_text().startswith("# E201")
        documents.change(uri, text.replace("convolution2D", "convolution2d"))
        assert not await published(client, uri, documents.versions[uri])


async def test_a_burst_of_changes_is_checked_once(client: LanguageClient):
    path = EXAMPLES / "mnist.dlg"
    text = path.read_text()
    async with session(client) as documents:
        uri = documents.open(path)
        await published(client, uri, 1)
        for size in range(11, 16):  # keystrokes closer together than the server's pause
            documents.change(uri, text.replace("fullyConnected(10)", f"fullyConnected({size})"))
        await published(client, uri, documents.versions[uri])
        assert not [p.version for p in client.published if p.uri == uri]  # none of the versions before


async def test_columns_count_utf16_after_non_ascii(client: LanguageClient, tmp_path_factory):
    folder = tmp_path_factory.mktemp("a folder with spaces")  # quoted in its URI (%20), unquoted in pygls
    astral = "\U0001d518"  # outside the Basic Multilingual Plane: two UTF-16 units
    prefix = f'    fc    = fullyConnected(10 if "é{astral}" == "x" else 10, '
    text = f"# π ≈ 3.14, {astral}\nnetwork n {{\n    input = featureInput(4)\n{prefix}bogus=1)\n}}\n"
    async with session(client) as documents:
        uri = documents.open(folder / "unicode.dlg", text)
        (found,) = await published(client, uri, documents.versions[uri])
    assert found.code == "E202"
    assert client.initialized_with.capabilities.position_encoding == types.PositionEncodingKind.Utf16
    assert (found.range.start.line, found.range.start.character) == (3, len(prefix.encode("utf-16-le")) // 2)
    assert found.range.end.character - found.range.start.character == len("bogus")


async def test_diagnostics_in_an_imported_file_follow_its_changes(client: LanguageClient, tmp_path_factory):
    folder = tmp_path_factory.mktemp("imports")
    library, network = folder / "blocks.dlg", folder / "net.dlg"
    broken = "block unit(channels) {\n    conv = convolution2D(3, channels)\n    act  = relu()\n}\n"
    library.write_text(broken)
    network.write_text('import "blocks.dlg"\n\nnetwork net {\n    input = imageInput([8, 8, 3])\n    u     = unit(4)\n}\n')
    async with session(client) as documents:
        network_uri = documents.open(network)
        found = await published(client, library.as_uri())
        assert [(d.code, d.range.start.line) for d in found] == [("E201", 1)]
        library_uri = documents.open(library)
        await published(client, library_uri, documents.versions[library_uri])
        documents.change(library_uri, broken.replace("convolution2D", "convolution2d"))  # unsaved: the importer reads the editor's text
        assert not await published(client, network_uri, documents.versions[network_uri])  # checked again, with the library's new text
        # What the importer found there is gone; the library's own warning (no network) stays.
        await asyncio.wait_for(until(lambda: [d.code for d in client.diagnostics[library_uri]] == ["E002"]), 30)


async def test_an_import_changed_on_disk_and_not_open_is_read_again(client: LanguageClient, tmp_path_factory):
    # A `git checkout` or another editor changes a file an open document imports: the client's
    # file watcher tells the server, which checks the importer again.
    folder = tmp_path_factory.mktemp("watched")
    library, network = folder / "blocks.dlg", folder / "net.dlg"
    good = "block unit(channels) {\n    conv = convolution2d(3, channels)\n    act  = relu()\n}\n"
    library.write_text(good)
    network.write_text('import "blocks.dlg"\n\nnetwork net {\n    input = imageInput([8, 8, 3])\n    u     = unit(4)\n}\n')
    await asyncio.wait_for(until(lambda: client.registrations), 30)  # asked for once the session began
    (watched,) = [r for r in client.registrations if r.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES]
    assert [w["globPattern"] for w in watched.register_options["watchers"]] == ["**/*.dlg"]  # as JSON: the client reads it
    async with session(client) as documents:
        network_uri = documents.open(network)
        assert not await published(client, network_uri, documents.versions[network_uri])
        library.write_text(good.replace("convolution2d", "convolution2D"))
        change = types.FileEvent(library.as_uri(), types.FileChangeType.Changed)
        client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams([change]))
        found = await published(client, library.as_uri())
        assert [(d.code, d.range.start.line) for d in found] == [("E201", 1)]


async def test_hover_on_a_layer_shows_the_summary_sizes(client: LanguageClient):
    path = EXAMPLES / "resnet50.dlg"
    text = path.read_text()
    checked = check(path)
    rows = {row[1]: row for row in summary(checked.graph, checked.analysis).rows}
    async with session(client) as documents:
        uri = documents.open(path)
        await published(client, uri, documents.versions[uri])
        line = next(number for number, line in enumerate(text.split("\n")) if re.match(r"\s*conv1\s+= convolution2d\(7", line))
        column = text.split("\n")[line].index("conv1")
        answer = await client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(line, column + 1)))
        for cell in rows["conv1"][3:8]:  # activations, learnables, count, FLOPs, memory
            assert cell in answer.contents.value
        # A layer of the bottleneck block: one row per instance, each with summary's sizes.
        line = next(number for number, line in enumerate(text.split("\n")) if line.strip().startswith("conv2 ="))
        answer = await client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(line, 5)))
        assert "16 layers, one for each instance" in answer.contents.value
        assert f"| layer1.0.conv2 | {rows['layer1.0.relu1'][3]} | {rows['layer1.0.conv2'][3]} |" in answer.contents.value


async def test_hover_on_a_block_a_parameter_and_a_network(client: LanguageClient):
    path = EXAMPLES / "resnet50.dlg"
    text = path.read_text()
    checked = check(path)

    async def hover_at(probe: str) -> str:
        line = next(number for number, line in enumerate(text.split("\n")) if probe in line)
        position = types.Position(line, text.split("\n")[line].index(probe) + 1)
        return (await client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), position))).contents.value

    async with session(client) as documents:
        uri = documents.open(path)
        await published(client, uri, 1)
        assert "block bottleneck(planes, stride = 1)" in await hover_at("bottleneck(planes")
        assert "classes = 1000" in await hover_at("classes = 1000")
        assert summary(checked.graph, checked.analysis).header in await hover_at("resnet50(classes")
        instances = await hover_at("layer2  =")
        assert "block `bottleneck`" in instances and "| layer2.3 | 28x28x512 |" in instances


async def test_hover_on_a_kind_shows_its_signature(client: LanguageClient):
    path = EXAMPLES / "mnist.dlg"
    text = path.read_text()
    async with session(client) as documents:
        uri = documents.open(path)
        await published(client, uri, documents.versions[uri])
        line = next(number for number, line in enumerate(text.split("\n")) if "convolution2d(" in line)
        column = text.split("\n")[line].index("convolution2d")
        answer = await client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(line, column + 3)))
    assert "convolution2d(filterSize, numFilters, stride=1" in answer.contents.value
    assert "convolution:" in answer.contents.value


async def test_inlay_hints_are_the_output_sizes(client: LanguageClient):
    path = EXAMPLES / "mnist.dlg"
    text = path.read_text()
    checked = check(path)
    async with session(client) as documents:
        uri = documents.open(path)
        await published(client, uri, documents.versions[uri])
        everything = types.Range(types.Position(0, 0), types.Position(len(text.split("\n")), 0))
        found = await client.text_document_inlay_hint_async(types.InlayHintParams(types.TextDocumentIdentifier(uri), everything))
    lines = text.split("\n")
    shown = {lines[h.position.line].split("=")[0].strip(): h.label for h in found}
    assert shown == {row[1]: row[3] for row in summary(checked.graph, checked.analysis).rows}
    assert all(h.position.character == len(lines[h.position.line]) for h in found)  # at the end of the line


async def test_inlay_hints_of_blocks_and_their_instances(client: LanguageClient):
    path = EXAMPLES / "resnet50.dlg"
    text = path.read_text()
    lines = text.split("\n")
    async with session(client) as documents:
        uri = documents.open(path)
        await published(client, uri, 1)
        everything = types.Range(types.Position(0, 0), types.Position(len(lines), 0))
        found = await client.text_document_inlay_hint_async(types.InlayHintParams(types.TextDocumentIdentifier(uri), everything))
    shown = {lines[h.position.line].split("=")[0].strip(): h.label for h in found}
    assert shown["layer1"] == "56x56x256" and shown["layer4"] == "7x7x2048"  # each instance's output, alike
    assert shown["conv2"] == "56x56x64 | 28x28x128 | 14x14x256 ..."  # a block's layer: its instances' sizes differ


COMPLETING = """block pair(channels, stride = 1) {
    input x
    output y
    conv = convolution2d(3, channels, stride=stride, padding="same")
    x -> conv -> y
}

network net {
    input = imageInput([28, 28, 1])
    conv1 = convolution2d(5, 20, padding="same")
    p     = pair(8)
    add   = addition(3)
    input -> conv1 -> add/in1
}
"""


async def completions(client: LanguageClient, documents: Session, folder: Path, line: str) -> dict[str, types.CompletionItem]:
    """The completions at the end of `line`, typed as a new line of COMPLETING's network."""
    text = COMPLETING.replace("    input -> conv1 -> add/in1\n", f"    input -> conv1 -> add/in1\n{line}\n")
    number = text.split("\n").index(line)
    uri = documents.open(folder / f"completing{len(documents.versions)}.dlg", text)
    await published(client, uri, 1)  # checked: a layer's ports are as its arguments make them
    answer = await client.text_document_completion_async(types.CompletionParams(types.TextDocumentIdentifier(uri), types.Position(number, len(line))))
    return {item.label: item for item in answer.items}


async def test_completion(client: LanguageClient, tmp_path_factory):
    folder = tmp_path_factory.mktemp("completion")
    async with session(client) as documents:
        kinds = await completions(client, documents, folder, "    extra = conv")
        assert kinds["convolution2d"].detail.startswith("convolution2d(filterSize, numFilters, stride=1")
        assert "pair" in kinds  # the file's blocks
        arguments = await completions(client, documents, folder, "    extra = convolution2d(3, 8, s")
        assert {"stride=", "padding=", "dilationFactor="} <= set(arguments) and "filterSize=" not in arguments
        assert arguments["stride="].text_edit.range.start.character == len("    extra = convolution2d(3, 8, ")
        values = await completions(client, documents, folder, "    extra = convolution2d(3, 8, padding=")
        assert '"same"' in values
        block_arguments = await completions(client, documents, folder, "    extra = pair(8, ")
        assert set(block_arguments) == {"stride="}
        layers = await completions(client, documents, folder, "    conv1 -> ")
        assert {"input", "conv1", "p", "add"} <= set(layers) and "convolution2d" in layers
        inputs = await completions(client, documents, folder, "    conv1 -> add/")
        assert set(inputs) == {"in1", "in2", "in3"}
        block_ports = await completions(client, documents, folder, "    conv1 -> p/")
        assert set(block_ports) == {"x"}


async def test_formatting_is_fmt(client: LanguageClient, tmp_path_factory):
    folder = tmp_path_factory.mktemp("formatting")
    text = (EXAMPLES / "mnist.dlg").read_text().replace(" = ", "=").replace(", ", ",")
    async with session(client) as documents:
        uri = documents.open(folder / "messy.dlg", text)
        options = types.FormattingOptions(tab_size=4, insert_spaces=True)
        (edit,) = await client.text_document_formatting_async(types.DocumentFormattingParams(types.TextDocumentIdentifier(uri), options))
        assert edit.new_text == format_dlg(text) and edit.range.start == types.Position(0, 0)
        documents.change(uri, text + "network {\n")  # a syntax error: nothing is rewritten
        assert not await client.text_document_formatting_async(types.DocumentFormattingParams(types.TextDocumentIdentifier(uri), options))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(edits=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 20), st.text(max_size=12)), min_size=1, max_size=4))
async def test_no_edit_stops_the_server(client: LanguageClient, tmp_path_factory, edits):
    text = COMPLETING
    async with session(client) as documents:
        uri = documents.open(tmp_path_factory.getbasetemp() / "fuzzed.dlg", text)
        for start, length, inserted in edits:
            text = text[:start] + inserted + text[start + length :]
            documents.change(uri, text)
        position = types.Position(len(text.split("\n")) // 2, 3)
        document = types.TextDocumentIdentifier(uri)
        await client.text_document_hover_async(types.HoverParams(document, position))
        await client.text_document_completion_async(types.CompletionParams(document, position))
        end = types.Range(types.Position(0, 0), types.Position(len(text.split("\n")), 0))
        assert await client.text_document_inlay_hint_async(types.InlayHintParams(document, end)) is not None


async def test_the_server_never_imports_torch():
    """The server's modules, and a check, hover, hints and completion on a real network, with
    torch nowhere in the process."""
    script = f"""
import sys
from graphdl.cli._main import _parser
from graphdl.editor import server
from graphdl.editor._checking import check_document
from graphdl.editor._completion import complete
from graphdl.editor._hover import hover
from graphdl.editor._inlay import hints
from graphdl.editor._symbols import FileSymbols
server("0")
path = {str(EXAMPLES / "resnet50.dlg")!r}
text = open(path).read()
report = check_document(path, text, 1, {{}})
symbols = FileSymbols.of(path, text)
assert hover(report, symbols, text.index("conv1 ="))
assert hints(report, 0, len(text))
assert complete(text, text.index("conv1 =") + 8, symbols, report)
assert "torch" not in sys.modules, "torch imported"
"""
    subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT)


@pytest.mark.slow  # a server and several cold `graphdl check` processes
async def test_benchmark_smoke_run():
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "lsp.py"), "--quick"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if line.split()[:1] in (["series"], ["residual"])]
    assert [row[0] for row in rows] == ["series", "residual"]
    assert all(0 < float(seconds) < 60 for row in rows for seconds in row[3:])
