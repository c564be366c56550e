"""LayerGraph to DLNetwork: build each layer's torch module and generate the forward as code.

The forward is a torch.fx Graph built directly (no tracing), one `call_module` per layer in the
analysis' execution order, turned into Python by fx's code generator. The result reads like a
hand-written forward, frees each activation after its last use, and works with torch.compile, ONNX
export and state_dict like any module.
"""

from __future__ import annotations

import contextlib
import operator
from collections.abc import Iterable

import networkx as nx
import torch
from torch import fx, nn

from graphdl.analysis import Analysis, analyze
from graphdl.diagnostics import GraphdlError
from graphdl.graph import LayerGraph


def dlnetwork(graph: LayerGraph, *, seed: int | None = None):
    """Compile a LayerGraph into a DLNetwork (MATLAB's `dlnetwork(lgraph)`), its learnables
    initialised with each layer's initialisers; `seed` makes them reproducible without touching
    torch's global random state. Raises GraphdlError if the graph has errors."""
    from graphdl.network import DLNetwork

    graph = graph.copy()  # the network keeps the graph it was compiled from, whatever the caller edits later
    analysis = analyze(graph)
    if not analysis.ok:
        raise GraphdlError(analysis.diagnostics, graph.sources)
    with _seeded(seed):
        modules = build_modules(analysis)
    return DLNetwork(graph, analysis, modules)


@contextlib.contextmanager
def _seeded(seed: int | None):
    if seed is None:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def build_modules(analysis: Analysis) -> dict[str, nn.Module]:
    """A module per layer that owns its parameters; a layer that shares uses its owner's."""
    modules = {}
    for name, info in analysis.layers.items():
        if info.layer.shares is not None:
            continue
        module = info.layer.catalog_kind.build(info.layer.args, info.inputs)
        if module is not None:
            modules[name] = module
    return modules


def forward_graph(analysis: Analysis, modules: dict[str, nn.Module], outputs: Iterable[str] | None = None) -> fx.Graph:
    """The fx Graph computing `outputs` (default: the network's outputs) from the network's
    inputs, with only the layers they need."""
    graph = analysis.graph
    wanted = tuple(graph.output_names if outputs is None else outputs)
    needed = set(wanted)
    for name in wanted:
        needed |= _ancestors(graph, name)
    code = fx.Graph()
    inputs = {name: code.placeholder(name) for name in graph.input_names}
    values: dict[tuple[str, str], fx.Node] = {}
    for name in analysis.order:
        if name not in needed:
            continue
        layer = graph[name]
        if name in inputs:
            args = (inputs[name],)
        else:
            incoming = {c.destination_port: values[c.source, c.source_port] for c in graph.incoming(name)}
            args = tuple(incoming[port] for port in layer.input_ports)
        target = layer.shares or name
        result = code.call_module(target, args) if target in modules else args[0]
        ports = layer.output_ports
        if len(ports) == 1:
            values[name, ports[0]] = result
        else:
            for i, port in enumerate(ports):
                values[name, port] = code.call_function(operator.getitem, (result, i))
    results = []
    for name in wanted:
        # A network output returns its open ports; a requested layer, all of its ports. A layer
        # with several gives a tuple, so that there is one result per name.
        ports = graph.open_outputs(name) if outputs is None else graph[name].output_ports
        per_port = [values[name, port] for port in ports]
        results.append(per_port[0] if len(per_port) == 1 else tuple(per_port))
    code.output(results[0] if len(results) == 1 else tuple(results))
    code.lint()
    return code


def _ancestors(graph: LayerGraph, name: str) -> set[str]:
    return nx.ancestors(graph.nx, name)

