"""`graphdl lsp`: the language server, on pygls.

Diagnostics are published per file: a check of a document reports into the document and into the
files it imports, and what each file shows is the union of what the open documents' checks found
there. A burst of changes gives one check, `DELAY` after the last (a newer version cancels a check
still waiting); checks run one at a time on a thread of their own, so that requests keep being
answered while a large file is checked, and a check's result is dropped if the document changed
meanwhile. Documents importing a changed one are checked again too.

Hover and inlay hints wait for the check of the text they are asked about; completion and
formatting answer from the text alone. Every handler answers empty rather than fail: an
unexpected exception is logged, never raised into the session (navigation, _navigation.py, does
the same for its own features).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import TextDocument

from graphdl.diagnostics import GraphdlError
from graphdl.editor import _navigation
from graphdl.editor._checking import Report, check_document
from graphdl.editor._completion import complete
from graphdl.editor._diagnostics import by_path
from graphdl.editor._guard import guarded
from graphdl.editor._hover import hover
from graphdl.editor._inlay import hints
from graphdl.editor._positions import Lines
from graphdl.editor._symbols import FileSymbols
from graphdl.syntax import format_dlg

logger = logging.getLogger(__name__)

# Seconds after the last change before a document is checked: typing goes on in bursts of
# keystrokes a few tens of milliseconds apart; a check per keystroke would queue behind each other.
DELAY = 0.15

_COMPLETION_KINDS = {
    "kind": types.CompletionItemKind.Class,
    "block": types.CompletionItemKind.Module,
    "argument": types.CompletionItemKind.Property,
    "value": types.CompletionItemKind.EnumMember,
    "layer": types.CompletionItemKind.Variable,
    "port": types.CompletionItemKind.Field,
}


class _Protocol(LanguageServerProtocol):
    """Positions in UTF-16, the encoding every client speaks (LSP's default): graphdl converts
    them itself, from the offsets its spans carry (_positions.Lines), the same way everywhere."""

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams):
        if params.capabilities.general is not None:
            params.capabilities.general.position_encodings = None
        return (yield from super().lsp_initialize(params))


def server(version: str, explanations: Path | None = None) -> LanguageServer:
    """The language server of `.dlg` files, of graphdl `version`. `explanations`: the folder of
    each diagnostic code's explanation (`<code>.md`), which the diagnostics link to (the command
    knows where they are installed)."""
    # The whole text at each change: pygls applies an incremental change by the lines of Python's
    # splitlines, which also breaks at \f, \v and Unicode separators that LSP does not count and a
    # .dlg may hold (\f is blank to the grammar), so an edit after one would land on the wrong
    # line. A 2,000-layer file is 50 KB a change: a millisecond to read.
    ls = LanguageServer("graphdl", version, text_document_sync_kind=types.TextDocumentSyncKind.Full, protocol_cls=_Protocol)
    checker = _Checker(ls, explanations)
    feature = guarded(ls)

    @feature(types.TEXT_DOCUMENT_DID_OPEN, None)
    def did_open(ls: LanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        checker.schedule(params.text_document.uri, 0)

    @feature(types.TEXT_DOCUMENT_DID_CHANGE, None)
    def did_change(ls: LanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        checker.changed(params.text_document.uri)

    @feature(types.TEXT_DOCUMENT_DID_SAVE, None)
    def did_save(ls: LanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        checker.schedule(params.text_document.uri, 0)

    @feature(types.TEXT_DOCUMENT_DID_CLOSE, None)
    def did_close(ls: LanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        checker.closed(params.text_document.uri)

    @feature(types.TEXT_DOCUMENT_HOVER, None)
    async def on_hover(ls: LanguageServer, params: types.HoverParams) -> types.Hover | None:
        report = await checker.fresh(params.text_document.uri)
        document = ls.workspace.get_text_document(params.text_document.uri)
        if report is None or report.text != document.source:
            return None
        text = hover(report, checker.symbols(document), Lines(report.text).offset(params.position))
        return types.Hover(_content(ls, "text_document.hover.content_format", text)) if text else None

    @feature(types.TEXT_DOCUMENT_INLAY_HINT, [])
    async def inlay_hint(ls: LanguageServer, params: types.InlayHintParams) -> list[types.InlayHint]:
        report = await checker.fresh(params.text_document.uri)
        if report is None or report.text != ls.workspace.get_text_document(params.text_document.uri).source:
            return []
        lines = Lines(report.text)
        first, last = lines.offset(params.range.start), lines.offset(params.range.end)
        return [
            types.InlayHint(lines.position(hint.offset), hint.label, kind=types.InlayHintKind.Type, padding_left=True)
            for hint in hints(report, first, last)
        ]

    @feature(types.TEXT_DOCUMENT_COMPLETION, None, types.CompletionOptions(trigger_characters=["=", ">", "/", "(", ",", '"']))
    def completion(ls: LanguageServer, params: types.CompletionParams) -> types.CompletionList | None:
        document = ls.workspace.get_text_document(params.text_document.uri)
        text = document.source
        lines = Lines(text)
        offset = lines.offset(params.position)
        items = complete(text, offset, checker.symbols(document), checker.reports.get(params.text_document.uri))
        return types.CompletionList(
            is_incomplete=False,
            items=[
                types.CompletionItem(
                    item.label,
                    kind=_COMPLETION_KINDS[item.kind],
                    detail=item.detail or None,
                    documentation=_content(ls, _DOCUMENTATION_FORMAT, item.documentation) if item.documentation else None,
                    sort_text=f"{item.order:03d}{number:05d}",
                    text_edit=types.TextEdit(types.Range(lines.position(offset - item.replaces), params.position), item.label),
                )
                for number, item in enumerate(items)
            ],
        )

    @feature(types.TEXT_DOCUMENT_FORMATTING, [])
    def formatting(ls: LanguageServer, params: types.DocumentFormattingParams) -> list[types.TextEdit]:
        document = ls.workspace.get_text_document(params.text_document.uri)
        text = document.source
        try:
            formatted = format_dlg(text, document.path)
        except GraphdlError:  # it does not parse: the diagnostics say where, and nothing is rewritten
            return []
        if formatted == text:
            return []
        return [types.TextEdit(types.Range(types.Position(0, 0), Lines(text).end), formatted)]

    @feature(types.INITIALIZED, None)
    async def initialized(ls: LanguageServer, params: types.InitializedParams) -> None:
        # A file imported by an open document may change on disk without being open (a `git
        # checkout`, another editor): the client tells of it where it can watch files for us.
        if get_capability(ls.client_capabilities, "workspace.did_change_watched_files.dynamic_registration", False):
            watch = types.DidChangeWatchedFilesRegistrationOptions([types.FileSystemWatcher("**/*.dlg")])
            registration = types.Registration("graphdl-dlg-files", types.WORKSPACE_DID_CHANGE_WATCHED_FILES, watch)
            try:
                await ls.client_register_capability_async(types.RegistrationParams([registration]))
            except Exception as e:  # a client that said it could and cannot: files are just not watched
                ls.window_log_message(types.LogMessageParams(types.MessageType.Warning, f"graphdl: files not watched: {e}"))

    @feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES, None)
    def files_changed(ls: LanguageServer, params: types.DidChangeWatchedFilesParams) -> None:
        checker.files_changed({os.path.normpath(to_fs_path(change.uri) or "") for change in params.changes})

    _navigation.register(ls)
    return ls


_DOCUMENTATION_FORMAT = "text_document.completion.completion_item.documentation_format"


def _content(ls: LanguageServer, formats: str, text: str) -> types.MarkupContent:
    """Markdown where the client says it shows it (`formats`: where it says so), else the same
    text as plain text, which reads well enough."""
    markdown = types.MarkupKind.Markdown in (get_capability(ls.client_capabilities, formats, None) or ())
    return types.MarkupContent(types.MarkupKind.Markdown if markdown else types.MarkupKind.PlainText, text)


class _Checker:
    """The checks of the open documents, and the diagnostics published from them."""

    def __init__(self, ls: LanguageServer, explanations: Path | None):
        self.ls = ls
        self.explanations = explanations
        self.reports: dict[str, Report] = {}  # the last check of each open document
        self.tasks: dict[str, asyncio.Task] = {}  # the check waiting or running for each
        self.published: dict[str, dict[str, list[types.Diagnostic]]] = {}  # by document checked, then by file shown in
        self._symbols: dict[str, tuple[str, FileSymbols]] = {}  # the last symbols of each document, with their text
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="graphdl-check")

    def changed(self, uri: str) -> None:
        """A document's text changed: check it after a pause, and the open documents importing it."""
        self.schedule(uri, DELAY)
        path = self.ls.workspace.get_text_document(uri).path
        for other, report in list(self.reports.items()):
            if other != uri and path in report.sources:
                self.schedule(other, DELAY)

    def files_changed(self, paths: set[str]) -> None:
        """Files changed on disk: check again the open documents that read them (a file open in
        the editor is read from there, so its own changes on disk change nothing)."""
        for uri, report in list(self.reports.items()):
            if any(os.path.normpath(path) in paths for path in report.sources if path != report.path):
                self.schedule(uri, DELAY)

    def closed(self, uri: str) -> None:
        task = self.tasks.pop(uri, None)
        if task is not None:
            task.cancel()
        report = self.reports.pop(uri, None)
        self._symbols.pop(uri, None)
        self._publish(uri, {})
        if report is not None:  # those importing it read its file now, not its unsaved text
            for other, theirs in list(self.reports.items()):
                if report.path in theirs.sources:
                    self.schedule(other, DELAY)

    def schedule(self, uri: str, delay: float) -> None:
        """Check the document after `delay` seconds, in place of a check of it still waiting."""
        waiting = self.tasks.pop(uri, None)
        if waiting is not None:
            waiting.cancel()
        self.tasks[uri] = asyncio.get_running_loop().create_task(self._check(uri, delay))

    async def fresh(self, uri: str) -> Report | None:
        """The check of the document's text as it is now, waiting for it where it is under way."""
        for _ in range(3):  # a check cancelled by a newer change gives way to the next one
            task = self.tasks.get(uri)
            if task is None or task.done():
                break
            await asyncio.wait({task})
        report = self.reports.get(uri)
        if report is None and self._open(uri) is not None:
            self.schedule(uri, 0)
            await asyncio.wait({self.tasks[uri]})
            report = self.reports.get(uri)
        return report

    def symbols(self, document: TextDocument) -> FileSymbols:
        """The symbols of a document's text as it is now (kept while it does not change)."""
        text = document.source
        kept = self._symbols.get(document.uri)
        if kept is None or kept[0] != text:
            kept = self._symbols[document.uri] = (text, FileSymbols.of(document.path, text, self._open_texts(document.uri)))
        return kept[1]

    def _open_texts(self, uri: str) -> dict[str, str]:
        """The other open `.dlg` documents' texts, by path."""
        this = self._open(uri)
        return {d.path: d.source for d in list(self.ls.workspace.text_documents.values()) if d is not this and d.path.endswith(".dlg")}

    async def _check(self, uri: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        try:
            await self._check_now(uri)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # a bug must cost this check's diagnostics, never the session
            logger.exception("checking %s failed", uri)
            self.ls.window_log_message(types.LogMessageParams(types.MessageType.Error, f"graphdl: checking {uri} failed: {e!r}"))

    async def _check_now(self, uri: str) -> None:
        document = self._open(uri)
        if document is None:
            return
        version, text = document.version, document.source
        report = await asyncio.get_running_loop().run_in_executor(self._thread, check_document, document.path, text, version, self._open_texts(uri))
        if self._open(uri) is not document or document.version != version:
            return  # closed, or changed while it was checked: the newer check publishes
        self.reports[uri] = report
        grouped = by_path(report.diagnostics, report.sources, report.path, functools.partial(self._uri, uri, report.path), self.explanations)
        self._publish(uri, {self._uri(uri, report.path, path): found for path, found in grouped.items()}, version)
        if get_capability(self.ls.client_capabilities, "workspace.inlay_hint.refresh_support", False):
            # The sizes may have changed without an edit of this document (one it imports did):
            # the client asks again for the hints it shows.
            self.ls.workspace_inlay_hint_refresh(None)

    def _open(self, uri: str) -> TextDocument | None:
        """The open document of a URI as the client writes it (pygls keeps them unquoted)."""
        return self.ls.workspace.text_documents.get(unquote(uri))

    def _uri(self, uri: str, home: str, path: str) -> str:
        return uri if path == home else from_fs_path(path) or path

    def _publish(self, owner: str, found: dict[str, list[types.Diagnostic]], version: int | None = None) -> None:
        """Replace what the check of `owner` found, and publish every file whose diagnostics
        this changes: the union of what each open document's check found there."""
        before = self.published.pop(owner, {})
        if found or self._open(owner) is not None:
            self.published[owner] = {owner: [], **found}
        for uri in dict.fromkeys([owner, *before, *found]):
            union: dict[tuple, types.Diagnostic] = {}
            for by_file in self.published.values():
                for d in by_file.get(uri, ()):
                    union.setdefault(_key(d), d)
            self.ls.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri, list(union.values()), version if uri == owner else None)
            )


def _key(d: types.Diagnostic) -> tuple:
    start, end = d.range.start, d.range.end
    return start.line, start.character, end.line, end.character, d.code, d.message
