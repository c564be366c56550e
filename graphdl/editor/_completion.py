"""Completion, from the text before the cursor: the file rarely parses while it is being typed,
so the context (inside which call, after which arrow or slash) is read from the characters of the
statement being written, and the names it may take from the symbols of what did parse.

- after `name = ` or `->`: layer kinds (with their signatures) and the blocks the file can name;
- inside a call's parentheses: the arguments of its kind or block not given yet (`padding=`), and
  after `padding=` the values the argument takes where they are few (`"same"`);
- after `->`, or at the start of a statement: the layer names of the body (and block instances);
- after `name/`: the ports of that layer: its inputs after an arrow, its outputs at a chain's start.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from graphdl.catalog import is_factor_param, kinds, lookup
from graphdl.editor._checking import Report, parsed
from graphdl.editor._declarations import call_after
from graphdl.editor._kinds import description, values
from graphdl.editor._symbols import FileSymbols
from graphdl.syntax import BlockDecl, Ports, format_expr

# Lines looked back over for the start of a statement broken over lines inside brackets.
_MOST_LINES = 64


@dataclass(frozen=True)
class Item:
    """One completion: its label, what kind of thing it is ("kind", "block", "argument", "value",
    "layer", "port"), a one-line detail, Markdown documentation, and how many characters before
    the cursor it replaces (the word typed so far)."""

    label: str
    kind: str
    detail: str = ""
    documentation: str = ""
    replaces: int = 0
    order: int = 0  # lower first


def complete(text: str, offset: int, symbols: FileSymbols, report: Report | None) -> list[Item]:
    before = _statement_before(text, offset)
    if before is None:
        return []
    context = _Context(text, symbols, report)
    opened = _open_bracket(before)
    if opened is not None:
        bracket, position = opened
        return _in_call(before, position, context) if bracket == "(" else []
    if port := _PORT.search(before):
        return _ports(port["name"], bool(port["arrow"]), len(port["typed"]), offset, context)
    if after_arrow := _AFTER_ARROW.search(before):
        typed = len(after_arrow.group(1))
        return _layers(symbols, offset, typed) + _callees(symbols, typed, order=1)
    if declared := _DECLARED.fullmatch(before):
        return _callees(symbols, len(declared.group(1)))
    if start := _STATEMENT_START.fullmatch(before):
        return _layers(symbols, offset, len(start.group(1)))
    return []


_PORT = re.compile(r"(?:(?P<arrow>->)\s*|^\s*)(?P<name>[A-Za-z_][\w.]*)/(?P<typed>\w*)$")
_AFTER_ARROW = re.compile(r"->\s*(\w*)$")
_DECLARED = re.compile(r"\s*[A-Za-z_][\w.]*\s*=\s*(\w*)")
_STATEMENT_START = re.compile(r"\s*(\w*)")
_CALLEE = re.compile(r"([A-Za-z_]\w*)\s*$")
_KEYWORD_ARGUMENT = re.compile(r"\s*([A-Za-z_]\w*)\s*=(?!=)")
_VALUE = re.compile(r"\s*([A-Za-z_]\w*)\s*=\s*([\"']?\w*)")


def _statement_before(text: str, offset: int) -> str | None:
    """The text of the statement being written, from its start to the cursor (comments taken
    out); None inside a comment. A statement runs on over lines while a bracket is open."""
    start = candidate = text.rfind("\n", 0, offset) + 1
    depth = 0
    for _ in range(_MOST_LINES):  # the farthest line back that leaves a bracket open up to here
        if candidate == 0:
            break
        end, candidate = candidate - 1, text.rfind("\n", 0, candidate - 1) + 1
        line = _uncommented(text[candidate:end])
        if "{" in line or "}" in line:  # a body's bounds: no statement runs over them
            break
        depth += _depth(line)
        if depth > 0:
            start = candidate
    lines = text[start:offset].split("\n")
    if _comment_at(lines[-1]) is not None:
        return None
    return "\n".join(_uncommented(line) for line in lines)


def _outside_strings(text: str):
    """(position, character) of each character outside strings; the quotes are left out too
    (strings do not span lines and have no escapes)."""
    quote = None
    for position, char in enumerate(text):
        if quote:
            quote = None if char in (quote, "\n") else quote
        elif char in "\"'":
            quote = char
        else:
            yield position, char


def _comment_at(line: str) -> int | None:
    """Where a comment starts on a line."""
    return next((position for position, char in _outside_strings(line) if char == "#"), None)


def _uncommented(text: str) -> str:
    return "\n".join(line if (c := _comment_at(line)) is None else line[:c] for line in text.split("\n"))


def _depth(text: str) -> int:
    """Brackets opened minus brackets closed."""
    return sum(1 if char in "([" else -1 for _, char in _outside_strings(text) if char in "()[]")


def _open_bracket(text: str) -> tuple[str, int] | None:
    """The innermost bracket still open at the end of `text`, and where it is."""
    stack: list[tuple[str, int]] = []
    for position, char in _outside_strings(text):
        if char in "([":
            stack.append((char, position))
        elif char in ")]" and stack:
            stack.pop()
    return stack[-1] if stack else None


def _top_level_arguments(text: str) -> list[str]:
    """The arguments written inside a call so far, split at its own commas."""
    commas, depth = [], 0
    for position, char in _outside_strings(text):
        depth += (char in "([") - (char in ")]")
        if char == "," and depth == 0:
            commas.append(position)
    bounds = [-1, *commas, len(text)]
    return [text[a + 1 : b] for a, b in itertools.pairwise(bounds)]


@dataclass(frozen=True)
class _Context:
    """The document as it is now, its symbols, and its last check (None before the first)."""

    text: str
    symbols: FileSymbols
    report: Report | None

    def block(self, name: str) -> BlockDecl | None:
        """The declaration of a block the file can name, in the file or one it imports."""
        symbol = self.symbols.visible.get(name)
        if symbol is None or symbol.kind != "block":
            return None
        if symbol.path == self.symbols.path:
            tree = parsed(symbol.path, self.text)
        else:
            tree = self.report.tree(symbol.path) if self.report is not None else None
        return next((b for b in tree.blocks if b.name == name), None) if tree is not None else None


# ---- inside a call --------------------------------------------------------------------------------


def _in_call(before: str, paren: int, context: _Context) -> list[Item]:
    callee = _CALLEE.search(before[:paren])
    if callee is None:
        return []
    *given, current = _top_level_arguments(before[paren + 1 :])
    named = {m.group(1) for part in given if (m := _KEYWORD_ARGUMENT.match(part))}
    positional = sum(1 for part in given if not _KEYWORD_ARGUMENT.match(part))
    parameters = _parameters(callee.group(1), context)
    if value := _VALUE.fullmatch(current):
        param = next((p for p in parameters if p[0] == value.group(1)), None)
        words = param[2] if param is not None else ()
        return [Item(word, "value", replaces=len(value.group(2))) for word in words]
    typed = re.fullmatch(r"\s*(\w*)", current)
    if typed is None:
        return []
    left = [p for p in parameters[positional:] if p[0] not in named]
    return [Item(f"{name}=", "argument", detail, replaces=len(typed.group(1)), order=i) for i, (name, detail, _) in enumerate(left)]


def _parameters(callee: str, context: _Context) -> list[tuple[str, str, tuple[str, ...]]]:
    """The parameters of a kind or block, in order: name, a detail, the values it takes."""
    kind = lookup(callee)
    if kind is not None:
        return [(p.name, p.type.expected, values(p)) for p in kind.params if not is_factor_param(p)] + [
            (p.name, p.type.expected, ()) for p in kind.params if is_factor_param(p)
        ]
    block = context.block(callee)
    if block is None:
        return []
    return [(p.name, "" if p.default is None else f"default {format_expr(p.default)}", ()) for p in block.parameters]


# ---- names --------------------------------------------------------------------------------------------


def _callees(symbols: FileSymbols, typed: int, order: int = 0) -> list[Item]:
    items = [Item(kind.name, "kind", kind.signature(), description(kind), typed, order) for kind in kinds()]
    items += [Item(name, "block", f"block {name}", "", typed, order) for name, s in symbols.visible.items() if s.kind == "block"]
    return items


def _layers(symbols: FileSymbols, offset: int, typed: int) -> list[Item]:
    scope = symbols.scope_at(offset)
    names = dict.fromkeys(s.name for s in symbols.symbols if s.kind in ("layer", "port") and s.scope == scope and s.path == symbols.path)
    return [Item(name, "layer", "", "", typed) for name in names]


def _ports(name: str, target: bool, typed: int, offset: int, context: _Context) -> list[Item]:
    symbols = context.symbols
    scope = symbols.scope_at(offset)
    head = name.split(".")[0]
    symbol = next((s for s in symbols.symbols if s.kind == "layer" and s.name == head and s.scope == scope and s.path == symbols.path), None)
    start = call_after(context.text, symbol.span.end) if symbol is not None else None
    callee = _CALLEE_AT.match(context.text, start) if start is not None else None
    if callee is None:
        return []
    side = "input" if target else "output"
    block = context.block(callee.group(1))
    if block is not None:
        ports = [n for s in block.body if isinstance(s, Ports) and s.keyword == side for n in s.names]
    else:
        ports = _kind_ports(context.report, name, callee.group(1), target)
    return [Item(port, "port", f"{side} of {name}", "", typed) for port in ports]


_CALLEE_AT = re.compile(r"([A-Za-z_]\w*)\s*\(")


def _kind_ports(report: Report | None, name: str, callee: str, target: bool) -> tuple[str, ...]:
    """A layer's ports: as its arguments make them where the last check got that far
    (`addition(3)` has in1 to in3), else those of its kind with the default arguments."""
    for checked in report.checks if report is not None else ():
        layer = checked.graph.get(name) if checked.graph is not None else None
        if layer is not None and layer.valid:
            return layer.input_ports if target else layer.output_ports
    kind = lookup(callee)
    if kind is None:
        return ()
    defaults = kind.complete({})
    return kind.inputs(defaults) if target else kind.outputs(defaults)
