"""Structure checks: what is wrong with the wiring, before any size is known.

Each check is a generator of diagnostics over the graph; `quiet` names layers already reported on
by an earlier stage, about which nothing more is said.
"""

from __future__ import annotations

from collections.abc import Iterator

import networkx as nx

from graphdl.diagnostics import Diagnostic, Label, Severity, suggest
from graphdl.graph import LayerGraph, binding_diagnostics, instance_labels, name_problem


def check_layers(graph: LayerGraph, quiet: frozenset[str]) -> Iterator[Diagnostic]:
    """Names a layer cannot take; unknown kinds and bad arguments of layers built from Python (the
    elaborator reports those of layers from text, and lists them as quiet)."""
    for layer in graph.layers:
        problem = name_problem(layer.name)
        if problem:
            span = layer.name_span
            yield Diagnostic("E216", problem, span, "", help="rename the layer")
        if layer.name not in quiet:
            yield from binding_diagnostics(layer)


def check_connections(graph: LayerGraph, quiet: frozenset[str]) -> Iterator[Diagnostic]:
    """Ports that do not exist, inputs connected twice, connections into input layers."""
    first: dict[tuple[str, str], object] = {}
    for c in sorted(graph.connections, key=_position):
        src, dst = graph[c.source], graph[c.destination]
        if src.valid and c.source_port not in src.output_ports:
            yield Diagnostic("E212", f"layer `{src.name}` has no output port `{c.source_port}`", c.span, help=f"its outputs: {', '.join(src.output_ports)}")
        if not dst.valid or dst.name in quiet:
            continue
        if dst.catalog_kind.is_input:
            yield Diagnostic(
                "E305",
                f"input layer `{dst.name}` has an incoming connection from `{src.name}`",
                c.span,
                "input layers start a network",
                help="move the input layer to the top of a series network, or remove the connection into it",
            )
        elif c.destination_port not in dst.input_ports:
            yield Diagnostic("E212", f"layer `{dst.name}` has no input port `{c.destination_port}`", c.span, help=f"its inputs: {', '.join(dst.input_ports)}")
        elif (dst.name, c.destination_port) in first:
            earlier = first[dst.name, c.destination_port]
            labels = (Label(earlier.span, "first connected here"),) if earlier.span else ()
            yield Diagnostic(
                "E303",
                f"input `{dst.name}/{c.destination_port}` is connected twice: from `{earlier.source}` and from `{src.name}`",
                c.span,
                "connected again here",
                labels,
                help="an input takes one connection; to combine branches, feed them to an `addition` or a `concatenation`",
            )
        else:
            first[dst.name, c.destination_port] = c


def _position(connection) -> tuple:
    """Source order, connections made from Python (without a span) after those from text."""
    span = connection.span
    return (0, span.path, span.start) if span else (1, "", 0)


def check_cycles(graph: LayerGraph, cycles: list[set[str]]) -> Iterator[Diagnostic]:
    """One diagnostic per cycle (a strongly connected component of `cycles`): a network is a
    directed acyclic graph."""
    order = {name: i for i, name in enumerate(graph.nx)}
    for component in cycles:
        sub = graph.nx.subgraph(component)
        start = min(component, key=order.__getitem__)
        edges = nx.find_cycle(sub, start)
        connections = [sub.edges[u, v, key]["connection"] for u, v, key in edges]
        path = " -> ".join([connections[0].source] + [c.destination for c in connections])
        spans = sorted((c.span for c in connections if c.span), key=lambda span: span.start)
        primary = spans[0] if spans else None
        lines, labels = {primary.line} if primary else set(), []
        for span in spans[1:]:
            if span.line not in lines:
                lines.add(span.line)
                labels.append(Label(span, "and here"))
        yield Diagnostic(
            "E301",
            f"the network has a cycle: {path}",
            primary,
            "part of the cycle",
            tuple(labels),
            help="a network is a directed acyclic graph: remove one of these connections",
        )


def cycles(graph: LayerGraph) -> list[set[str]]:
    """The strongly connected components that hold a cycle."""
    return [c for c in nx.strongly_connected_components(graph.nx) if len(c) > 1 or any(graph.nx.has_edge(n, n) for n in c)]


def check_inputs_connected(graph: LayerGraph, quiet: frozenset[str]) -> Iterator[Diagnostic]:
    for layer in graph.layers:
        if not layer.valid or layer.name in quiet or graph.isolated(layer.name):
            continue
        connected = {c.destination_port for c in graph.incoming(layer.name)}
        missing = [port for port in layer.input_ports if port not in connected]
        if not missing:
            continue
        if len(layer.input_ports) == 1:
            message, target = f"the input of `{layer.name}` is not connected", layer.name
        else:
            refs = [f"{layer.name}/{port}" for port in missing]
            listing = ", ".join(f"`{ref}`" for ref in refs)
            message = f"input {listing} is not connected" if len(refs) == 1 else f"inputs {listing} are not connected"
            target = refs[0]
        yield Diagnostic("E302", message, layer.span, "", help=f"connect it: `some_layer -> {target}`")


def check_has_input(graph: LayerGraph, quiet: frozenset[str]) -> Iterator[Diagnostic]:
    if not graph.layers:
        if not quiet:
            yield Diagnostic(
                "E304", f"network `{graph.name}` has no layers", graph.span, "empty", help="start it with an input layer such as `imageInput([28, 28, 1])`"
            )
    elif not graph.input_names and all(layer.valid for layer in graph.layers):
        first = graph.layers[0]
        yield Diagnostic(
            "E304",
            f"network `{graph.name}` has no input layer",
            first.span,
            help="start the network with an input layer such as `imageInput([28, 28, 1])` or `featureInput(10)`",
        )


def check_names(graph: LayerGraph, quiet: frozenset[str]) -> Iterator[Diagnostic]:
    """A layer cannot be inside another: `a.b` and `a` would both be the compiled network's `a`."""
    names = {layer.name for layer in graph.layers if layer.name not in quiet}
    for layer in graph.layers:
        parts = layer.name.split(".")
        for i in range(1, len(parts)):
            outer = ".".join(parts[:i])
            if outer in names:
                yield Diagnostic("E210", f"`{layer.name}` would be inside the layer `{outer}`", layer.name_span, "", help="rename one of them")
                break


def check_sharing(graph: LayerGraph) -> Iterator[Diagnostic]:
    """A layer shares the parameters of a layer of its kind, which shares nobody's."""
    for layer in graph.layers:
        if layer.shares is None:
            continue
        owner = graph.get(layer.shares)
        problem = None
        if owner is None:
            problem = f"`{layer.name}` shares `{layer.shares}`, which is not in the network"
        elif owner.shares is not None:
            problem = f"`{layer.name}` shares `{owner.name}`, which shares `{owner.shares}`: share `{owner.shares}` directly"
        elif owner.kind != layer.kind:
            problem = f"`{layer.name}` ({layer.kind}) cannot share the parameters of `{owner.name}` ({owner.kind})"
        if problem:
            labels = (Label(owner.name_span, "the other layer"),) if owner is not None and owner.name_span else ()
            yield Diagnostic("E223", problem, layer.name_span, "", labels + instance_labels(layer), help="sharing needs two layers of one kind")


def check_outputs(graph: LayerGraph, quiet: frozenset[str]) -> Iterator[Diagnostic]:
    """Declared outputs that do not exist; outputs that feed nothing and are no network output;
    layers connected to nothing, which are left out of the network."""
    if graph.outputs is not None:
        for name in graph.outputs:
            if name not in graph:
                yield Diagnostic("E211", f"the output `{name}` is not a layer of network `{graph.name}`", graph.span, help=suggest(name, graph.nx))
    if quiet:
        return  # connections were dropped for mistakes reported already: what looks unused may not be
    declared = set(graph.outputs) if graph.outputs is not None else None
    for layer in graph.layers:
        if not layer.valid:
            continue
        if graph.isolated(layer.name):
            yield Diagnostic(
                "E307",
                f"`{layer.name}` is connected to nothing: it is left out of the network",
                layer.name_span or layer.span,
                "",
                help=f"connect it with arrows (`some_layer -> {layer.name}`), or remove it",
                severity=Severity.WARNING,
            )
            continue
        # Without declared outputs, the layers with an output that feeds nothing are the network's
        # outputs (`LayerGraph.output_names`).
        if declared is None or layer.name in declared:
            continue
        open_ports = graph.open_outputs(layer.name)
        if open_ports:
            ports = ", ".join(f"`{layer.name}/{p}`" if len(layer.output_ports) > 1 else f"`{layer.name}`" for p in open_ports)
            yield Diagnostic(
                "E306",
                f"the output of {ports} feeds nothing and is not declared an output: it is computed for nothing",
                layer.name_span or layer.span,
                "",
                help=f"connect it, or declare it: `output {layer.name}`",
                severity=Severity.WARNING,
            )
