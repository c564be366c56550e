"""Imports: which blocks and networks each file can use by name.

`import "path.dlg"` makes the blocks and networks that file defines usable, its path taken relative
to the importing file. Imports are not re-exported: a file sees what it defines and what the files
it imports define, and a block is always expanded with the names of the file it was written in.
Each file is read and parsed once, however many files import it.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from graphdl.catalog import lookup
from graphdl.diagnostics import Diagnostic, Label
from graphdl.source import Source, Span
from graphdl.syntax import BlockDecl, Document, NetworkDecl, parse

Definition = NetworkDecl | BlockDecl


@dataclass
class Scope:
    """The names one file can use: each to its definition and the scope of the file defining it."""

    path: str
    names: dict[str, tuple[Definition, Scope]] = field(default_factory=dict)

    def own(self) -> dict[str, Definition]:
        return {name: d for name, (d, home) in self.names.items() if home is self}

    def networks(self) -> dict[str, tuple[NetworkDecl, Scope]]:
        return {n: (d, home) for n, (d, home) in self.names.items() if isinstance(d, NetworkDecl)}


def resolve_imports(document: Document, files: Mapping[str, str] | None = None) -> tuple[Scope, dict[str, Source], list[Diagnostic]]:
    """The scope of a document, every source read for it (the document's own first), and the
    problems found: files that cannot be read, import cycles, names defined twice. Imported files
    are read from the file system, or, given `files` (path to text, as a network file keeps
    them), from there."""
    loader = _Loader(files)
    scope = loader.scope(document, ())
    return scope, loader.sources, loader.diagnostics


class _Loader:
    def __init__(self, files: Mapping[str, str] | None):
        self.files = files
        self.scopes: dict[str, Scope] = {}
        self.sources: dict[str, Source] = {}
        self.diagnostics: list[Diagnostic] = []

    def scope(self, document: Document, loading: tuple[str, ...]) -> Scope:
        path = document.source.path
        key = _key(path)
        if key in self.scopes:
            return self.scopes[key]
        scope = self.scopes[key] = Scope(path)
        self.sources[path] = document.source
        for definition in document.networks + document.blocks:
            self._define(scope, definition)
        for imported in document.imports:
            self._import(scope, imported.path, imported.span, (*loading, key))
        return scope

    def _define(self, scope: Scope, definition: Definition) -> None:
        name = definition.name
        if name in scope.names:
            first = scope.names[name][0]
            self.diagnostics.append(
                Diagnostic(
                    "E005", f"`{name}` is defined twice", definition.name_span, "defined again here", (Label(first.name_span, "first defined here"),),
                    help="give each block and network its own name",
                )
            )
            return
        if isinstance(definition, BlockDecl) and lookup(name) is not None:
            self.diagnostics.append(
                Diagnostic("E005", f"the block `{name}` has the name of a layer kind", definition.name_span, "a layer kind's name", help="rename the block")
            )
            return
        scope.names[name] = (definition, scope)

    def _import(self, scope: Scope, relative: str, span: Span, loading: tuple[str, ...]) -> None:
        path = os.path.normpath(os.path.join(os.path.dirname(scope.path), relative))
        if _key(path) in loading:
            cycle = " -> ".join([os.path.basename(p) for p in loading[loading.index(_key(path)) :]] + [os.path.basename(path)])
            self.diagnostics.append(
                Diagnostic("E004", f"import cycle: {cycle}", span, "imports a file that imports this one", help="move what both files need into a third file")
            )
            return
        if _key(path) not in self.scopes:
            try:
                source = self._read(path)
            except (OSError, UnicodeDecodeError) as e:
                reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
                self.diagnostics.append(Diagnostic("E003", f"cannot import {relative}: {reason}", span, f"looked for {path}"))
                return
            document, problems = parse(source)
            self.diagnostics.extend(problems)
            self.scope(document, loading)
        imported = self.scopes[_key(path)]
        for name, definition in imported.own().items():
            if name in scope.names:
                first = scope.names[name][0]
                self.diagnostics.append(
                    Diagnostic(
                        "E005",
                        f"`{name}` is defined here and in {relative}",
                        first.name_span,
                        "defined here",
                        (Label(span, f"and imported from {relative}"),),
                        help="rename one of them",
                    )
                )
            else:
                scope.names[name] = (definition, imported)

    def _read(self, path: str) -> Source:
        if self.files is None:
            return Source.read(path)
        if path not in self.files:
            raise FileNotFoundError(errno.ENOENT, "not among the files kept with the network", path)
        return Source(path, self.files[path])


def _key(path: str) -> str:
    return os.path.realpath(path)
