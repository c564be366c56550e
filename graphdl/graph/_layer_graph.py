"""LayerGraph: the editable network, a thin class over a networkx MultiDiGraph.

A node is a layer, named; an edge joins an output port of one layer to an input port of another
(`conv1/out -> add/in2`). The editing vocabulary is MATLAB's in Python's spelling: `add_layers`
(which connects the new layers in series, as MATLAB's addLayers does), `remove_layers`,
`replace_layer`, `connect`, `disconnect`, and the views `layers`, `connections`, `input_names`,
`output_names`, `is_series`.

A graph may be wrong (a cycle, a port left open, sizes that cannot meet): it is a draft until
`graphdl.analyze` says otherwise, as MATLAB's layerGraph is until analyzeNetwork. Its layers keep
their arguments as written, so that the text it came from can be printed back.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import networkx as nx

from graphdl.catalog import BindingProblem, LayerKind, as_value, bind, kinds, lookup
from graphdl.diagnostics import Diagnostic, GraphdlError, Label, error, suggest
from graphdl.graph._names import name_problem
from graphdl.syntax import format_value

if TYPE_CHECKING:
    from graphdl.source import Source, Span
    from graphdl.syntax import Call


@dataclass(frozen=True)
class Instance:
    """A block instance a layer belongs to: its name, the block it instantiates, and the call that
    made it."""

    name: str
    block: str
    span: Span


@dataclass(frozen=True)
class Layer:
    """One layer: its name (dotted inside block instances: `stage2.0.conv1`), its kind, and its
    arguments as written, `(name, value)` with None for the name of a positional argument.
    `shares` names the layer whose parameters it uses instead of its own.

    From text, a layer also knows where it was written: `call` (its arguments' spans included),
    `name_span`, and the block instances it is part of, outermost first."""

    name: str
    kind: str
    arguments: tuple[tuple[str | None, object], ...] = ()
    shares: str | None = None
    call: Call | None = field(default=None, compare=False, repr=False)
    name_span: Span | None = field(default=None, compare=False, repr=False)
    instances: tuple[Instance, ...] = field(default=(), compare=False, repr=False)

    @property
    def span(self) -> Span | None:
        return self.call.span if self.call else None

    @property
    def catalog_kind(self) -> LayerKind | None:
        return lookup(self.kind)

    @functools.cached_property
    def _binding(self) -> tuple[dict[str, object] | None, tuple[BindingProblem, ...]]:
        """Every argument, defaults included, in normal form (None for an invalid layer), and what
        is wrong with the kind or the arguments: one binding for both `args` and `problems`."""
        kind = self.catalog_kind
        if kind is None:
            names = [k.name for k in kinds()]
            return None, (BindingProblem(None, "E201", f"unknown layer kind `{self.kind}`", suggest(self.kind, names)),)
        given, problems = bind(kind.params, self.arguments)
        return (None if problems else kind.complete(given)), tuple(problems)

    @property
    def problems(self) -> tuple[BindingProblem, ...]:
        """What is wrong with the kind or the arguments; empty for a valid layer."""
        return self._binding[1]

    @functools.cached_property
    def args(self) -> dict[str, object]:
        """Every argument, defaults included, in normal form. Raises GraphdlError for an invalid
        layer."""
        _check(self)
        return self._binding[0]

    @property
    def valid(self) -> bool:
        return not self._binding[1]

    @property
    def input_ports(self) -> tuple[str, ...]:
        return self.catalog_kind.inputs(self.args)

    @property
    def output_ports(self) -> tuple[str, ...]:
        return self.catalog_kind.outputs(self.args)

    def __str__(self) -> str:
        return f"{self.name} = {declaration(self)}"


def declaration(layer: Layer) -> str:
    """The right-hand side of a layer's declaration as `.dlg` text, arguments as written:
    `convolution2d(5, 20, padding="same")`, `fullyConnected(10) shares fc1`."""
    arguments = ", ".join(format_value(value) if name is None else f"{name}={format_value(value)}" for name, value in layer.arguments)
    shares = f" shares {layer.shares}" if layer.shares else ""
    return f"{layer.kind}({arguments}){shares}"


def layer(name: str, kind: str, *args: object, shares: str | None = None, **kwargs: object) -> Layer:
    """A checked layer, built from Python as it would be written in a `.dlg` file:
    `layer("conv1", "convolution2d", 5, 20, padding="same")`; `shares="conv0"` makes it use the
    parameters of layer conv0."""
    problem = name_problem(name)
    if problem:
        raise error("E216", problem, help="rename the layer")
    arguments = tuple((None, as_value(a)) for a in args) + tuple((k, as_value(v)) for k, v in kwargs.items())
    new = Layer(name, kind, arguments, shares)
    _check(new)
    declaration(new)  # a network is kept as its text: a value it cannot write is refused now (E230)
    return new


def _check(layer: Layer) -> None:
    if layer.problems:
        raise GraphdlError(binding_diagnostics(layer))


def binding_diagnostics(layer: Layer) -> list[Diagnostic]:
    """What is wrong with a layer's kind or arguments, pointing into its declaration if any."""
    return [_diagnostic(layer, problem) for problem in layer.problems]


def _diagnostic(layer: Layer, problem: BindingProblem) -> Diagnostic:
    """A binding problem as a diagnostic, pointing into the declaration when there is one."""
    span = layer.span
    call = layer.call
    if call is not None:
        if problem.code == "E201":
            span = call.callee_span
        elif problem.index is not None:
            argument = call.arguments[problem.index]
            span = argument.name_span if problem.on_name and argument.name_span else argument.value.span
    message = problem.message if call else f"layer `{layer.name}`: {problem.message}"
    return Diagnostic(problem.code, message, span, labels=instance_labels(layer), help=problem.help)


def instance_labels(layer: Layer) -> tuple[Label, ...]:
    """Where the block instances a layer belongs to were made: context for a diagnostic about a
    layer written inside a block."""
    return tuple(Label(instance.span, f"in `{instance.name}`") for instance in layer.instances)


@dataclass(frozen=True)
class Connection:
    """An edge: `source/source_port -> destination/destination_port`."""

    source: str
    source_port: str
    destination: str
    destination_port: str
    span: Span | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        return f"{self.source}/{self.source_port} -> {self.destination}/{self.destination_port}"


class LayerGraph:
    """A network of named layers; see the module docstring."""

    def __init__(self, name: str = "network"):
        self.name = name
        self.nx = nx.MultiDiGraph()
        # Where the network was declared, and the text its layers were written in, by path: for
        # diagnostics about them.
        self.span: Span | None = None
        self.sources: dict[str, Source] = {}
        # The values its network parameters were given (`--set classes=10`), to build it again.
        self.parameters: dict[str, object] = {}
        # The network's outputs, where declared (`output prob` in the text); None: the layers
        # whose output feeds nothing.
        self.outputs: tuple[str, ...] | None = None
        # Those of the declared outputs computed only in training (`output aux if training`):
        # an auxiliary head, as Inception-v3's, that evaluation leaves out.
        self.training_outputs: tuple[str, ...] = ()

    # ---- views ------------------------------------------------------------------------------------

    # These views read networkx's own dicts (`_node`, `_succ`, `_pred`, documented in its "graph
    # internals"), not its read-only views: analysis asks them of every layer, and the views cost
    # several times more.

    @property
    def layers(self) -> tuple[Layer, ...]:
        """The layers, in the order they were added."""
        return tuple(data["layer"] for data in self.nx._node.values())

    @property
    def connections(self) -> tuple[Connection, ...]:
        """The connections, grouped by source layer in layer order."""
        return tuple(data["connection"] for successors in self.nx._succ.values() for edges in successors.values() for data in edges.values())

    def __getitem__(self, name: str) -> Layer:
        data = self.nx._node.get(name) if isinstance(name, str) else None
        if data is None:
            raise self._unknown(name)
        return data["layer"]

    def __contains__(self, name: object) -> bool:
        return name in self.nx

    def get(self, name: str) -> Layer | None:
        data = self.nx._node.get(name) if isinstance(name, str) else None
        return data["layer"] if data is not None else None

    def __len__(self) -> int:
        return len(self.nx)

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def incoming(self, name: str) -> tuple[Connection, ...]:
        return tuple(data["connection"] for edges in self.nx._pred[name].values() for data in edges.values())

    def outgoing(self, name: str) -> tuple[Connection, ...]:
        return tuple(data["connection"] for edges in self.nx._succ[name].values() for data in edges.values())

    @property
    def input_names(self) -> tuple[str, ...]:
        """The input layers, as MATLAB's InputNames."""
        return tuple(layer.name for layer in self.layers if layer.valid and layer.catalog_kind.is_input)

    @property
    def output_names(self) -> tuple[str, ...]:
        """The network's outputs, as MATLAB's OutputNames: those declared, else the layers with an
        output that feeds no other layer."""
        if self.outputs is not None:
            return self.outputs
        return tuple(layer.name for layer in self.layers if layer.valid and self.open_outputs(layer.name) and not self.isolated(layer.name))

    def isolated(self, name: str) -> bool:
        """Whether a layer is connected to nothing (in a network of more than one layer): unless
        it is an input layer, it is left out of the network."""
        return len(self.nx) > 1 and not self.nx._pred[name] and not self.nx._succ[name]

    def open_outputs(self, name: str) -> tuple[str, ...]:
        """The output ports of a layer that feed no other layer."""
        ports = self[name].output_ports
        if not self.nx._succ[name]:
            return ports
        used = {c.source_port for c in self.outgoing(name)}
        return tuple(port for port in ports if port not in used)

    @property
    def is_series(self) -> bool:
        """True for a series network (one chain from one input), False for any other DAG."""
        if len(self.nx) == 0 or not nx.is_directed_acyclic_graph(self.nx):
            return False
        starts = [n for n in self.nx if self.nx.in_degree(n) == 0]
        return len(starts) == 1 and all(self.nx.in_degree(n) <= 1 and self.nx.out_degree(n) <= 1 for n in self.nx) and nx.is_weakly_connected(self.nx)

    # ---- editing ----------------------------------------------------------------------------------

    def add_layers(self, *layers: Layer) -> None:
        """Add layers, connecting each to the next in series (as MATLAB's addLayers does); the
        first is not connected to anything already in the graph."""
        names = [new.name for new in layers]
        for name in names:
            if name in self.nx or names.count(name) > 1:
                raise error("E210", f"a layer named `{name}` is already in the graph")
        for new in layers:
            self.nx.add_node(new.name, layer=new)
        self._connect_in_series(layers)

    def remove_layers(self, *names: str) -> None:
        """Remove layers and every connection to or from them."""
        for name in names:
            self[name]
        self.nx.remove_nodes_from(names)

    def replace_layer(self, name: str, *layers: Layer) -> None:
        """Replace one layer by one or more layers in series, keeping its connections: inputs go
        to the first new layer and outputs come from the last, port by port (by name when the
        new layer has the same port, else in order)."""
        old = self[name]
        incoming, outgoing = self.incoming(name), self.outgoing(name)
        first, last = layers[0], layers[-1]
        _check(first)
        _check(last)
        if len(incoming) > len(first.input_ports):
            raise error("E215", f"layer `{name}` has {len(incoming)} connected inputs, but its replacement `{first.name}` has {len(first.input_ports)}")
        clash = [n.name for n in layers if n.name in self.nx and n.name != name]
        if clash:
            raise error("E210", f"a layer named `{clash[0]}` is already in the graph")
        inputs = _reconnect(old.input_ports if old.valid else (), first.input_ports)
        outputs = _reconnect(old.output_ports if old.valid else (), last.output_ports)
        position = [layer.name for layer in self.layers].index(name)
        kept = [layer for layer in self.layers if layer.name != name]
        edges = [c for c in self.connections if name not in (c.source, c.destination)]
        self.nx = nx.MultiDiGraph()
        for node in kept[:position] + list(layers) + kept[position:]:
            self.nx.add_node(node.name, layer=node)
        for c in edges:
            self.add_connection(c)
        self._connect_in_series(layers)
        for c in incoming:
            self.add_connection(Connection(c.source, c.source_port, first.name, inputs[c.destination_port], c.span))
        for c in outgoing:
            self.add_connection(Connection(last.name, outputs[c.source_port], c.destination, c.destination_port, c.span))

    def connect(self, source: str, destination: str) -> None:
        """Connect `source` ("layer" or "layer/port") to `destination` ("layer" or "layer/port");
        a port may be left out where the layer has only one."""
        src, src_port = self._port(source, "output")
        dst, dst_port = self._port(destination, "input")
        if any(c.destination_port == dst_port for c in self.incoming(dst)):
            raise error("E303", f"input `{dst}/{dst_port}` is already connected")
        self.add_connection(Connection(src, src_port, dst, dst_port))

    def disconnect(self, source: str, destination: str) -> None:
        src, src_port = self._port(source, "output")
        dst, dst_port = self._port(destination, "input")
        key = (src_port, dst_port)
        if not self.nx.has_edge(src, dst, key):
            raise error("E226", f"`{source}` is not connected to `{destination}`")
        self.nx.remove_edge(src, dst, key)

    def add_connection(self, connection: Connection) -> None:
        """Add an edge with both ports given, unchecked: for builders (the elaborator) that have
        resolved and checked the ports themselves. Prefer `connect`."""
        for name in (connection.source, connection.destination):
            self[name]
        key = (connection.source_port, connection.destination_port)
        self.nx.add_edge(connection.source, connection.destination, key, connection=connection)

    def copy(self) -> LayerGraph:
        new = LayerGraph(self.name)
        new.nx = self.nx.copy()
        new.span = self.span
        new.sources = dict(self.sources)
        new.parameters = dict(self.parameters)
        new.outputs = self.outputs
        new.training_outputs = self.training_outputs
        return new

    # ---- helpers ----------------------------------------------------------------------------------

    def _connect_in_series(self, layers: tuple[Layer, ...]) -> None:
        """Each layer's output to the next one's first input, as MATLAB's layer arrays connect."""
        for previous, new in itertools.pairwise(layers):
            _check(new)
            if not new.input_ports:
                raise error("E305", f"input layer `{new.name}` must come first: it cannot follow `{previous.name}`")
            self.connect(previous.name, f"{new.name}/{new.input_ports[0]}")

    def _port(self, ref: str, side: str) -> tuple[str, str]:
        name, _, port = ref.partition("/")
        node = self[name]
        _check(node)
        ports = node.output_ports if side == "output" else node.input_ports
        if port:
            if port not in ports:
                raise error("E212", f"layer `{name}` has no {side} port `{port}`; its {side} ports: {', '.join(ports) or 'none'}")
            return name, port
        if len(ports) != 1:
            if not ports:
                raise error("E305" if side == "input" else "E212", f"layer `{name}` has no {side}s")
            options = " or ".join(f"`{name}/{p}`" for p in ports)
            raise error("E213", f"layer `{name}` has several {side}s: specify {options}")
        return name, ports[0]

    def _unknown(self, name: str) -> GraphdlError:
        return error("E211", f"no layer named `{name}` in the graph", help=suggest(name, self.nx))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LayerGraph):
            return NotImplemented
        return (
            self.name == other.name
            and {layer.name: layer for layer in self.layers} == {layer.name: layer for layer in other.layers}
            and set(self.connections) == set(other.connections)
            and self.outputs == other.outputs
            and self.training_outputs == other.training_outputs
        )

    __hash__ = None  # mutable

    def __repr__(self) -> str:
        kind = "series" if self.is_series else "DAG"
        return f"<LayerGraph {self.name}: {len(self)} layers, {len(self.connections)} connections, {kind}>"


def _reconnect(old_ports: tuple[str, ...], new_ports: tuple[str, ...]) -> dict[str, str]:
    """Map each old port to a new one: the same name if the new layer has it, else by position."""
    return {port: port if port in new_ports else new_ports[min(i, len(new_ports) - 1)] for i, port in enumerate(old_ports)}
