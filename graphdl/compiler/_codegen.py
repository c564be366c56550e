"""LayerGraph to DLNetwork: build each layer's torch module and generate the forward as code.

The forward is a torch.fx Graph built directly (no tracing): each layer, in the analysis'
execution order, writes its part (a call of its module, or cheap operations inline); fx's code
generator turns it into Python, which the network's class defines as its `forward`. The result
reads like a hand-written forward, frees each activation after its last use, and works with
torch.compile, ONNX export and state_dict like any module.
"""

from __future__ import annotations

import contextlib
import hashlib
import linecache
import operator
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

import networkx as nx
import torch
from torch import fx, nn

from graphdl.analysis import Analysis
from graphdl.catalog import Emit


@contextlib.contextmanager
def seeded(seed: int | None):
    """torch's random numbers from `seed` inside the block, without touching its global state."""
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


def forward_graph(analysis: Analysis, modules: Collection[str], outputs: Iterable[str] | None = None) -> fx.Graph:
    """The fx Graph computing `outputs` (default: the network's outputs) from the network's
    inputs, with only the layers they need; `modules` names the layers that own a module (a dict
    of them will do). Every node records its layer in `meta["layer"]`."""
    graph = analysis.graph
    wanted = tuple(graph.output_names if outputs is None else outputs)
    needed = set(wanted)
    for name in wanted:
        needed |= nx.ancestors(graph.nx, name)
    code = fx.Graph()
    # The inputs are the forward's parameters: named after the input layers, as Python allows.
    inputs = {name: code.placeholder(_parameter(name)) for name in graph.input_names}
    for name, node in inputs.items():
        node.meta["layer"] = name
    values: dict[tuple[str, str], fx.Node] = {}
    for name in analysis.order:
        if name not in needed:
            continue
        layer, info = graph[name], analysis[name]
        before = len(code.nodes)
        if name in inputs:
            args = (inputs[name],)
        else:
            incoming = {c.destination_port: values[c.source, c.source_port] for c in graph.incoming(name)}
            args = tuple(incoming[port] for port in layer.input_ports)
        target = layer.shares or name
        emit = Emit(code, name, target, target in modules)
        result = layer.catalog_kind.generate(layer.args, info.inputs, emit, *args)
        ports = layer.output_ports
        if len(ports) == 1:
            values[name, ports[0]] = _named(code, result, name, before)
        else:
            for i, port in enumerate(ports):
                values[name, port] = code.call_function(operator.getitem, (result, i))
        for node in list(code.nodes)[before:]:
            node.meta["layer"] = name
    results = []
    for name in wanted:
        # An output found by its open ports returns those; a declared output or a requested
        # layer, all of its ports. A layer with several gives a tuple: one result per name.
        ports = graph.open_outputs(name) if outputs is None and graph.outputs is None else graph[name].output_ports
        per_port = [values[name, port] for port in ports]
        results.append(per_port[0] if len(per_port) == 1 else tuple(per_port))
    code.output(results[0] if len(results) == 1 else tuple(results))
    code.lint()
    return code


def _parameter(name: str) -> str:
    name = name.replace(".", "_")
    return name + "_" if name == "outputs" else name  # `outputs=` is the forward's own


def _named(code: fx.Graph, result: fx.Node, name: str, before: int) -> fx.Node:
    """The layer's result under the layer's name in the generated code (`add = a + b`, not
    `add_add = a + b`), where it is an inline operation of this layer's."""
    if len(code.nodes) <= before or result is not next(reversed(code.nodes)) or result.op not in ("call_function", "call_method"):
        return result
    with code.inserting_after(result):
        renamed = code.create_node(result.op, result.target, result.args, result.kwargs, name=name.replace(".", "_"))
    code.erase_node(result)
    return renamed


@dataclass(frozen=True)
class GeneratedForward:
    """A forward as Python source and as the function compiled from it, `function(net, *inputs)`,
    a method of the network's class: `self.conv1` is the module of whichever network runs it (a
    copy, a DataParallel replica), so nothing is copied and nothing goes stale when the network
    moves to another device."""

    graph: fx.Graph
    code: str
    function: Callable[..., object]
    filename: str  # of the compiled code, as tracebacks name it


def generate_forward(analysis: Analysis, modules: Collection[str], outputs: Iterable[str] | None = None) -> GeneratedForward:
    """The function computing `outputs` (default: the network's outputs) from the inputs."""
    graph = forward_graph(analysis, modules, outputs)
    python = graph.python_code(root_module="self")
    return _compile(graph, python, python.src.strip("\n").rstrip().splitlines())


def generate_entry(analysis: Analysis, modules: Collection[str]) -> GeneratedForward:
    """The network's `forward`: fx's code for the network's outputs inside the little a call
    needs, so that a call costs what a hand-written forward costs, with no frame in between:
    `outputs=` hands over to the forward of those layers, and an error goes to
    `self._forward_failed`, which runs the network again on arrays given as inputs, or tells
    where a layer's error is in the source (a `try` is free until something is raised)."""
    graph = forward_graph(analysis, modules)
    python = graph.python_code(root_module="self")
    definition, *body = python.src.strip("\n").rstrip().splitlines()
    inputs = [node.target for node in graph.nodes if node.op == "placeholder"]
    assert definition == f"def forward({', '.join(['self', *inputs])}):", definition  # fx's own form
    network = analysis.graph
    evaluated = tuple(name for name in network.output_names if name not in network.training_outputs)
    lines = [
        f"def forward({', '.join(['self', *inputs, '*', 'outputs=None'])}):",
        "    if outputs is not None:",
        f"        return self._forward_outputs(outputs, {', '.join(inputs)})",
        # Outputs for training only (an auxiliary head): evaluation computes the others alone.
        *(["    if not self.training:", f"        return self._forward_outputs({evaluated!r}, {', '.join(inputs)})"] if network.training_outputs else []),
        "    try:",
        *("    " + line for line in body),
        "    except Exception as error:",
        f"        return self._forward_failed(error, ({''.join(name + ', ' for name in inputs)}))",
    ]
    return _compile(graph, python, lines)


def _compile(graph: fx.Graph, python, lines: list[str]) -> GeneratedForward:
    """Compile `lines`, fx's code for `graph` (`python`) as given or wrapped, with its globals."""
    code = "\n".join(lines) + "\n"
    filename = f"<graphdl forward {hashlib.sha1(code.encode()).hexdigest()[:12]}>"
    # Registered with linecache, so that tracebacks through the forward show its lines.
    linecache.cache[filename] = (len(code), None, code.splitlines(keepends=True), filename)
    namespace = dict(python.globals)
    exec(compile(code, filename, "exec", dont_inherit=True), namespace)
    return GeneratedForward(graph, code, namespace["forward"], filename)
