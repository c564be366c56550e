"""The interactive page of a network: one self-contained HTML file (no network access needed to
open it) that draws the network with its blocks folded and unfolded by a click, a panel with the
selected layer's or block's details, search, zoom and pan, and the diagnostics on the layers they
concern.

Python gathers what the page shows into one JSON blob; the page lays the graph out itself, in
JavaScript (graphdl/views/page/page.js), because folding a block changes the layout. The script,
its style sheet and the HTML template are package data, inlined here.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping, Sequence
from importlib.resources import files

from graphdl.analysis import Analysis, analyze
from graphdl.catalog import CATEGORIES
from graphdl.diagnostics import Diagnostic, GraphdlError
from graphdl.graph import Layer, LayerGraph
from graphdl.source import Source
from graphdl.syntax import format_value
from graphdl.views._groups import Group, boundary, folding, groups
from graphdl.views._layers import ERROR, layers_concerned, layers_with_errors, output_size, port_count, says_more


def page(
    graph: LayerGraph,
    analysis: Analysis | None = None,
    diagnostics: Sequence[Diagnostic] | None = None,
    *,
    depth: int | None = None,
    expand: Iterable[str] = (),
) -> str:
    """The whole HTML text of the interactive page of `graph`. `diagnostics` default to the
    analysis's; a caller that checked a file passes all of its own (elaboration's included).
    `depth` and `expand` choose the blocks the page opens folded, as they do for a picture; by
    default it unfolds them level by level while the picture stays readable."""
    analysis = analysis or analyze(graph)
    diagnostics = tuple(analysis.diagnostics if diagnostics is None else diagnostics)
    data = page_data(graph, analysis, diagnostics)
    if depth is not None or expand:
        tree = groups(graph, analysis)
        opening = folding(tree, depth, expand)
        data["open"] = [name for name, group in tree.items() if opening.is_open(group)]
    assets = files("graphdl.views").joinpath("page")
    template = assets.joinpath("page.html").read_text(encoding="utf-8")
    # str.replace, not str.format: the style sheet and the script are full of braces.
    return (
        template.replace("{{title}}", html.escape(f"{graph.name}: graphdl"))
        .replace("{{style}}", assets.joinpath("page.css").read_text(encoding="utf-8"))
        .replace("{{data}}", script_json(data))
        .replace("{{script}}", assets.joinpath("page.js").read_text(encoding="utf-8"))
    )


def page_data(graph: LayerGraph, analysis: Analysis, diagnostics: Sequence[Diagnostic]) -> dict:
    """What the page shows, as plain data: the layers (in declaration order, the order the layout
    starts from), the connections, the groups with their totals, and the diagnostics."""
    concerned = [layers_concerned(graph, d) for d in diagnostics]
    broken = layers_with_errors(graph, diagnostics)
    outputs = set(graph.output_names)
    tree = groups(graph, analysis)
    path = graph.span.path if graph.span else next((layer.span.path for layer in graph.layers if layer.span), "")
    return {
        "name": graph.name,
        "path": path,
        "layers": [_layer(layer, analysis, broken, outputs, graph.sources) for layer in graph.layers],
        "connections": [
            {
                "source": c.source,
                "sourcePort": c.source_port,
                "destination": c.destination,
                "destinationPort": c.destination_port,
                "size": output_size(analysis, c.source, c.source_port),
                # Port names are worth drawing only where a layer has several.
                "showSourcePort": port_count(graph[c.source], "output") > 1,
                "showDestinationPort": port_count(graph[c.destination], "input") > 1,
            }
            for c in graph.connections
        ],
        "groups": [_group(group, graph, analysis) for group in tree.values()],
        "diagnostics": [
            {
                "code": d.code,
                "severity": d.severity.value,
                "message": d.message,
                "path": d.span.path if d.span else "",
                "line": d.span.line if d.span else None,
                "column": d.span.column if d.span else None,
                "help": d.help,
                # Where else it points, and why: `in1: 14x14x20 from pool1`, `in layer1.0`.
                "labels": [{"text": label.text, "path": label.span.path, "line": label.span.line, "column": label.span.column} for label in d.labels],
                "notes": list(d.notes),
                "layers": names,
            }
            for d, names in zip(diagnostics, concerned)
        ],
        "learnables": analysis.num_learnables,
        "flops": analysis.flops,
    }


def _layer(layer: Layer, analysis: Analysis, broken: set[str], outputs: set[str], sources: Mapping[str, Source]) -> dict:
    info = analysis.layers.get(layer.name)
    kind = layer.catalog_kind if layer.valid else None
    colours = CATEGORIES[kind.category] if kind else ERROR
    if kind:
        arguments = {name: _value(value) for name, value in layer.args.items()}
        description = kind.describe(layer.args)
    else:  # an unknown kind or arguments that do not bind: they are shown as written
        arguments = {name if name is not None else f"#{i + 1}": _value(value) for i, (name, value) in enumerate(layer.arguments)}
        description = ""
    span = layer.span or layer.name_span
    source = sources.get(layer.span.path) if layer.span else None
    return {
        "name": layer.name,
        "kind": layer.kind,
        "category": kind.category if kind else None,
        "fill": colours.fill,
        "border": colours.border,
        # The description only where it says more than the kind's name ("ReLU" does not).
        "description": description if says_more(description, layer.kind) else "",
        "arguments": arguments,
        # The declaration's text: of a layer whose kind or arguments are wrong, what it says.
        "written": source.text[layer.span.start : layer.span.end] if source else None,
        "inputs": {port: str(shape) for port, shape in info.inputs.items()} if info else None,
        "outputs": {port: str(shape) for port, shape in info.outputs.items()} if info else None,
        "learnables": {name: list(size) for name, size in info.learnables.items()} if info else None,
        # A layer that shares another's parameters counts none of its own, as the summary says.
        "numLearnables": (0 if layer.shares else info.num_learnables) if info else None,
        "flops": info.flops if info else None,
        "shares": layer.shares,
        "path": span.path if span else "",
        "line": span.line if span else None,
        "instances": [
            {"name": instance.name, "block": instance.block, "path": instance.span.path, "line": instance.span.line} for instance in layer.instances
        ],
        "isOutput": layer.name in outputs,
        "broken": layer.name in broken,
    }


def _group(group: Group, graph: LayerGraph, analysis: Analysis) -> dict:
    """A group with its totals, and the sizes that flow into and out of it."""
    inputs, outputs = boundary(graph, analysis, group)
    return {
        "name": group.name,
        "kind": group.kind,
        "depth": group.depth,
        "children": list(group.children),
        "layers": list(group.layers),
        "learnables": group.learnables,
        "flops": group.flops,
        "inputs": [{"layer": f.layer, "port": f.port, "size": f.size} for f in inputs],
        "outputs": [{"layer": f.layer, "port": f.port, "size": f.size} for f in outputs],
    }


def _value(value: object) -> str:
    """An argument as the language writes it; a value it has no words for (None: an optional
    argument left unset, whose value the layer works out) as `none`."""
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(_value, value)) + "]"
    try:
        return format_value(value)
    except GraphdlError:
        return str(value)


def script_json(data: object) -> str:
    """JSON that is safe inside an HTML <script> element: no `<` at all (so no `</script>` to end
    it early, nor `<!--` to open a comment), and no U+2028/U+2029, which older JavaScript parsers
    take for line breaks. JSON's own escapes keep the values as they were."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
