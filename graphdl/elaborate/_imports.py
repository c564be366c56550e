"""Imports: which blocks and networks each file can use by name.

`import "path.dlg"` makes the blocks and networks that file defines usable, its path taken relative
to the importing file, then to each folder of the search path, within the folders `ImportRules`
allow, files importing files at most `import_depth` deep. Imports are not re-exported: a file sees
what it defines and what the files it imports define, and a block is always expanded with the
names of the file it was written in. Each file is read and parsed once, however many import it.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from graphdl.catalog import lookup
from graphdl.diagnostics import Diagnostic, Label
from graphdl.source import FileTooLarge, ImportOutside, ImportRules, Source, Span, shown, valid_path
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


def resolve_imports(
    document: Document, files: Mapping[str, str] | None = None, rules: ImportRules | None = None
) -> tuple[Scope, dict[str, Source], list[Diagnostic]]:
    """The scope of a document, every source read for it (the document's own first), and the
    problems found: files that cannot be read or that `rules` keep out, import cycles, names
    defined twice. Imported files are read from the file system, or, given `files` (path to text,
    as a network file keeps them), from there."""
    loader = _Loader(files, rules or ImportRules(), document.source.path)
    scope = loader.scope(document, ())
    return scope, loader.sources, loader.diagnostics


class _Loader:
    def __init__(self, files: Mapping[str, str] | None, rules: ImportRules, top: str):
        self.files, self.rules, self.top = files, rules, top
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
        located = self._locate(scope.path, relative, span, loading)
        if located is None:
            return
        path, looked = located
        if _key(path) in loading:
            cycle = " -> ".join([os.path.basename(p) for p in loading[loading.index(_key(path)) :]] + [os.path.basename(path)])
            self.diagnostics.append(
                Diagnostic("E004", f"import cycle: {cycle}", span, "imports a file that imports this one", help="move what both files need into a third file")
            )
            return
        if _key(path) not in self.scopes:
            try:
                source = self._read(path)
            except FileTooLarge as e:
                self.diagnostics.append(
                    Diagnostic("E013", f"cannot import {shown(relative)}: {e.strerror}", span, f"{shown(path)} is too large", help=FileTooLarge.HELP)
                )
                return
            except (OSError, UnicodeDecodeError) as e:
                reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
                self.diagnostics.append(Diagnostic("E003", f"cannot import {shown(relative)}: {reason}", span, f"looked for {shown(path)}", notes=looked))
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

    def _locate(self, importing: str, relative: str, span: Span, loading: tuple[str, ...]) -> tuple[str, tuple[str, ...]] | None:
        """The path an import reads, with notes on where else it was looked for; or None, with
        the reason in a diagnostic."""
        if len(loading) > self.rules.limits.import_depth:
            self.diagnostics.append(
                Diagnostic(
                    "E015", f"imports nested more than {self.rules.limits.import_depth} deep", span, "one file too many down the chain",
                    notes=(f"imported through {' -> '.join(os.path.basename(p) for p in loading)}",),
                    help="import the files this one needs from a file nearer the top",
                )
            )  # fmt: skip
            return None
        try:
            if self.files is None:
                path, others = self.rules.locate(importing, relative, self.top)
            else:  # nothing but the files kept with a network is read, so nothing is kept out
                path, others = _kept(self.files, importing, valid_path(relative)), ()
        except ImportOutside:
            # Refused before anything is read there: the diagnostic says nothing of what the path holds, or whether it exists.
            self.diagnostics.append(
                Diagnostic(
                    "E014", f"cannot import {shown(relative)}: outside the folders imports are read from", span, "outside the allowed folders",
                    notes=("imports are read from the checked file's folder and the search path, and their subfolders",),
                    help="move the file there, add its folder to the search path (search_path=, GRAPHDL_PATH), or pass allow_outside=True",
                )
            )  # fmt: skip
            return None
        except OSError as e:
            self.diagnostics.append(Diagnostic("E003", f"cannot import {shown(relative)}: {e.strerror}", span, "not a path"))
            return None
        return path, ((f"also looked for {', '.join(others)}",) if others else ())

    def _read(self, path: str) -> Source:
        if self.files is None:
            return self.rules.read(path)
        if path not in self.files:
            raise FileNotFoundError(errno.ENOENT, "not among the files kept with the network", path)
        return Source(path, self.files[path])


def _kept(files: Mapping[str, str], importing: str, relative: str) -> str:
    """The path of an import among the files kept with a network: beside the importing file, or
    else the one kept under that name, found on the search path when the network was saved."""
    path = os.path.normpath(os.path.join(os.path.dirname(importing), relative))
    if path in files:
        return path
    tail = os.sep + os.path.normpath(relative)
    return next((key for key in files if key.endswith(tail)), path)


def _key(path: str) -> str:
    return os.path.realpath(path)
