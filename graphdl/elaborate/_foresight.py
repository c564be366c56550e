"""Shapes of a LayerGraph while it is still being built, for `channels(x)` and `size(x)`.

Analysis infers every shape once the graph is whole, in order; an expression that decides
structure (a shortcut, a width) is evaluated while the graph grows. These are the shapes it can
know then: each layer's output, from the catalog's shape rules, over what is connected upstream or
foreseen to be (an item whose feed is known before the connection is made). A layer's inputs, once
connected, do not change, so what is found is kept. None means not yet known: something upstream
is missing, was not made, or refuses its input (analysis reports that).
"""

from __future__ import annotations

from graphdl.catalog import LayerProblem, Shape
from graphdl.graph import LayerGraph

Endpoint = tuple[str, str]  # (layer, port)


class ForeseenShapes:
    def __init__(self, graph: LayerGraph, quiet: set[str]):
        self.graph = graph
        self.quiet = quiet  # layers reported already: no shape is inferred through them
        self._inferred: dict[str, dict[str, Shape]] = {}  # layer -> its output shapes
        self._feeding: dict[Endpoint, Endpoint] = {}  # a layer input not yet connected -> the output that will feed it

    def feed(self, endpoint: Endpoint, source: Endpoint) -> None:
        """Until `endpoint` (a layer input) is connected, it counts as fed by `source`."""
        self._feeding.setdefault(endpoint, source)

    def at(self, layer: str, port: str) -> Shape | None:
        """The shape of a layer's output, or None while it cannot be known. Iterative: a chain
        of thousands of layers is no recursion."""
        pending, waiting = [layer], {layer}
        while pending:
            name = pending[-1]
            if name in self._inferred:
                pending.pop()
                waiting.discard(name)
                continue
            node = self.graph.get(name)
            if node is None or not node.valid or name in self.quiet:
                return None
            incoming = {c.destination_port: (c.source, c.source_port) for c in self.graph.incoming(name)}
            for input_port in node.input_ports:
                if input_port not in incoming and (name, input_port) in self._feeding:
                    incoming[input_port] = self._feeding[name, input_port]
            if any(input_port not in incoming for input_port in node.input_ports):
                return None
            missing = [incoming[p][0] for p in node.input_ports if incoming[p][0] not in self._inferred]
            if missing:
                if any(source in waiting for source in missing):
                    return None  # a cycle: analysis reports it
                pending += missing
                waiting.update(missing)
                continue
            inputs = {p: self._inferred[incoming[p][0]].get(incoming[p][1]) for p in node.input_ports}
            if None in inputs.values():
                return None
            try:
                self._inferred[name] = dict(node.catalog_kind.infer(node.args, inputs).outputs)
            except (LayerProblem, ArithmeticError):
                return None
        return self._inferred[layer].get(port)
