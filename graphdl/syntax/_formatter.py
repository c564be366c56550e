"""`graphdl fmt`: a `.dlg` file in canonical form, its comments kept.

One statement per line, four spaces of indent, `=` aligned down a run of declarations, one blank
line between definitions, blank lines inside a body kept (one at most), arguments and expressions
spaced one way, and only the parentheses an expression needs. Comments stay where they were: on
their own line before what follows them, or after the statement whose line they end. Formatting
formatted text changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphdl.diagnostics import GraphdlError
from graphdl.source import Source
from graphdl.syntax._parser import parse
from graphdl.syntax._printer import format_expr
from graphdl.syntax._tree import BlockDecl, Call, Chain, Condition, Document, Import, LayerDecl, Let, ListExpr, NetworkDecl, PortRef, Ports

_INDENT = "    "
_WIDTH = 100  # past it, lists break one item a line


@dataclass(frozen=True)
class Comment:
    line: int
    text: str  # from the `#`
    alone: bool  # on a line of its own


def format_dlg(text: str, path: str = "<string>") -> str:
    """The canonical form of a `.dlg` text; raises GraphdlError if it does not parse."""
    source = Source(path, text)
    document, diagnostics = parse(source)
    if diagnostics:
        raise GraphdlError(diagnostics, {path: source})
    return _Formatter(source, document).text()


def comments(text: str) -> list[Comment]:
    """Every comment of a text. Strings do not span lines and have no escapes, so a `#` outside
    quotes on its line starts a comment."""
    found = []
    for number, line in enumerate(text.split("\n"), 1):
        quote = None
        for column, char in enumerate(line):
            if quote:
                quote = None if char == quote else quote
            elif char in "\"'":
                quote = char
            elif char == "#":
                found.append(Comment(number, line[column:].rstrip(), not line[:column].strip()))
                break
    return found


class _Formatter:
    def __init__(self, source: Source, document: Document):
        self.source = source
        self.document = document
        self.comments = comments(source.text)
        self.lines: list[str] = []
        self.last_line = 0  # the last source line whose content has been written

    def text(self) -> str:
        definitions = self.document.definitions
        for i, definition in enumerate(definitions):
            start = definition.span.line
            consecutive_imports = i and isinstance(definition, Import) and isinstance(definitions[i - 1], Import)
            if i and not consecutive_imports:
                self._blank()  # between definitions, before the comments that introduce the next
            self._comments_before(start, "")
            if self._gap(start):
                self._blank()
            if isinstance(definition, Import):
                self._emit(f'import "{definition.path}"', "", definition.span.line)
            else:
                self._definition(definition)
        self._comments_before(len(self.source.text.split("\n")) + 1, "")
        while self.lines and not self.lines[-1]:
            self.lines.pop()
        return "\n".join(self.lines) + "\n"

    # ---- definitions and statements -------------------------------------------------------------

    def _definition(self, definition: NetworkDecl | BlockDecl) -> None:
        keyword = "network" if isinstance(definition, NetworkDecl) else "block"
        parameters = ""
        if definition.parameters:
            parameters = "(" + ", ".join(p.name + (f" = {format_expr(p.default)}" if p.default is not None else "") for p in definition.parameters) + ")"
            if len(f"{keyword} {definition.name}{parameters} {{") > _WIDTH:
                # One parameter a line, and a long list (a configuration table) one item a line.
                lines = [_INDENT + p.name + (f" = {_wrapped(p.default, _INDENT)}" if p.default is not None else "") + "," for p in definition.parameters]
                parameters = "(\n" + "\n".join(lines) + "\n)"
        self._emit(f"{keyword} {definition.name}{parameters} {{", "", definition.span.line)
        self._statements(definition.body, _INDENT)
        end = definition.span.end_line
        self._comments_before(end, _INDENT)
        self._emit("}", "", end)

    def _statements(self, statements, indent: str) -> None:
        width = 0
        for i, statement in enumerate(statements):
            start = statement.span.line
            self._comments_before(start, indent)
            if self._gap(start) and self.lines[-1] != "{" and not self.lines[-1].endswith("{"):
                self._blank()
            if isinstance(statement, Condition):
                self._condition(statement, indent)
                continue
            if isinstance(statement, LayerDecl):
                if i == 0 or not isinstance(statements[i - 1], LayerDecl) or self._interrupted(statements[i - 1], statement):
                    width = self._run_width(statements, i)
                text = f"{statement.name.ljust(width)} = {_layer(statement)}"
            elif isinstance(statement, Let) and statement.keyword == "let":
                text = f"let {statement.name} = {_wrapped(statement.value, indent, len(indent) + len(statement.name) + 7)}"
            else:
                text = _statement(statement)
            self._emit(text, indent, statement.span.end_line, start)

    def _condition(self, condition: Condition, indent: str, keyword: str = "if") -> None:
        self._emit(f"{keyword} {format_expr(condition.test)} {{", indent, condition.test.span.end_line, condition.span.line)
        self._statements(condition.then, indent + _INDENT)
        if condition.else_span is None:
            self._comments_before(condition.span.end_line, indent + _INDENT)
            self._emit("}", indent, condition.span.end_line)
            return
        self._comments_before(condition.else_span.line, indent + _INDENT)
        (inner,) = condition.otherwise if len(condition.otherwise) == 1 and isinstance(condition.otherwise[0], Condition) else (None,)
        if inner is not None and inner.keyword_span.line == condition.else_span.line:
            self._condition(inner, indent, "} else if")
            return
        self._emit("} else {", indent, condition.else_span.line)
        self._statements(condition.otherwise, indent + _INDENT)
        self._comments_before(condition.span.end_line, indent + _INDENT)
        self._emit("}", indent, condition.span.end_line)

    def _run_width(self, statements, start: int) -> int:
        """The widest name of the run of declarations starting at `start`, for aligning `=`."""
        width = len(statements[start].name)
        for previous, statement in zip(statements[start:], statements[start + 1 :]):
            if not isinstance(statement, LayerDecl) or self._interrupted(previous, statement):
                break
            width = max(width, len(statement.name))
        return width

    def _interrupted(self, previous, statement) -> bool:
        """Whether a blank line or a comment line comes between two statements."""
        between = range(previous.span.end_line + 1, statement.span.line)
        lines = self.source.text.split("\n")
        return any(not lines[n - 1].strip() or lines[n - 1].strip().startswith("#") for n in between)

    # ---- output ---------------------------------------------------------------------------------

    def _emit(self, text: str, indent: str, end_line: int, start_line: int | None = None) -> None:
        start_line = end_line if start_line is None else start_line
        # Comments inside a statement that spans lines move before it.
        inside = [c for c in self.comments if start_line <= c.line < end_line]
        for comment in inside:
            self.lines.append(indent + comment.text)
            self.comments.remove(comment)
        trailing = next((c for c in self.comments if c.line == end_line and not c.alone), None)
        if trailing is not None:
            self.comments.remove(trailing)
            text += "  " + trailing.text
        self.lines.append(indent + text)
        self.last_line = end_line

    def _comments_before(self, line: int, indent: str) -> None:
        for comment in [c for c in self.comments if c.line < line]:
            if self._gap(comment.line) and self.lines and self.lines[-1] and not self.lines[-1].endswith("{"):
                self._blank()
            self.lines.append(indent + comment.text)
            self.comments.remove(comment)
            self.last_line = comment.line

    def _gap(self, line: int) -> bool:
        """Whether the source has a blank line between the last written line and `line`."""
        lines = self.source.text.split("\n")
        return any(not lines[n - 1].strip() for n in range(self.last_line + 1, line)) and bool(self.lines)

    def _blank(self) -> None:
        if self.lines and self.lines[-1]:
            self.lines.append("")


def _wrapped(expr, indent: str, start: int | None = None) -> str:
    """An expression on one line where it fits in the width from `start` (by default, after
    `indent`), else, for a list, one item a line, each item wrapped in turn."""
    text = format_expr(expr)
    if (len(indent) if start is None else start) + len(text) <= _WIDTH or not isinstance(expr, ListExpr) or not expr.items:
        return text
    inner = indent + _INDENT
    return "[\n" + "".join(f"{inner}{_wrapped(item, inner)},\n" for item in expr.items) + indent + "]"


def _layer(decl: LayerDecl) -> str:
    text = _call(decl.call)
    if decl.repeat is not None:
        r = decl.repeat
        over = format_expr(r.first) if r.last is None else f"{format_expr(r.first)}..{format_expr(r.last)}"
        text += f" for {', '.join(r.names)} in {over}"
    if decl.shares is not None:
        text += f" shares {decl.shares}"
    return text


def _call(call: Call) -> str:
    arguments = [format_expr(a.value) if a.name is None else f"{a.name}={format_expr(a.value)}" for a in call.arguments]
    return f"{call.callee}({', '.join(arguments)})"


def _statement(statement) -> str:
    if isinstance(statement, Chain):
        return " -> ".join(_call(n) if isinstance(n, Call) else _port(n) for n in statement.nodes)
    if isinstance(statement, Ports):
        return f"{statement.keyword} {', '.join(statement.names)}" + (f" if {statement.only}" if statement.only else "")
    if isinstance(statement, Let):
        return f"{statement.keyword} {statement.name} = {format_expr(statement.value)}"
    raise TypeError(f"cannot format {statement!r}")


def _port(ref: PortRef) -> str:
    return ref.layer if ref.port is None else f"{ref.layer}/{ref.port}"
