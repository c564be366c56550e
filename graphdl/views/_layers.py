"""What the pictures and the page say about a layer beyond its kind: whether it is at fault (the
layers a diagnostic is about, and the colours they are drawn in), whether its description is
worth writing under its kind's name, its ports and the sizes they carry."""

from __future__ import annotations

from collections.abc import Iterable

from graphdl.analysis import Analysis
from graphdl.catalog import Category
from graphdl.diagnostics import Diagnostic
from graphdl.graph import Layer, LayerGraph

ERROR = Category("error", "#fee2e2", "#dc2626")  # a layer with an error, whatever its kind


def layers_with_errors(graph: LayerGraph, diagnostics: Iterable[Diagnostic]) -> set[str]:
    """Invalid layers, and those the errors are about."""
    broken = {layer.name for layer in graph.layers if not layer.valid}
    for d in diagnostics:
        if d.is_error:
            broken.update(layers_concerned(graph, d))
    return broken


def layers_concerned(graph: LayerGraph, diagnostic: Diagnostic) -> list[str]:
    """The layers a diagnostic is about: those whose declaration holds its span (as the pictures
    find them), else the two ends of the connection it points at (`add -> fc1` closing a cycle),
    else the layer its span names (`add/in3`, a port `add` lacks).

    A layer written inside a block is declared once for all of the block's instances; a
    diagnostic about one instance names that instance among its labels ("in `layer1.0`"), and
    then only that instance's layers are concerned."""
    span = diagnostic.span
    if span is None:
        return []
    declared = [
        layer
        for layer in graph.layers
        if any(s is not None and s.path == span.path and s.start <= span.start < s.end for s in (layer.span, layer.name_span))
    ]
    if declared:
        labelled = {label.span for label in diagnostic.labels}
        narrowed = [layer for layer in declared if layer.instances and all(instance.span in labelled for instance in layer.instances)]
        return [layer.name for layer in narrowed or declared]
    ends = [name for c in graph.connections if c.span == span for name in (c.source, c.destination)]
    if ends:
        return list(dict.fromkeys(ends))
    source = graph.sources.get(span.path)
    named = source.text[span.start : span.end].split("/")[0].strip() if source else ""
    return [named] if named in graph else []


def output_size(analysis: Analysis, layer: str, port: str) -> str | None:
    """The size a layer's output port carries, as the summary writes it; None where unknown."""
    info = analysis.layers.get(layer)
    shape = info.outputs.get(port) if info is not None else None
    return str(shape) if shape is not None else None


def port_count(layer: Layer, direction: str) -> int:
    """How many `"input"` or `"output"` ports a layer has; 0 for an invalid layer, whose ports
    are unknown."""
    if not layer.valid:
        return 0
    return len(layer.input_ports if direction == "input" else layer.output_ports)


def says_more(description: str, kind: str) -> bool:
    """Whether a layer's description says more than its kind's name ("ReLU" does not)."""
    return bool(description) and description.lower().replace(" ", "") != kind.lower()
