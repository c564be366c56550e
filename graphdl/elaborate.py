"""Syntax tree to LayerGraph: declarations become layers, chains (or the declaration order of a
body without arrows) become connections.

Problems found here are reported with their spans: unknown layer kinds and bad arguments
(checked against the catalog), duplicate names, chains that name a layer or port that does not
exist. The graph is built even so, to let analysis find the independent problems too; the layers
already reported on are listed in `quiet`, and later stages say nothing more about them or about
what they feed.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphdl.diagnostics import Diagnostic, Label, suggest
from graphdl.graph import Connection, Layer, LayerGraph, binding_diagnostics
from graphdl.source import Span
from graphdl.syntax.tree import BrokenDecl, Chain, Document, LayerDecl, NetworkDecl, PortRef


@dataclass(frozen=True)
class Elaboration:
    graph: LayerGraph | None
    diagnostics: tuple[Diagnostic, ...]
    quiet: frozenset[str] = frozenset()


def elaborate(document: Document, network: str | None = None) -> Elaboration:
    """Build the LayerGraph of one network of the document: `network`, or the only one."""
    decl, diagnostics = _choose(document, network)
    if decl is None:
        return Elaboration(None, tuple(diagnostics))
    builder = _Builder(decl)
    builder.build()
    builder.graph.sources = {document.source.path: document.source}
    return Elaboration(builder.graph, tuple(diagnostics + builder.diagnostics), frozenset(builder.quiet))


def _choose(document: Document, name: str | None) -> tuple[NetworkDecl | None, list[Diagnostic]]:
    diagnostics = []
    seen: dict[str, NetworkDecl] = {}
    for decl in document.networks:
        if decl.name in seen:
            first = seen[decl.name]
            diagnostics.append(
                Diagnostic("E214", f"the network `{decl.name}` is defined twice", decl.name_span, "defined again here", (Label(first.name_span, "first defined here"),))
            )
        else:
            seen[decl.name] = decl
    path = document.source.path
    if name is not None:
        if name not in seen:
            help = suggest(name, seen) or (f"the networks here: {', '.join(seen)}" if seen else None)
            diagnostics.append(Diagnostic("E002", f"no network named `{name}` in {path}", help=help))
            return None, diagnostics
        return seen[name], diagnostics
    if not seen:
        diagnostics.append(Diagnostic("E002", f"{path} defines no network", help="write one: `network name { ... }`"))
        return None, diagnostics
    if len(seen) > 1:
        names = ", ".join(f"`{n}`" for n in seen)
        diagnostics.append(Diagnostic("E002", f"{path} defines several networks ({names}); say which to use", help="pass its name (`--network NAME` on the command line)"))
        return None, diagnostics
    return next(iter(seen.values())), diagnostics


class _Builder:
    def __init__(self, decl: NetworkDecl):
        self.decl = decl
        self.graph = LayerGraph(decl.name)
        self.diagnostics: list[Diagnostic] = []
        self.quiet: set[str] = set()
        self.declared: dict[str, Span] = {}  # where each layer name was first declared
        self.unknown: dict[str, list[PortRef]] = {}  # references to undeclared layers, by name
        self.reported_refs: set[Span] = set()

    def build(self) -> None:
        self.graph.span = self.decl.name_span
        body = self.decl.body
        broken = [s for s in body if isinstance(s, BrokenDecl)]
        for statement in body:
            if isinstance(statement, LayerDecl):
                self._declare(statement)
            elif isinstance(statement, BrokenDecl) and statement.name and statement.name not in self.graph:
                # Its syntax error is reported; keep its place (and its name) in the network.
                self.graph.add_layers(Layer(statement.name, ""))
                self.declared[statement.name] = statement.span
        for statement in broken:
            # What a broken statement named may lack the connections it was to make.
            self.quiet.update(name for name in statement.mentions if name in self.graph)
        chains = [s for s in body if isinstance(s, Chain)]
        if chains or any(s.wiring for s in broken):
            for chain in chains:
                self._wire(chain)
            self._report_unknown()
        else:
            self._wire_series()

    def _declare(self, decl: LayerDecl) -> None:
        if decl.name in self.graph:
            first = self.declared.get(decl.name)
            labels = (Label(first, "first declared here"),) if first else ()
            self.diagnostics.append(
                Diagnostic("E210", f"the layer name `{decl.name}` is declared twice", decl.name_span, "declared again here", labels, help="give each layer its own name")
            )
            return
        arguments = tuple((a.name, a.value.python()) for a in decl.call.arguments)
        layer = Layer(decl.name, decl.call.kind, arguments, decl)
        self.graph.add_layers(layer)
        self.declared[decl.name] = decl.name_span
        if not layer.valid:
            self.diagnostics.extend(binding_diagnostics(layer))
            self.quiet.add(layer.name)

    def _wire_series(self) -> None:
        layers = self.graph.layers
        for previous, layer in zip(layers, layers[1:]):
            span = layer.decl.span if layer.decl else None
            if layer.valid and layer.catalog_kind.is_input:
                self.diagnostics.append(
                    Diagnostic(
                        "E305",
                        f"input layer `{layer.name}` must come first",
                        span,
                        "declared after other layers",
                        help="a network without arrows connects its layers in the order they are declared: move the input layer to the top",
                    )
                )
                if layers[0].valid and not layers[0].catalog_kind.is_input:
                    self.quiet.add(layers[0].name)  # the layer that was meant to follow the input
                continue
            source_port = previous.output_ports[0] if previous.valid else "out"
            # Into the first input, as MATLAB's layer arrays connect.
            target = layer.input_ports[0] if layer.valid else "in"
            self.graph.add_connection(Connection(previous.name, source_port, layer.name, target, span))

    def _wire(self, chain: Chain) -> None:
        last = len(chain.ports) - 1
        for i, (source, destination) in enumerate(zip(chain.ports, chain.ports[1:])):
            span = _join(source.span, destination.span)
            # Only a middle element may name a port of the other side (`a -> add/in2 -> b`).
            src = self._resolve(source, "output", through=i > 0)
            dst = self._resolve(destination, "input", through=i + 1 < last)
            if src and dst:
                self.graph.add_connection(Connection(src[0], src[1], dst[0], dst[1], span))
            elif destination.layer in self.graph:
                # Its input is reported as broken already; not also as missing.
                self.quiet.add(destination.layer)

    def _resolve(self, ref: PortRef, side: str, through: bool) -> tuple[str, str] | None:
        """The (layer, port) a chain element names on one side of an arrow, or None after
        reporting why it names none."""
        if ref.layer not in self.graph:
            references = self.unknown.setdefault(ref.layer, [])
            if ref.span not in {r.span for r in references}:
                references.append(ref)
            return None
        layer = self.graph[ref.layer]
        if not layer.valid:
            return ref.layer, ref.port or ("out" if side == "output" else "in")
        ports = layer.output_ports if side == "output" else layer.input_ports
        other = layer.input_ports if side == "output" else layer.output_ports
        if ref.port in ports:
            return ref.layer, ref.port
        if ref.port is not None and (ref.port not in other or not through):
            self._report_port(ref, layer, side)
            return None
        # No port, or a port of the other side (`a -> add/in2 -> b` leaves add by its output).
        if len(ports) == 1:
            return ref.layer, ports[0]
        if side == "input" and not ports:
            return ref.layer, "in"  # into an input layer: analysis reports it
        if ref.span not in self.reported_refs:
            self.reported_refs.add(ref.span)
            options = " or ".join(f"`{ref.layer}/{p}`" for p in ports)
            self.diagnostics.append(
                Diagnostic("E213", f"layer `{ref.layer}` has several {side}s; say which", ref.span, f"which {side} of `{ref.layer}`?", help=f"specify {options}")
            )
        return None

    def _report_port(self, ref: PortRef, layer: Layer, side: str) -> None:
        if ref.span in self.reported_refs:
            return
        self.reported_refs.add(ref.span)
        listing = f"inputs: {', '.join(layer.input_ports) or 'none'}; outputs: {', '.join(layer.output_ports)}"
        ports = layer.output_ports if side == "output" else layer.input_ports
        where = "leaves" if side == "output" else "enters"
        message = f"layer `{ref.layer}` ({layer.kind}) has no {side} port `{ref.port}`"
        if ref.port in layer.input_ports + layer.output_ports:
            message = f"`{ref.layer}/{ref.port}` is not an {side}: this connection {where} `{ref.layer}`"
        self.diagnostics.append(Diagnostic("E212", message, ref.span, "no such port", notes=(f"its ports are {listing}",), help=suggest(ref.port, ports)))

    def _report_unknown(self) -> None:
        """One diagnostic per undeclared name, at its first use, with its other uses."""
        for name, references in self.unknown.items():
            first, *others = references
            labels = tuple(Label(r.layer_span, "and here") for r in others)
            help = suggest(name, self.graph.nx) or f"declare it: `{name} = kind(...)`"
            self.diagnostics.append(Diagnostic("E211", f"no layer named `{name}` in network `{self.graph.name}`", first.layer_span, "not declared", labels, help=help))


def _join(first: Span, last: Span) -> Span:
    return Span(first.path, first.line, first.column, last.end_line, last.end_column, first.start, last.end)
