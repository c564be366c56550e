"""Hover: what the name under the cursor is, in Markdown.

On a layer: its kind, arguments with their defaults, input and output sizes, learnables and costs,
from `graphdl summary`'s rows (one row per instance where the layer is in a block used several
times); on a block instance: its block and output sizes; on a layer kind: its signature and
description, as `graphdl layers` gives them; on a block, parameter or constant: its declaration;
on a network: its summary's header and totals.
"""

from __future__ import annotations

from graphdl.catalog import is_factor_param, lookup
from graphdl.editor._checking import Report
from graphdl.editor._declarations import Made, at, call_after, declarations
from graphdl.editor._kinds import description
from graphdl.editor._symbols import FileSymbols, Symbol
from graphdl.syntax import BlockDecl, Let, NetworkDecl, Ports, format_expr, format_value
from graphdl.views import summary

# Rows of a table of instances, at most: a block used 64 times would fill the screen.
_MOST_ROWS = 8


def hover(report: Report, symbols: FileSymbols, offset: int) -> str | None:
    """The Markdown for the cursor at `offset` of the report's document, or None."""
    occurrence = symbols.at(offset)
    if occurrence is None:
        word = _word_at(report.text, offset)
        kind = lookup(word) if word and _called(report.text, offset) else None
        return _kind(kind) if kind is not None else None
    symbol = occurrence.symbol
    if symbol.kind == "layer":
        return _layer(report, symbol)
    if symbol.kind in ("block", "network"):
        return _definition(report, symbol)
    if symbol.kind in ("parameter", "constant", "port"):
        return _value(report, symbol)
    return None


def _kind(kind) -> str:
    lines = [f"```dlg\n{kind.signature()}\n```", description(kind)]
    documented = [f"- `{p.name}`: {p.doc}" for p in kind.params if p.doc and not is_factor_param(p)]
    return "\n\n".join(lines + (["\n".join(documented)] if documented else []))


def _layer(report: Report, symbol: Symbol) -> str | None:
    source = report.sources.get(symbol.path)
    start = call_after(source.text, symbol.span.end) if source is not None else None
    made = at(declarations(report), symbol.path, start) if start is not None else ()
    if not made:
        if all(checked.graph is None for checked in report.checks) and not any(d.is_error for d in report.diagnostics):
            return f"**{symbol.name}**: sizes are known where a network uses this block"
        return f"**{symbol.name}**: no sizes known (the network does not check this far)"
    if made[0].block is not None:
        return _instances(report, symbol.name, made)
    rows = [(info, row) for info, row in report.layers() if info.layer.call is not None and info.layer.call.span.start == start]
    rows = [(info, row) for info, row in rows if info.layer.call.span.path == symbol.path]
    info, row = rows[0]
    layer = info.layer
    arguments = ", ".join(f"{name}={format_value(value)}" for name, value in layer.args.items() if not _factor(layer, name))
    head = [f"**{symbol.name}**: `{layer.kind}`, {row[8]}", f"```dlg\n{layer.kind}({arguments})\n```"]
    if len(rows) == 1:
        table = [_ROW_HEAD, _RULE, _cells(info, row)]
        return "\n\n".join([*head, "\n".join(table)])
    shown = rows[:_MOST_ROWS]
    table = [f"| layer {_ROW_HEAD}", f"|---{_RULE}", *(f"| {row[1]} {_cells(info, row)}" for info, row in shown)]
    more = [f"and {len(rows) - len(shown)} more"] if len(rows) > len(shown) else []
    return "\n\n".join([*head, f"{len(rows)} layers, one for each instance:", "\n".join(table), *more])


_ROW_HEAD = "| input | output | learnables | FLOPs | memory |"
_RULE = "|---|---|---|---|---|"


def _cells(info, row: tuple[str, ...]) -> str:
    inputs = ", ".join(str(s) if len(info.inputs) == 1 else f"{port} {s}" for port, s in info.inputs.items()) or "-"
    learnables = row[4] if row[4] == "-" or row[4].startswith("shares") else f"{row[4]} ({row[5]})"
    return f"| {inputs} | {row[3]} | {learnables} | {row[6]} | {row[7]} |"


def _factor(layer, name: str) -> bool:
    return any(p.name == name and is_factor_param(p) for p in layer.catalog_kind.params)


def _instances(report: Report, name: str, made: tuple[Made, ...]) -> str:
    count: dict[str, int] = dict.fromkeys((m.name for m in made), 0)
    for info, row in report.layers():
        owner = next((i.name for i in info.layer.instances if i.name in count), None)
        if owner is not None:
            count[owner] += int(row[5].replace(",", ""))
    shown = made[:_MOST_ROWS]
    table = ["| instance | output | learnables |", "|---|---|---|", *(f"| {m.name} | {m.outputs} | {count[m.name]:,} |" for m in shown)]
    more = [f"and {len(made) - len(shown)} more"] if len(made) > len(shown) else []
    return "\n\n".join([f"**{name}**: block `{made[0].block}`", "\n".join(table), *more])


def _definition(report: Report, symbol: Symbol) -> str | None:
    found = _find(report, symbol)
    if isinstance(found, BlockDecl):
        return _block(found)
    if isinstance(found, NetworkDecl):
        graph = next((c for c in report.checks if c.graph is not None and c.graph.name == found.name and c.analysis is not None), None)
        head = f"```dlg\nnetwork {found.name}{_parameters(found)}\n```"
        if graph is None:
            return head
        table = summary(graph.graph, graph.analysis)
        return "\n\n".join([head, table.header, "\n\n".join(table.totals)])
    return None


def _block(block: BlockDecl) -> str:
    ports = {keyword: [n for s in block.body if isinstance(s, Ports) and s.keyword == keyword for n in s.names] for keyword in ("input", "output")}
    if ports["input"] or ports["output"]:
        wiring = f"inputs: {', '.join(ports['input']) or 'none'}; outputs: {', '.join(ports['output']) or 'none'}"
    else:
        wiring = "a series: it enters its first layer and leaves by its last"
    return f"```dlg\nblock {block.name}{_parameters(block)}\n```\n\n{wiring}"


def _parameters(definition: BlockDecl | NetworkDecl) -> str:
    if not definition.parameters:
        return ""
    written = (p.name if p.default is None else f"{p.name} = {format_expr(p.default)}" for p in definition.parameters)
    return f"({', '.join(written)})"


def _value(report: Report, symbol: Symbol) -> str | None:
    owner = _owner(report, symbol)
    if owner is None:
        return None
    where = f"{'network' if isinstance(owner, NetworkDecl) else 'block'} `{owner.name}`"
    if symbol.kind == "port":
        return f"**{symbol.name}**: a port of {where}"
    if symbol.kind == "parameter":
        parameter = next((p for p in owner.parameters if p.span.start == symbol.span.start), None)
        if parameter is None:
            return f"**{symbol.name}**: a variable of a repetition in {where}"
        default = "" if parameter.default is None else f" = {format_expr(parameter.default)}"
        return f"```dlg\n{symbol.name}{default}\n```\n\na parameter of {where}"
    let = next((s for s in _statements(owner.body) if isinstance(s, Let) and s.name_span.start == symbol.span.start), None)
    return None if let is None else f"```dlg\nlet {let.name} = {format_expr(let.value)}\n```\n\na constant of {where}"


def _find(report: Report, symbol: Symbol) -> BlockDecl | NetworkDecl | None:
    tree = report.tree(symbol.path)
    definitions = tree.networks + tree.blocks if tree is not None else ()
    return next((d for d in definitions if d.name_span.start == symbol.span.start), None)


def _owner(report: Report, symbol: Symbol) -> BlockDecl | NetworkDecl | None:
    tree = report.tree(symbol.path)
    definitions = tree.networks + tree.blocks if tree is not None else ()
    return next((d for d in definitions if d.name == symbol.scope), None)


def _statements(body):
    for statement in body:
        yield statement
        yield from _statements(getattr(statement, "then", ()) + getattr(statement, "otherwise", ()))


def _word_at(text: str, offset: int) -> str:
    start = end = offset
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    return text[start:end]


def _called(text: str, offset: int) -> bool:
    """Whether the word at `offset` is followed by `(`: a callee, not a value."""
    end = offset
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    return text[end : end + 1] == "("
