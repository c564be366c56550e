"""Navigation in `.dlg` files for the language server: definition, references, rename, the
outline and folding, answered from `FileSymbols` (graphdl/editor/_symbols.py).

A name local to a body (a layer, a constant, a network's parameter) lives in one file. A block,
its ports and its parameters are also named by the files that import it (instances, `inst/port`,
`block(name=...)`): their references and renames take in the open documents and the `.dlg` files
of the workspace folders that import the file defining them. Unsaved text is what counts: open
documents are read from the editor, other files from the disk.

A handler never raises into the server: an unexpected exception is logged and answered with an
empty result, so that a mistake here costs one answer, never the session. A rename that cannot
be done is refused with a message the editor shows (an LSP RequestFailed error).
"""

from __future__ import annotations

import keyword
import os
from collections.abc import Iterator
from urllib.parse import unquote

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from graphdl.catalog import lookup
from graphdl.editor._guard import guarded
from graphdl.editor._positions import Lines
from graphdl.editor._symbols import FileSymbols, Occurrence, Outline, Symbol
from graphdl.graph import name_problem
from graphdl.source import Source, Span

# How an outline entry shows in the editor. A network is what a file offers to build, compiled
# to a class of network (Class); a block is called with arguments where it is used (Function);
# a layer is a named member of its network, an attribute of the compiled one (Field); a block's
# inputs and outputs are its interface (Interface).
_SYMBOL_KINDS = {
    "network": types.SymbolKind.Class,
    "block": types.SymbolKind.Function,
    "layer": types.SymbolKind.Field,
    "port": types.SymbolKind.Interface,
    "constant": types.SymbolKind.Constant,
}
_FOLD_KINDS = {"comment": types.FoldingRangeKind.Comment, "imports": types.FoldingRangeKind.Imports, "region": types.FoldingRangeKind.Region}

# What a rename may change: the names the file gives. A network's name is how commands and
# `graphdl.load` choose it, from outside any file; an import names a file.
_RENAMEABLE = ("layer", "port", "block", "parameter", "constant")

# Bounds on the workspace read for references and renames, so that opening a huge folder costs
# bounded time: folders not walked, and how many .dlg files are read at most.
_SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__", "site-packages"})
_WORKSPACE_FILES = 2_000


def register(server: LanguageServer) -> None:
    """Add definition, references, rename, document symbols and folding to `server`."""

    feature = guarded(server)

    @feature(types.TEXT_DOCUMENT_DEFINITION, None)
    def definition(ls: LanguageServer, params: types.DefinitionParams):
        request = _Request(ls)
        found = request.occurrence(params.text_document.uri, params.position)
        return request.location(found[1].symbol.path, found[1].symbol.span) if found is not None else None

    @feature(types.TEXT_DOCUMENT_REFERENCES, [])
    def references(ls: LanguageServer, params: types.ReferenceParams):
        request = _Request(ls)
        found = request.occurrence(params.text_document.uri, params.position)
        if found is None:
            return []
        symbols, occurrence = found
        wanted = _key(occurrence.symbol)
        return [
            request.location(path, o.span)
            for path, index in request.indexes(symbols, occurrence.symbol)
            for o in index.occurrences
            if _key(o.symbol) == wanted and (params.context.include_declaration or not o.definition)
        ]

    @feature(types.TEXT_DOCUMENT_PREPARE_RENAME, None)
    def prepare_rename(ls: LanguageServer, params: types.PrepareRenameParams):
        request = _Request(ls)
        symbols, occurrence = _renameable(request, params)
        return types.PrepareRenamePlaceholder(request.range(symbols.path, occurrence.span), occurrence.symbol.name)

    @feature(types.TEXT_DOCUMENT_RENAME, None)
    def rename(ls: LanguageServer, params: types.RenameParams):
        request = _Request(ls)
        symbols, occurrence = _renameable(request, params)
        symbol, new = occurrence.symbol, params.new_name
        problem = _name_problem(symbol, new)
        if problem is not None:
            raise _refused(problem)
        indexes = list(request.indexes(symbols, symbol))
        if new != symbol.name:
            for path, index in indexes:
                clash = _clash(index, symbol, new)
                if clash is not None:
                    raise _refused(clash if os.path.realpath(path) == os.path.realpath(symbol.path) else f"{clash} in {os.path.basename(path)}")
        wanted = _key(symbol)
        changes: dict[str, list[types.TextEdit]] = {}
        for path, index in indexes:
            edits = [types.TextEdit(request.range(path, o.span), new) for o in index.occurrences if _key(o.symbol) == wanted]
            if edits:
                changes[request.uri(path)] = edits
        return types.WorkspaceEdit(changes=changes)

    @feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL, [])
    def document_symbols(ls: LanguageServer, params: types.DocumentSymbolParams):
        request = _Request(ls)
        path, text = request.document(params.text_document.uri)
        if text is None:
            return []
        lines = Lines(text)
        return [_document_symbol(entry, lines) for entry in FileSymbols.of(path, text, request.files).outline]

    @feature(types.TEXT_DOCUMENT_FOLDING_RANGE, [])
    def folding_ranges(ls: LanguageServer, params: types.FoldingRangeParams):
        path, text = _Request(ls).document(params.text_document.uri)
        if text is None:
            return []
        return [types.FoldingRange(f.first, f.last, kind=_FOLD_KINDS[f.kind]) for f in FileSymbols.of(path, text, {}).regions]


class _Request:
    """What one request reads: the documents open in the editor (their unsaved text counts,
    imports are read from them first), other files from the disk, each file once."""

    def __init__(self, ls: LanguageServer):
        self.ls = ls
        documents = list(ls.workspace.text_documents.values())
        self.texts = {d.path: d.source for d in documents}  # the open documents, then files read from the disk
        self.uris = {d.path: d.uri for d in documents}  # an unsaved document's is no file's URI
        self.files = {path: text for path, text in self.texts.items() if path.endswith(".dlg")}  # what imports may read
        self._lines: dict[str, Lines] = {}

    def document(self, uri: str) -> tuple[str, str | None]:
        """The path and the text of a document: the editor's, else the disk's (None if it
        cannot be read)."""
        document = self.ls.workspace.text_documents.get(unquote(uri))
        path = document.path if document is not None else to_fs_path(uri) or uri
        return path, self.text(path)

    def text(self, path: str) -> str | None:
        """The text of a file: the editor's where it is open, else the disk's (None if unreadable).
        A file is read as `check` reads it: a regular file within the size limit, never waiting."""
        if path not in self.texts:
            try:
                self.texts[path] = Source.read(path).text
            except (OSError, UnicodeDecodeError):
                return None
        return self.texts[path]

    def lines(self, path: str) -> Lines:
        if path not in self._lines:
            self._lines[path] = Lines(self.text(path) or "")
        return self._lines[path]

    def range(self, path: str, span: Span) -> types.Range:
        return self.lines(path).range(span)

    def uri(self, path: str) -> str:
        return self.uris.get(path) or from_fs_path(path) or path

    def location(self, path: str, span: Span) -> types.Location:
        return types.Location(self.uri(path), self.range(path, span))

    def occurrence(self, uri: str, position: types.Position) -> tuple[FileSymbols, Occurrence] | None:
        """The symbols of a document and the occurrence at a position in it, or None."""
        path, text = self.document(uri)
        if text is None:
            return None
        symbols = FileSymbols.of(path, text, self.files)
        lines = self._lines.setdefault(path, Lines(text))
        occurrence = symbols.at(lines.offset(position))
        return (symbols, occurrence) if occurrence is not None else None

    def indexes(self, here: FileSymbols, symbol: Symbol) -> Iterator[tuple[str, FileSymbols]]:
        """The indexes of the files that may name `symbol`: the one asked about; the one
        defining it; and, for what other files can name, those that import that one."""
        yield here.path, here
        home = os.path.realpath(symbol.path)
        seen = {os.path.realpath(here.path)}
        if home not in seen:
            seen.add(home)
            text = self.text(symbol.path)
            if text is not None:
                yield symbol.path, FileSymbols.of(symbol.path, text, self.files)
        if not _shared(here, symbol):
            return
        name = os.path.basename(symbol.path)
        for path in self.candidates():
            if os.path.realpath(path) in seen:
                continue
            seen.add(os.path.realpath(path))
            text = self.text(path)
            # Only a file that imports something of that name can name it: most are not parsed.
            if text is None or "import" not in text or name not in text:
                continue
            index = FileSymbols.of(path, text, self.files)
            if any(os.path.realpath(i.path) == home for i in index.imports):
                yield path, index

    def candidates(self) -> Iterator[str]:
        """The open `.dlg` documents, then the `.dlg` files of the workspace folders (a bounded
        number of them)."""
        yield from list(self.files)
        workspace = self.ls.workspace
        roots = [to_fs_path(folder.uri) for folder in workspace.folders.values()] or [workspace.root_path]
        count = 0
        for root in filter(None, roots):
            for folder, subfolders, names in os.walk(root):
                subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d not in _SKIPPED_FOLDERS)
                for name in sorted(names):
                    if name.endswith(".dlg"):
                        count += 1
                        if count > _WORKSPACE_FILES:
                            return
                        yield os.path.join(folder, name)


# ---- the files a symbol is named in ---------------------------------------------------------------


def _key(symbol: Symbol) -> tuple:
    """What makes two symbols one, whichever file's index they come from: the same text at the
    same place of the same file (a path reached two ways is one file)."""
    return symbol.kind, symbol.name, symbol.scope, os.path.realpath(symbol.path), symbol.span.start


def _shared(symbols: FileSymbols, symbol: Symbol) -> bool:
    """Whether files importing the one that defines `symbol` can name it: a block, its ports
    (`instance/port`) and its parameters (`block(name=...)`)."""
    if symbol.kind in ("block", "port"):
        return True
    owner = symbols.visible.get(symbol.scope)
    return symbol.kind == "parameter" and owner is not None and owner.kind == "block" and _key(owner)[3] == os.path.realpath(symbol.path)


# ---- rename -----------------------------------------------------------------------------------------


def _refused(message: str) -> JsonRpcException:
    return JsonRpcException(message, code=types.LSPErrorCodes.RequestFailed)


def _renameable(request: _Request, params: types.TextDocumentPositionParams) -> tuple[FileSymbols, Occurrence]:
    """The symbols of the document and the occurrence at the position, a name a rename may
    change; refused otherwise."""
    found = request.occurrence(params.text_document.uri, params.position)
    if found is None:
        raise _refused("nothing to rename here: place the cursor on the name of a layer, block, parameter or constant")
    symbol = found[1].symbol
    if symbol.kind == "network":
        raise _refused(f"`{symbol.name}` is a network: commands and graphdl.load name it from outside the file, so rename it by hand")
    if symbol.kind not in _RENAMEABLE:
        raise _refused("an import names a file: rename the file, then the import")
    return found


def _name_problem(symbol: Symbol, new: str) -> str | None:
    """Why `new` cannot replace the name of `symbol`, whatever else is named so."""
    if symbol.kind == "layer":
        return name_problem(new)
    if not new.isidentifier() or not new.isascii():
        return f"a {symbol.kind}'s name is an identifier (letters, digits and `_`, not first a digit), not {new!r}"
    if keyword.iskeyword(new) or new in ("true", "false"):
        return f"`{new}` is a word of the language: it cannot name a {symbol.kind}"
    if symbol.kind == "block" and lookup(new) is not None:
        return f"`{new}` is a layer kind: a block cannot have its name"
    return None


def _clash(index: FileSymbols, symbol: Symbol, new: str) -> str | None:
    """What is named `new` already where `symbol` is named, in one file."""
    if new not in index.names_beside(symbol):
        return None
    if symbol.kind in ("network", "block"):
        return f"`{new}` is already the name of a network or block"
    where = f"`{symbol.scope}`"
    if symbol.kind in ("layer", "port"):
        return f"`{new}` is already a layer or port of {where}"
    return f"`{new}` is already a parameter or constant of {where}"


# ---- outline ----------------------------------------------------------------------------------------


def _document_symbol(entry: Outline, lines: Lines) -> types.DocumentSymbol:
    return types.DocumentSymbol(
        name=entry.name,
        kind=_SYMBOL_KINDS.get(entry.kind, types.SymbolKind.Variable),
        range=lines.range(entry.span),
        selection_range=lines.range(entry.name_span),
        detail=entry.detail or None,
        children=[_document_symbol(child, lines) for child in entry.children],
    )
