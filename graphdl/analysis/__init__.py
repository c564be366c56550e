"""Analysis: everything that can be known about a network without running it.

`analyze` checks the structure (layers, ports, cycles, open inputs, input layers), infers every
shape and counts the learnables, and reports all problems in one pass, as MATLAB's analyzeNetwork
does, but each with its place in the source.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass

from graphdl.analysis._capacity import check_capacity
from graphdl.analysis._inference import LayerInfo, check_shared_sizes, infer_shapes
from graphdl.analysis._structure import (
    check_connections,
    check_cycles,
    check_has_input,
    check_inputs_connected,
    check_layers,
    check_names,
    check_outputs,
    check_sharing,
    cycles,
)
from graphdl.diagnostics import Diagnostic, counted, has_errors
from graphdl.graph import LayerGraph

__all__ = ["Analysis", "LayerInfo", "analyze"]


@dataclass(frozen=True)
class Analysis:
    graph: LayerGraph
    diagnostics: tuple[Diagnostic, ...]
    layers: Mapping[str, LayerInfo]  # the layers whose shapes are known, in execution order

    @property
    def ok(self) -> bool:
        """No errors (warnings allowed): the network can be compiled."""
        return not has_errors(self.diagnostics)

    @property
    def order(self) -> tuple[str, ...]:
        return tuple(self.layers)

    @property
    def num_learnables(self) -> int:
        """Learnable parameters of the network, shared ones counted once."""
        return sum(info.num_learnables for info in self.layers.values() if info.layer.shares is None)

    @property
    def flops(self) -> int:
        """Floating-point operations of one observation's forward."""
        return sum(info.flops for info in self.layers.values())

    @property
    def memory(self) -> int:
        """Bytes of all activations of one observation's forward."""
        return sum(info.memory for info in self.layers.values())

    def __getitem__(self, name: str) -> LayerInfo:
        return self.layers[name]

    def __repr__(self) -> str:
        # One line, as LayerGraph's: the dataclass's own spells out every layer's shapes (57 kB for
        # ResNet-50), and a notebook keeps it beside the picture it shows.
        errors = sum(d.is_error for d in self.diagnostics)
        warnings = len(self.diagnostics) - errors
        return f"<Analysis of {self.graph.name}: {counted(len(self.graph), 'layer')}, {counted(errors, 'error')}, {counted(warnings, 'warning')}>"


def analyze(graph: LayerGraph, quiet: frozenset[str] = frozenset()) -> Analysis:
    """Check a LayerGraph and infer its shapes. `quiet` names layers whose problems an earlier
    stage has reported already."""
    order = execution_order(graph)
    # Kahn's algorithm orders every layer of a network without cycles, the usual case: only a
    # network it cannot order all of has cycles to look for.
    looped = cycles(graph) if len(order) < len(graph) else []
    diagnostics = [
        *check_layers(graph, quiet),
        *check_names(graph, quiet),
        *check_sharing(graph),
        *check_connections(graph, quiet),
        *check_cycles(graph, looped),
    ]
    missing_input = list(check_has_input(graph, quiet))
    if missing_input and graph.layers:
        # The first layer is where the missing input layer belongs: one diagnostic says both.
        quiet = quiet | {graph.layers[0].name}
    diagnostics += missing_input
    diagnostics += check_inputs_connected(graph, quiet)
    diagnostics += check_outputs(graph, quiet)
    cyclic = {name for component in looped for name in component}
    if cyclic:
        order = execution_order(graph, cyclic)  # the layers after a cycle too
    infos, shape_diagnostics = infer_shapes(graph, order, cyclic | set(quiet))
    shape_diagnostics += check_shared_sizes(infos)
    shape_diagnostics += check_capacity(infos)
    return Analysis(graph, tuple(diagnostics + shape_diagnostics), infos)


def execution_order(graph: LayerGraph, cyclic: set[str] = frozenset()) -> list[str]:
    """A topological order of the layers outside cycles; among the layers ready at a time, the one
    declared first runs first, so that generated code reads in the order of the source."""
    # Kahn's algorithm with the ready layers in a heap by declaration position: networkx's
    # lexicographical sort does the same, several times slower on large networks.
    # networkx's adjacency dicts (`_pred`, `_succ`), as LayerGraph reads them: its views cost more.
    position = {name: i for i, name in enumerate(graph.nx) if name not in cyclic}
    waiting = {name: sum(len(edges) for source, edges in graph.nx._pred[name].items() if source in position) for name in position}
    ready = [(position[name], name) for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, name = heapq.heappop(ready)
        order.append(name)
        for successor, edges in graph.nx._succ[name].items():
            if successor in waiting:
                waiting[successor] -= len(edges)
                if waiting[successor] == 0:
                    heapq.heappush(ready, (position[successor], successor))
    return order
