"""The symbols of one `.dlg` file: every name it defines or uses, where, and what it names.

An editor asks "what is under the cursor, where is it defined, where else is it used": this
module answers from the syntax tree alone (no elaboration, no analysis), so it answers for a file
with mistakes in it too, as far as the parser recovered, and in time linear in the text.

Names live in the scopes the language gives them (docs/language.md):

- at file level, networks and blocks, the file's own and those of the files it imports (not the
  files those import: imports are not passed on);
- in each network or block body, two namespaces: the *layers* (layer and block instance names,
  and a block's `input`/`output` ports), which chains, `shares`, `output` and `channels(x)` name;
  and the *values* (parameters and `let` constants), which expressions name. A body sees nothing
  of another body's names: a block's values are its own parameters only.
- a repetition's variables (`for i in 0..3`) are parameters of that one declaration: its call's
  arguments see them, shadowing the body's values, nothing else does.

A name declared in both branches of an `if` is one symbol: its first declaration is where it is
defined, the other is a definition occurrence of the same symbol (renaming one renames both). A
use of `stage.1` (a member of the repetition `stage`) is a use of `stage`, its span the `stage`
part. `instance/port` names a port of the instance's block, `block(name=...)` one of its
parameters: both resolve into the block, in whichever file it is defined. Layer kinds are the
catalog's, not the file's: no symbols. Inline layers in chains are named by the elaborator, not
in the text: no symbols either.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from graphdl.source import ImportRules, Source, Span
from graphdl.syntax import (
    Argument,
    Binary,
    BlockDecl,
    BrokenDecl,
    Call,
    Chain,
    Condition,
    Conditional,
    Document,
    Expr,
    Function,
    Index,
    LayerDecl,
    Let,
    ListExpr,
    Name,
    NetworkDecl,
    PortRef,
    Ports,
    Unary,
    parse,
)

# What a symbol can be. "port" is a block's `input x` or `output y`.
KINDS = ("network", "block", "layer", "port", "parameter", "constant", "import")

# The functions whose argument names a layer (or a block input), not a value: the elaborator's
# sizes of what flows (`channels(x)`, `size(x)`).
_SIZE_FUNCTIONS = ("channels", "size")


@dataclass(frozen=True)
class Symbol:
    kind: str  # one of KINDS
    name: str
    scope: str  # the network or block it belongs to ("" at file level: networks, blocks, imports)
    path: str  # the file that defines it
    span: Span  # its name where it is defined (for an import: the start of the imported file)


@dataclass(frozen=True)
class Occurrence:
    symbol: Symbol
    span: Span  # this occurrence's name
    definition: bool


@dataclass(frozen=True)
class Outline:
    """One entry of the document outline: a network or block, or a port, constant or layer of one."""

    name: str
    kind: str
    span: Span  # the whole declaration
    name_span: Span
    children: tuple[Outline, ...] = ()
    detail: str = ""  # a short description: a layer's call, a body's parameters


@dataclass(frozen=True)
class Fold:
    """A foldable region: 0-based first and last line; `kind` "comment", "imports" or "region"."""

    first: int
    last: int
    kind: str = "region"


@dataclass(frozen=True)
class FileSymbols:
    path: str
    occurrences: tuple[Occurrence, ...]  # in the order of the text
    outline: tuple[Outline, ...]
    regions: tuple[Fold, ...]
    visible: Mapping[str, Symbol]  # every network and block the file can name: its own and those it imports
    imports: tuple[Symbol, ...]  # the files it imports (those found)
    _starts: tuple[int, ...] = field(repr=False, compare=False)
    _references: Mapping[Symbol, tuple[Occurrence, ...]] = field(repr=False, compare=False)
    _scopes: tuple[tuple[int, int, str], ...] = field(repr=False, compare=False)

    @classmethod
    def of(cls, path: str, text: str, files: Mapping[str, str] | None = None) -> FileSymbols:
        """The symbols of `text`, the file at `path`. Imports are read from `files` (path to
        text: the editor's unsaved documents) first, else from the disk, as `check` reads them;
        the parser's error recovery keeps what parsed of a file with mistakes. Never raises for
        any text."""
        document = _parsed(path, text)
        imported = _imported(document, files or {})
        return _Indexer(document, imported).result()

    @property
    def folds(self) -> tuple[tuple[int, int], ...]:
        """0-based first and last line of each foldable region."""
        return tuple((fold.first, fold.last) for fold in self.regions)

    @property
    def symbols(self) -> tuple[Symbol, ...]:
        """Every symbol defined or used in the file, in the order first met."""
        return tuple(self._references)

    def at(self, offset: int) -> Occurrence | None:
        """The occurrence whose span holds the offset; or, where none does, the one that ends
        there (the cursor just after a name)."""
        index = bisect.bisect_right(self._starts, offset) - 1
        if index < 0:
            return None
        occurrence = self.occurrences[index]
        return occurrence if offset <= occurrence.span.end else None

    def references(self, symbol: Symbol) -> tuple[Occurrence, ...]:
        """Every occurrence of `symbol` in this file, its definitions included."""
        return self._references.get(symbol, ())

    def scope_at(self, offset: int) -> str:
        """The network or block whose text holds the offset ("" outside them all)."""
        return next((name for start, end, name in self._scopes if start <= offset <= end), "")

    def names_beside(self, symbol: Symbol) -> frozenset[str]:
        """The names that `symbol` may not be renamed to: those already used in its namespace
        (the layers and ports of its body; the values of its body; the networks and blocks the
        file can name)."""
        if symbol.kind in ("network", "block"):
            return frozenset(self.visible)
        group = ("layer", "port") if symbol.kind in ("layer", "port") else ("parameter", "constant")
        return frozenset(s.name for s in self._references if s.kind in group and s.scope == symbol.scope and s.path == symbol.path)


# ---- imports ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Imported:
    """A file the document imports: the Symbol for the import, and the document it holds."""

    symbol: Symbol
    document: Document


def _imported(document: Document, files: Mapping[str, str]) -> dict[int, _Imported]:
    """The files the document imports, by the offset of their import's path string: each read
    from `files` where it is there, else from the disk, where the import rules allow."""
    found = {}
    rules = ImportRules.of(None)
    path = document.source.path
    for imported in document.imports:
        try:
            located, others = rules.locate(path, imported.path, path)
        except OSError:  # outside the folders imports are read from, or no path at all
            continue
        where = next((p for p in (located, *others) if p in files), None)
        try:
            source = Source(where, files[where]) if where is not None else Source.read(located, rules.limits.file_bytes)
        except (OSError, UnicodeDecodeError):  # the checker reports it; nothing here to go to
            continue
        start = Span(source.path, 1, 1, 1, 1, 0, 0)
        symbol = Symbol("import", imported.path, "", source.path, start)
        found[imported.span.start] = _Imported(symbol, _parsed(source.path, source.text))
    return found


@functools.lru_cache(maxsize=16)
def _parsed(path: str, text: str) -> Document:
    """A file's syntax tree. An editor asks about the same text again and again (each request
    between two edits, each file imported), and parsing is most of the cost of an answer."""
    return parse(Source(path, text))[0]


# ---- the index --------------------------------------------------------------------------------------


def _definition_symbol(definition: NetworkDecl | BlockDecl, path: str) -> Symbol:
    kind = "network" if isinstance(definition, NetworkDecl) else "block"
    return Symbol(kind, definition.name, "", path, definition.name_span)


def _first_by_name(symbols: Iterable[Symbol]) -> dict[str, Symbol]:
    named: dict[str, Symbol] = {}
    for symbol in symbols:
        named.setdefault(symbol.name, symbol)
    return named


def _parameters_of(block: BlockDecl, path: str) -> dict[str, Symbol]:
    return _first_by_name(Symbol("parameter", p.name, block.name, path, p.span) for p in block.parameters)


def _ports_of(block: BlockDecl, path: str) -> dict[str, Symbol]:
    """A block's ports: declared at the top of its body (in a condition they are a mistake, E220)."""
    return _first_by_name(
        Symbol("port", name, block.name, path, span)
        for statement in block.body
        if isinstance(statement, Ports) and statement.keyword in ("input", "output")
        for name, span in zip(statement.names, statement.name_spans)
    )


@dataclass
class _Body:
    """The names of one network or block body."""

    name: str
    network: bool
    layers: dict[str, Symbol] = field(default_factory=dict)
    values: dict[str, Symbol] = field(default_factory=dict)
    instances: dict[str, BlockDecl] = field(default_factory=dict)  # instance name -> its block


class _Indexer:
    def __init__(self, document: Document, imported: Mapping[int, _Imported]):
        self.document = document
        self.path = document.source.path
        self.text = document.source.text
        self.imported = imported
        self.found: list[Occurrence] = []
        # Every block the file can instantiate, with the file defining it; the file's own first,
        # as the checker has them (a name defined here and imported too is reported there).
        self.blocks: dict[str, tuple[BlockDecl, str]] = {}
        self.visible: dict[str, Symbol] = {}
        for definition, path in [(d, self.path) for d in document.networks + document.blocks] + [
            (d, i.symbol.path) for i in imported.values() for d in i.document.networks + i.document.blocks
        ]:
            if definition.name in self.visible:
                continue
            self.visible[definition.name] = _definition_symbol(definition, path)
            if isinstance(definition, BlockDecl):
                self.blocks[definition.name] = (definition, path)

    def add(self, symbol: Symbol, span: Span, definition: bool = False) -> None:
        self.found.append(Occurrence(symbol, span, definition))

    def result(self) -> FileSymbols:
        for definition in self.document.definitions:
            if isinstance(definition, (NetworkDecl, BlockDecl)):
                self.add(_definition_symbol(definition, self.path), definition.name_span, True)
                self.definition(definition)
            elif definition.span.start in self.imported:
                span = definition.span
                inside = Span(span.path, span.line, span.column + 1, span.end_line, span.end_column - 1, span.start + 1, span.end - 1)
                self.add(self.imported[definition.span.start].symbol, inside)
        occurrences = sorted(self.found, key=lambda o: o.span.start)
        references: dict[Symbol, list[Occurrence]] = {}
        for occurrence in occurrences:
            references.setdefault(occurrence.symbol, []).append(occurrence)
        definitions = [d for d in self.document.definitions if isinstance(d, (NetworkDecl, BlockDecl))]
        return FileSymbols(
            self.path,
            tuple(occurrences),
            tuple(_outline(d, self.text) for d in definitions),
            _folds(self.document),
            self.visible,
            tuple(i.symbol for i in self.imported.values()),
            tuple(o.span.start for o in occurrences),
            {symbol: tuple(found) for symbol, found in references.items()},
            tuple((d.span.start, d.span.end, d.name) for d in definitions),
        )

    # ---- one body ----

    def definition(self, decl: NetworkDecl | BlockDecl) -> None:
        body = _Body(decl.name, isinstance(decl, NetworkDecl))
        for parameter in decl.parameters:
            self.declare(body.values, Symbol("parameter", parameter.name, decl.name, self.path, parameter.span))
            if parameter.default is not None:  # a default may use the parameters before it
                self.expression(parameter.default, body)
        statements = list(_every_statement(decl.body))
        # Declarations first: chains may name layers declared after them.
        for statement in statements:
            if isinstance(statement, LayerDecl):
                self.declare(body.layers, Symbol("layer", statement.name, decl.name, self.path, statement.name_span))
                if statement.call.callee in self.blocks:
                    body.instances.setdefault(statement.name, self.blocks[statement.call.callee][0])
            elif isinstance(statement, Ports) and isinstance(decl, BlockDecl) and statement.keyword in ("input", "output"):
                for name, span in zip(statement.names, statement.name_spans):
                    self.declare(body.layers, Symbol("port", name, decl.name, self.path, span))
            elif isinstance(statement, Let):
                self.declare(body.values, Symbol("constant", statement.name, decl.name, self.path, statement.name_span))
            elif isinstance(statement, BrokenDecl) and statement.name is not None and statement.name_span is not None:
                self.declare(body.layers, Symbol("layer", statement.name, decl.name, self.path, statement.name_span))
        for statement in statements:
            self.uses(statement, body)

    def declare(self, names: dict[str, Symbol], symbol: Symbol) -> None:
        """A definition occurrence; of the name's first symbol where the body declares it again
        (in the other branch of an `if`)."""
        self.add(names.setdefault(symbol.name, symbol), symbol.span, True)

    def uses(self, statement, body: _Body) -> None:
        if isinstance(statement, LayerDecl):
            values = body.values
            if statement.repeat is not None:
                self.expression(statement.repeat.first, body)
                if statement.repeat.last is not None:
                    self.expression(statement.repeat.last, body)
                variables = [Symbol("parameter", n, body.name, self.path, s) for n, s in zip(statement.repeat.names, statement.repeat.name_spans)]
                for variable in variables:
                    self.add(variable, variable.span, True)
                values = {**values, **_first_by_name(variables)}
            self.call(statement.call, body, values)
            if statement.shares is not None and statement.shares_span is not None:
                self.layer(statement.shares, statement.shares_span, body)
        elif isinstance(statement, Chain):
            for node in statement.nodes:
                if isinstance(node, Call):
                    self.call(node, body, body.values)
                else:
                    self.port_ref(node, body)
        elif isinstance(statement, Ports) and statement.keyword == "output" and body.network:
            for name, span in zip(statement.names, statement.name_spans):
                self.layer(name, span, body)
        elif isinstance(statement, Let):
            self.expression(statement.value, body)
        elif isinstance(statement, Condition):
            self.expression(statement.test, body)

    def call(self, call: Call, body: _Body, values: Mapping[str, Symbol]) -> None:
        block = self.blocks.get(call.callee)
        if block is not None:
            self.add(self.visible[call.callee], call.callee_span)
        parameters = _parameters_of(*block) if block is not None else {}
        for argument in call.arguments:
            self.argument(argument, parameters, body, values)

    def argument(self, argument: Argument, parameters: Mapping[str, Symbol], body: _Body, values: Mapping[str, Symbol]) -> None:
        if argument.name is not None and argument.name_span is not None and argument.name in parameters:
            self.add(parameters[argument.name], argument.name_span)
        self.expression(argument.value, body, values)

    def port_ref(self, ref: PortRef, body: _Body) -> None:
        self.layer(ref.layer, ref.layer_span, body)
        block = body.instances.get(ref.layer)
        if ref.port is None or block is None:
            return
        port = _ports_of(block, self.blocks[block.name][1]).get(ref.port)
        if port is not None:
            end = ref.span.end
            self.add(port, _cut(ref.span, end - len(ref.port), end))

    def layer(self, name: str, span: Span, body: _Body) -> None:
        """A use of a layer name: the layer, or, for a member of a repetition or instance
        (`stage.1`), the declaration whose name is its first part."""
        if name in body.layers:
            self.add(body.layers[name], span)
            return
        head = name.split(".")[0]
        if head in body.layers:
            self.add(body.layers[head], _cut(span, span.start, span.start + len(head)))

    def expression(self, expr: Expr, body: _Body, values: Mapping[str, Symbol] | None = None) -> None:
        values = body.values if values is None else values
        for node in _walk(expr):
            if isinstance(node, Name) and node.name in values:
                self.add(values[node.name], node.span)
            elif isinstance(node, Function) and node.name in _SIZE_FUNCTIONS:
                for argument in node.arguments:
                    if isinstance(argument, Name) and argument.name in body.layers:
                        self.add(body.layers[argument.name], argument.span)


def _walk(expr: Expr) -> Iterator[Expr]:
    """Every node of an expression (no deeper than the parser's limit on nesting), except the
    names `channels(x)` and `size(x)` take, which are layers', not values'."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, Binary):
            stack += (node.left, node.right)
        elif isinstance(node, Unary):
            stack.append(node.operand)
        elif isinstance(node, Conditional):
            stack += (node.then, node.condition, node.otherwise)
        elif isinstance(node, Index):
            stack += (node.items, node.position)
        elif isinstance(node, ListExpr):
            stack += node.items
        elif isinstance(node, Function) and node.name not in _SIZE_FUNCTIONS:
            stack += node.arguments


def _every_statement(statements) -> Iterator:
    """Every statement of a body, those in either branch of a condition too (after it)."""
    for statement in statements:
        yield statement
        if isinstance(statement, Condition):
            yield from _every_statement(statement.then + statement.otherwise)


def _cut(span: Span, start: int, end: int) -> Span:
    """The part [start, end) of a span on one line."""
    return Span(span.path, span.line, span.column + start - span.start, span.line, span.column + end - span.start, start, end)


# ---- outline and folds --------------------------------------------------------------------------------


def _outline(decl: NetworkDecl | BlockDecl, text: str) -> Outline:
    children = []
    for statement in _every_statement(decl.body):
        if isinstance(statement, LayerDecl):
            detail = _shortened(text[statement.call.span.start : statement.span.end])
            children.append(Outline(statement.name, "layer", statement.span, statement.name_span, (), detail))
        elif isinstance(statement, Ports) and isinstance(decl, BlockDecl) and statement.keyword in ("input", "output"):
            children += [Outline(n, "port", s, s, (), statement.keyword) for n, s in zip(statement.names, statement.name_spans)]
        elif isinstance(statement, Let):
            value = _shortened(text[statement.value.span.start : statement.value.span.end])
            children.append(Outline(statement.name, "constant", statement.span, statement.name_span, (), value))
        elif isinstance(statement, BrokenDecl) and statement.name is not None and statement.name_span is not None:
            children.append(Outline(statement.name, "layer", statement.span, statement.name_span))
    kind = "network" if isinstance(decl, NetworkDecl) else "block"
    detail = f"({', '.join(p.name for p in decl.parameters)})" if decl.parameters else ""
    return Outline(decl.name, kind, decl.span, decl.name_span, tuple(sorted(children, key=lambda c: c.span.start)), detail)


def _shortened(text: str, width: int = 80) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= width else one_line[: width - 3] + "..."


def _folds(document: Document) -> tuple[Fold, ...]:
    """Networks and blocks, the branches of conditions, calls and lists over several lines, runs
    of comment lines and of imports. A region that ends at a line starting with its closing
    bracket ends the line before, so that the bracket stays in sight when it is folded."""
    lines = document.source.text.split("\n")
    folds: list[Fold] = []

    def region(first: int, last: int, kind: str = "region") -> None:  # 1-based lines of the text
        if lines[last - 1].lstrip()[:1] in ("}", ")", "]"):
            last -= 1
        if last > first:
            folds.append(Fold(first - 1, last - 1, kind))

    for definition in document.definitions:
        if isinstance(definition, (NetworkDecl, BlockDecl)):
            region(definition.span.line, definition.span.end_line)
            for statement in _every_statement(definition.body):
                _statement_folds(statement, region)
            for parameter in definition.parameters:
                if parameter.default is not None:
                    _expression_folds(parameter.default, region)
    imports = [d.span.line for d in document.imports]
    comments = [number for number, line in enumerate(lines, 1) if line.lstrip().startswith("#")]
    for numbers, kind in ((imports, "imports"), (comments, "comment")):
        for first, last in _runs(numbers):
            if last > first:
                folds.append(Fold(first - 1, last - 1, kind))
    # One region a line: a client folds from a line, and keeps the first region it is given there.
    widest: dict[int, Fold] = {}
    for fold in folds:
        if fold.first not in widest or fold.last > widest[fold.first].last:
            widest[fold.first] = fold
    return tuple(sorted(widest.values(), key=lambda f: f.first))


def _statement_folds(statement, region) -> None:
    if isinstance(statement, Condition):
        if statement.else_span is None:
            region(statement.keyword_span.line, statement.span.end_line)
        else:
            region(statement.keyword_span.line, statement.else_span.line)  # `} else {` shows where the branch ends
            nested = len(statement.otherwise) == 1 and isinstance(statement.otherwise[0], Condition)
            if not nested:  # `else if` folds as the condition it is
                region(statement.else_span.line, statement.span.end_line)
        _expression_folds(statement.test, region)
    elif isinstance(statement, LayerDecl):
        _call_folds(statement.call, region)
        if statement.repeat is not None:
            _expression_folds(statement.repeat.first, region)
    elif isinstance(statement, Chain):
        for node in statement.nodes:
            if isinstance(node, Call):
                _call_folds(node, region)
    elif isinstance(statement, Let):
        _expression_folds(statement.value, region)


def _call_folds(call: Call, region) -> None:
    region(call.span.line, call.span.end_line)
    for argument in call.arguments:
        _expression_folds(argument.value, region)


def _expression_folds(expr: Expr, region) -> None:
    for node in _walk(expr):
        if isinstance(node, (ListExpr, Function)) and node.span.end_line > node.span.line:
            region(node.span.line, node.span.end_line)


def _runs(numbers: list[int]) -> Iterator[tuple[int, int]]:
    """Runs of consecutive numbers, as (first, last)."""
    start = previous = None
    for number in numbers:
        if previous is None or number != previous + 1:
            if start is not None:
                yield start, previous
            start = number
        previous = number
    if start is not None:
        yield start, previous
