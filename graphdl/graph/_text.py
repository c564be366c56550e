"""A LayerGraph as `.dlg` text: the network flattened, as a graph holds it.

Block instances and repetitions print as their layers with their dotted names (`stage2.0.conv1`),
sharing as `shares`, and the wiring as arrows, unless the network is a plain series in declaration
order. Parsing the text gives back an equal graph: `loads(to_dlg(graph)) == graph`.
"""

from __future__ import annotations

import itertools

from graphdl.graph._layer_graph import Connection, Layer, LayerGraph, declaration


def to_dlg(graph: LayerGraph) -> str:
    layers = graph.layers
    width = max((len(layer.name) for layer in layers), default=0)
    lines = [f"network {graph.name} {{"]
    lines += [f"    {layer.name.ljust(width)} = {declaration(layer)}" for layer in layers]
    series = _series(layers)
    if series is None or set(graph.connections) != series:
        lines.append("")
        lines += [f"    {chain}" for chain in _chains(graph)]
    if graph.outputs is not None:
        always = [name for name in graph.outputs if name not in graph.training_outputs]
        lines.append(f"    output {', '.join(always)}")
        if graph.training_outputs:
            lines.append(f"    output {', '.join(graph.training_outputs)} if training")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _series(layers: tuple[Layer, ...]) -> set[Connection] | None:
    """The connections a body without arrows would make of these layers (None when some
    layer's ports are unknown: then the arrows are always written)."""
    if not all(layer.valid for layer in layers):
        return None
    made = set()
    for previous, layer in itertools.pairwise(layers):
        if layer.input_ports:
            made.add(Connection(previous.name, previous.output_ports[0], layer.name, layer.input_ports[0]))
    return made


def _chains(graph: LayerGraph) -> list[str]:
    """The connections as chains `a -> b -> c`, each connection once, in layer order."""
    order = {layer.name: i for i, layer in enumerate(graph.layers)}
    remaining = sorted(graph.connections, key=lambda c: (order[c.source], order[c.destination], c.source_port, c.destination_port))
    chains = []
    while remaining:
        first = remaining.pop(0)
        text = [_end(graph, first.source, first.source_port, "output")]
        current = first
        while True:
            following = next((c for c in remaining if c.source == current.destination and _through(graph, current, c) is not None), None)
            if following is None:
                text.append(_end(graph, current.destination, current.destination_port, "input"))
                break
            text.append(_through(graph, current, following))
            remaining.remove(following)
            current = following
        chains.append(" -> ".join(text))
    return chains


def _default(graph: LayerGraph, name: str, port: str, side: str) -> bool:
    layer = graph[name]
    if not layer.valid:
        return False
    ports = layer.output_ports if side == "output" else layer.input_ports
    return ports == (port,)


def _end(graph: LayerGraph, name: str, port: str, side: str) -> str:
    return name if _default(graph, name, port, side) else f"{name}/{port}"


def _through(graph: LayerGraph, into: Connection, out_of: Connection) -> str | None:
    """A layer in the middle of a chain: written with at most one port, of either side."""
    name = into.destination
    plain_in = _default(graph, name, into.destination_port, "input")
    plain_out = _default(graph, name, out_of.source_port, "output")
    if plain_in and plain_out:
        return name
    if plain_out and graph[name].valid and into.destination_port not in graph[name].output_ports:
        return f"{name}/{into.destination_port}"
    if plain_in and graph[name].valid and out_of.source_port not in graph[name].input_ports:
        return f"{name}/{out_of.source_port}"
    return None
