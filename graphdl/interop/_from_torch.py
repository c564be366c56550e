"""Import a PyTorch module as a LayerGraph: trace it with torch.fx, then turn each node into the
catalog layer that computes the same thing.

What imports as what is the catalog's: each kind declares importers for the qualified names of the
torch.nn modules, functions and tensor methods that compute it (`LayerKind.importers`). This walk
finds those names in torch, calls the importer of each node it meets, and wires the layers they
make; it owns only what is no layer: the sizes a forward reads (`x.size(0)`, `x.shape[0]`) and
nn.Identity.

Layers keep the module's names (`layer1.0.conv1`), so that its state_dict loads into the compiled
network as it is. The translation is exact or refused: a PyTorch setting that no catalog argument
expresses (padding_mode="reflect", ceil_mode=True, a batch-norm momentum other than MATLAB's 0.1)
is an error naming the node, never a network that computes something else.
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
import linecache
import operator
import os
import pydoc
import re
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
from torch import fx, nn

from graphdl.analysis import analyze
from graphdl.catalog import BATCH, SIZES, LayerSpec, Marker, Refused, TracedTensor, as_value, importers, layer_spec, lookup, refuse_if, show, size_of
from graphdl.diagnostics import GraphdlError, error, reason
from graphdl.graph import Layer, LayerGraph, layer, name_problem

SIZE = "graphdl_size"  # the key of a tensor node's size (from the trial run) in its meta


def from_torch(module: nn.Module, input_size, *, name: str | None = None, input_kind: str | None = None) -> LayerGraph:
    """The LayerGraph of a PyTorch module whose layers are catalog kinds; `graphdl.to_dlg` prints
    it as `.dlg` text, and `graphdl.dlnetwork(graph).load_state_dict(module.state_dict())` loads
    the module's weights, since the layers are named after the module's own names.

    `input_size` is the size of one observation in MATLAB's order, as the input layer takes it:
    `(224, 224, 3)` for images (height, width, channels), `(10,)` for features, `(h, w, d, c)` for
    3-D images, and for a sequence (`input_kind="sequenceInput"`) its channels then a length to
    trace with, `(12, 100)` (the sequence input then takes any length). `input_kind` names the
    input layer's kind when the size alone does not say it. The module's forward takes one input;
    it is traced with torch.fx (torch.nn's modules as leaves) and run once, in inference mode, on
    zeros of that size.

    Raises GraphdlError: E601 naming every node that has no exact catalog equivalent (or why the
    module cannot be traced), and the analysis' diagnostics when the graph does not pass
    `graphdl.analyze`."""
    if not isinstance(module, nn.Module):
        raise error("E229", f"from_torch imports a torch.nn.Module, not {type(module).__name__}")
    graph_name = name or type(module).__name__
    if not graph_name.isidentifier():
        raise error("E601", f"a network's name must be an identifier, not {graph_name!r}", help="pass name=")
    _refuse_aliases(module)
    table = _Table.of_catalog()
    traced = _trace(module, table)
    source = _single_input(traced, module)
    start, example = _input(input_size, input_kind)
    _propagate_shapes(module, traced, example, input_size)
    graph = _Translation(traced, LayerGraph(graph_name), table).run(source, start)
    analysis = analyze(graph)
    if not analysis.ok:
        raise GraphdlError(analysis.diagnostics, graph.sources)
    return graph


# ---- what imports as what --------------------------------------------------------------------------


def _size(input, dim=None) -> Marker:
    size_of(input)
    refuse_if(dim not in (None, 0), f"size({dim}): graphdl uses a size only as the batch size of a flatten, x.view(x.size(0), -1)")
    return SIZES if dim is None else BATCH


def _attribute(obj, name) -> Marker:
    refuse_if(name != "shape", f"attribute `{name}` of {show(obj)}")
    size_of(obj)
    return SIZES


@dataclass(frozen=True)
class _Outputs(Marker):
    """The value of a layer of several outputs (channelSplit for torch.chunk): a tuple, whose
    items (`parts[0]`, or `a, b = parts`) are its ports."""

    layer: str = ""
    ports: tuple[str, ...] = ()


def _item(obj, index) -> Marker | str:
    if isinstance(obj, _Outputs):
        refuse_if(not isinstance(index, int) or not -len(obj.ports) <= index < len(obj.ports), f"{show(obj)}[{index!r}]: it has {len(obj.ports)}")
        return f"{obj.layer}/{obj.ports[index]}"
    refuse_if(obj is not SIZES or index != 0, f"{show(obj)}[{index!r}]: graphdl uses a size only as the batch size of a flatten, x.view(x.shape[0], -1)")
    return BATCH


_METHOD = "torch.Tensor."  # the qualified names of tensor methods, which fx calls by their name


@dataclass(frozen=True)
class _Table:
    """The importers of the catalog's kinds, found in torch by their qualified names: by module
    class, by function, and by the name of a tensor method; with the walk's own, which make no
    layer."""

    modules: Mapping[type, Callable[..., object]]
    functions: Mapping[object, Callable[..., object]]
    methods: Mapping[str, Callable[..., object]]

    @classmethod
    def of_catalog(cls) -> _Table:
        # Read at each import, so that a kind registered since is imported too.
        modules: dict[type, Callable[..., object]] = {nn.Identity: lambda m, x: x}
        functions: dict[object, Callable[..., object]] = {getattr: _attribute, operator.getitem: _item}
        methods: dict[str, Callable[..., object]] = {"size": _size}
        for qualified, (_, importer) in importers().items():
            if qualified.startswith(_METHOD):
                if hasattr(torch.Tensor, qualified[len(_METHOD) :]):
                    methods[qualified[len(_METHOD) :]] = importer
                continue
            # None where this torch has no such thing: no module can call it then.
            target = pydoc.locate(qualified)
            if isinstance(target, type) and issubclass(target, nn.Module):
                modules[target] = importer
            elif callable(target):
                functions[target] = importer
        return cls(modules, functions, methods)

    def supported(self) -> str:
        """What graphdl imports, for a refusal of something it does not."""
        modules = sorted(_torch_name(m) for m in self.modules)
        functions = sorted({label(f) for f in self.functions if f not in (getattr, operator.getitem)})
        methods = sorted(f"x.{name}()" for name in self.methods if name != "size")
        return (
            f"graphdl imports the PyTorch modules {', '.join(modules)}; the functions {', '.join(functions)}; "
            f"the methods {', '.join(methods)}"
        )


def label(target) -> str:
    """A function as PyTorch code writes it: `F.relu`, `torch.cat`, `+`."""
    special = {operator.add: "+", operator.sub: "-", operator.neg: "-x", operator.mul: "*", getattr: "x.shape", operator.getitem: "x.shape[0]"}
    with contextlib.suppress(TypeError):
        if target in special:
            return special[target]
    module = getattr(target, "__module__", None) or ""
    module = {"torch.nn.functional": "F", "torch._C._nn": "F", "_operator": "operator"}.get(module, module)
    name = getattr(target, "__name__", repr(target))
    return f"{module}.{name}" if module else name


# ---- the walk -----------------------------------------------------------------------------------------


_BROKEN = Marker("a value that could not be imported")


class _Names:
    """Names for layers that have no module path of their own: the first free one of the
    candidates that can name a layer, numbered `_1`, `_2` as MATLAB numbers unnamed layers."""

    def __init__(self, taken: set[str]):
        self.taken = set(taken)

    def fresh(self, *candidates: str) -> str:
        base = next(c for c in candidates if name_problem(c) is None)
        name, number = base, 0
        while name in self.taken:
            number += 1
            name = f"{base}_{number}"
        self.taken.add(name)
        return name


class _Translation:
    """The walk over a traced graph, in its order: each node's value (the name of the layer that
    computes a tensor, or a marker), the layers added on the way, and every refusal, so that one
    run names every node that cannot be imported."""

    def __init__(self, traced: fx.GraphModule, graph: LayerGraph, table: _Table):
        self.traced = traced
        self.graph = graph
        self.table = table
        self.modules = dict(traced.named_modules())
        # Module paths are reserved: a layer that has no module must not take a module's name.
        self.names = _Names(set(self.modules) - {""})
        self.owners: dict[str, str] = {}  # module path -> the layer made at its first call
        self.values: dict[fx.Node, object] = {}
        self.tensors: dict[fx.Node, TracedTensor] = {}
        self.problems: list[str] = []
        self.unknown = False  # whether a refusal is of an operation graphdl does not import at all

    def run(self, source: fx.Node, start: LayerSpec) -> LayerGraph:
        self.values[source] = self._add(start, self.names.fresh("input"))
        outputs: tuple[str, ...] = ()
        for node in self.traced.graph.nodes:
            if node.op == "output":
                outputs = self._outputs(node)
            elif node.op != "placeholder":
                self.values[node] = self._value(node)
        if self.problems:
            # The list of what graphdl imports, where something was not on it.
            raise error(
                "E601", f"cannot import {self.graph.name}", notes=tuple(self.problems), help=self.table.supported() if self.unknown else None
            )
        if outputs != self.graph.output_names:
            self.graph.outputs = outputs
        return self.graph

    def _value(self, node: fx.Node) -> object:
        broken = any(self.values[n] is _BROKEN for n in node.all_input_nodes)
        # After a refusal upstream, a module's own settings are still checked (its input's size is
        # known from the trial run); anything else would only repeat the refusal.
        if broken and not (node.op == "call_module" and self._tensor(node.args[0] if node.args else None)):
            return _BROKEN
        try:
            made = self._convert(node)
            return _BROKEN if broken else self._realize(node, made)
        except Refused as refusal:
            self.problems.append(f"{_where(node, self.modules)}: {refusal}")
            return _BROKEN

    def _tensor(self, node: object) -> TracedTensor | None:
        """A tensor node as importers see it; None for anything else."""
        if not isinstance(node, fx.Node) or SIZE not in node.meta:
            return None
        if node not in self.tensors:
            self.tensors[node] = TracedTensor(node.name, node.meta[SIZE], node)
        return self.tensors[node]

    def _realize(self, node: fx.Node, made: object) -> object:
        """A node's value: the layer made for it, added to the graph, or what it passes on."""
        if isinstance(made, TracedTensor):
            return self.values[made.node]  # passed through, as by nn.Identity
        if not isinstance(made, LayerSpec):
            return made
        for value in made.inputs:
            refuse_if(not isinstance(value, TracedTensor), f"graphdl's {made.kind} takes tensors the network computes, not {show(value)}")
        name, shares = self._name(node, made)
        try:
            added = self._add(made, name, shares)
        except GraphdlError as e:
            raise Refused("; ".join(d.message for d in e.diagnostics)) from None
        ports = self.graph[added].output_ports
        return added if len(ports) == 1 else _Outputs(f"the outputs of `{added}`", added, ports)

    def _convert(self, node: fx.Node) -> object:
        if node.op == "call_module":
            return self._module(node)
        refuse_if(node.op == "get_attr", "uses a tensor of the module as a value; graphdl's layers hold their own parameters")
        table = self.table.functions if node.op == "call_function" else self.table.methods
        convert = table.get(node.target) if _hashable(node.target) else None
        self.unknown |= convert is None
        refuse_if(convert is None, f"{_what(node)} is not one of the PyTorch functions graphdl imports")
        args, kwargs = fx.node.map_arg((node.args, node.kwargs), self._argument)
        try:
            bound = inspect.signature(convert).bind(*args, **kwargs)
        except TypeError as e:
            raise Refused(f"arguments graphdl does not import: {e}") from None
        if bound.arguments.get("inplace"):
            _refuse_shared_in_place(node)
        return convert(*args, **kwargs)

    def _argument(self, node: fx.Node) -> object:
        """A tensor becomes what importers see of it; a size, its marker."""
        value = self.values[node]
        return self._tensor(node) if isinstance(value, str) else value

    def _module(self, node: fx.Node) -> object:
        module = self.modules[node.target]
        convert = self.table.modules.get(type(module))
        self.unknown |= convert is None
        refuse_if(convert is None, f"{_torch_name(type(module))} is not one of the PyTorch layers graphdl imports")
        refuse_if(len(node.args) != 1 or bool(node.kwargs), "called with more than one argument")
        x = self._tensor(node.args[0])
        refuse_if(x is None, f"expects a tensor, but gets {show(node.args[0])}")
        if getattr(module, "inplace", False):
            _refuse_shared_in_place(node)
        return convert(module, x)

    def _name(self, node: fx.Node, made: LayerSpec) -> tuple[str, str | None]:
        """The layer's name, and the layer whose parameters it shares, if any."""
        if node.op == "call_module":
            return self._module_name(node)
        base = re.sub(r"_\d+$", "", node.name)  # fx numbers its node names as it goes
        scope = _scope(node)
        return self.names.fresh(f"{scope}.{base}" if scope else base, base, lookup(made.kind).base_name), None

    def _module_name(self, node: fx.Node) -> tuple[str, str | None]:
        """A module's path; a module called again makes another layer, which shares the first
        one's parameters and state (a module without any needs not)."""
        target = node.target
        owner = self.owners.get(target)
        if owner is None:
            problem = name_problem(target)
            refuse_if(problem is not None, f"{problem}; the layer must keep the module's name, so that its state_dict loads{_naming_help(target)}")
            self.owners[target] = target
            return target, None
        module = self.modules[target]
        has_state = any(True for _ in itertools.chain(module.parameters(), module.buffers()))
        return self.names.fresh(target), owner if has_state else None

    def _add(self, spec: LayerSpec, name: str, shares: str | None = None) -> str:
        new = _layer(spec, name, shares)
        self.graph.add_layers(new)
        for tensor, port in zip(spec.inputs, new.input_ports):
            self.graph.connect(self.values[tensor.node], f"{name}/{port}")
        return name

    def _outputs(self, node: fx.Node) -> tuple[str, ...]:
        result = node.args[0]
        names = []
        for item in result if isinstance(result, (tuple, list)) else (result,):
            value = self.values.get(item) if isinstance(item, fx.Node) else item
            if value is _BROKEN:
                continue
            if isinstance(value, str) and value in names:
                self.problems.append(f"the forward returns `{value}` twice: a graphdl network's outputs are distinct layers")
            elif isinstance(value, str) and "/" in value:
                # A network's outputs are layers: all of a layer's ports, or the one it has.
                self.problems.append(f"the forward returns `{item.name}`, one output of `{value.split('/')[0]}`: a graphdl network returns layers")
            elif isinstance(value, str):
                names.append(value)
            else:
                shown = f"`{item.name}`" if isinstance(item, fx.Node) else show(item)
                self.problems.append(f"the forward returns {shown}: a graphdl network returns tensors (one, or a tuple of them)")
        return tuple(names)


def _layer(spec: LayerSpec, name: str, shares: str | None = None) -> Layer:
    return layer(name, spec.kind, *spec.args, shares=shares, **spec.kwargs)


def _refuse_shared_in_place(node: fx.Node) -> None:
    """An in-place operation is the same as graphdl's layer, which makes a new tensor, unless
    something else also uses the tensor it overwrites."""
    x = node.args[0] if node.args else None
    others = [user.name for user in getattr(x, "users", ()) if user is not node]
    refuse_if(
        bool(others),
        f"works in place (inplace=True) on `{getattr(x, 'name', x)}`, which {', '.join(f'`{o}`' for o in others)} also "
        f"{'uses' if len(others) == 1 else 'use'}"
        "; graphdl's layers never change their input, so the import would compute something else: set inplace=False",
    )


def _hashable(target: object) -> bool:
    try:
        hash(target)
    except TypeError:
        return False
    return True


def _naming_help(target: str) -> str:
    if not target.split(".")[0].isdigit():
        return ""
    return (
        " (a numbered child of a top-level nn.Sequential: name its children, nn.Sequential(OrderedDict(fc1=..., relu1=...)), "
        "or make the Sequential an attribute of a module, so that they are `layers.0`, `layers.1`)"
    )


def _scope(node: fx.Node) -> str:
    """The path of the module whose forward made a node ("" for the top level)."""
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return ""
    path, value = next(reversed(stack.items()))
    return value[0] if isinstance(value, tuple) else path


def _torch_name(cls: type) -> str:
    return f"nn.{cls.__name__}" if cls.__module__.startswith("torch.nn") else cls.__qualname__


def _what(node: fx.Node) -> str:
    return f"x.{node.target}()" if node.op == "call_method" else label(node.target)


def _where(node: fx.Node, modules: Mapping[str, nn.Module]) -> str:
    """A node as a refusal names it: the module or function, where it is called, the fx node."""
    if node.op == "call_module":
        what = f"module `{node.target}` ({_torch_name(type(modules[node.target]))})"
    elif node.op == "get_attr":
        what = f"attribute `{node.target}`"
    else:
        what = f"`{_what(node)}` in `{_scope(node) or 'forward'}`"
    return f"{what}, node `{node.name}`{_line(node.stack_trace or '')}"


_TORCH_DIR = os.path.dirname(torch.__file__) + os.sep


def _line(stack_trace: str) -> str:
    """Where in the user's code a node was made: the innermost frame outside torch of the stack
    fx recorded while tracing (outermost first)."""
    frames = [(path, line) for path, line in re.findall(r'File "([^"]+)", line (\d+)', stack_trace) if not path.startswith(_TORCH_DIR)]
    if not frames:
        return ""
    path, line = frames[-1]
    code = linecache.getline(path, int(line)).strip()
    return f" at {os.path.basename(path)}:{line}" + (f" (`{code}`)" if code else "")


# ---- tracing ---------------------------------------------------------------------------------------------


class _Tracer(fx.Tracer):
    """fx's tracer, which keeps torch.nn's modules whole, keeping whole too the modules of a
    plugin's own that a kind imports."""

    def __init__(self, table: _Table):
        super().__init__()
        self.table = table

    def is_leaf_module(self, m: nn.Module, qualified_name: str) -> bool:
        return type(m) in self.table.modules or super().is_leaf_module(m, qualified_name)


def _trace(module: nn.Module, table: _Table) -> fx.GraphModule:
    tracer = _Tracer(table)
    tracer.record_stack_traces = True  # so that a refusal can point at its line of the forward
    try:
        graph = tracer.trace(module)
    except Exception as e:  # whatever fx raises, the user needs the line of their forward, not fx's traceback
        raise _untraceable(module, e) from None
    return fx.GraphModule(tracer.root, graph, type(module).__name__)


def _untraceable(module: nn.Module, e: Exception) -> GraphdlError:
    frames = [f for f in traceback.extract_tb(e.__traceback__) if not f.filename.startswith(_TORCH_DIR) and f.filename != __file__]
    where = f" at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno} (`{frames[-1].line}`)" if frames else ""
    return error(
        "E601",
        f"torch.fx cannot trace {type(module).__name__}.forward{where}: {reason(e)}",
        help="from_torch imports a forward that runs the same operations whatever its input: Python control flow on tensor values "
        "(`if x.sum() > 0:`, a loop over a tensor) cannot become a graph of layers",
    )


def _refuse_aliases(module: nn.Module) -> None:
    """A module registered under two names is one layer, but its state_dict holds it under
    both: the network's could not load it as it is, which is the point of keeping the names."""
    paths: dict[int, list[str]] = {}
    for path, child in module.named_modules(remove_duplicate=False):
        if path:
            paths.setdefault(id(child), []).append(path)
    aliased = [names for names in paths.values() if len(names) > 1]
    if aliased:
        names = ", ".join(f"`{name}`" for name in aliased[0])
        raise error(
            "E601",
            f"cannot import {type(module).__name__}: one module is registered under several names ({names}), so its state_dict holds its weights twice",
            help="register it once and call it where it is needed (a module called twice shares its weights)",
        )


def _single_input(traced: fx.GraphModule, module: nn.Module) -> fx.Node:
    inputs = [node for node in traced.graph.nodes if node.op == "placeholder"]
    if len(inputs) != 1:
        names = ", ".join(str(node.target) for node in inputs)
        raise error("E601", f"{type(module).__name__}.forward takes {len(inputs)} inputs ({names}); from_torch imports a module of one input")
    return inputs[0]


_INPUT_KINDS = ("imageInput", "featureInput", "image3dInput", "sequenceInput")
_KIND_BY_SIZE = {1: "featureInput", 2: "imageInput", 3: "imageInput", 4: "image3dInput"}


def _input(input_size, input_kind: str | None) -> tuple[LayerSpec, tuple[int, ...]]:
    """The input layer, and the size of the tensor of one observation to trace with."""
    size = tuple(as_value(input_size)) if isinstance(input_size, (tuple, list)) else (as_value(input_size),)
    kind = input_kind or _KIND_BY_SIZE.get(len(size))
    if kind not in _INPUT_KINDS:
        raise error("E601", f"input_kind must be one of {', '.join(_INPUT_KINDS)}, not {kind!r}, for input_size {input_size!r}")
    length = None
    if kind == "featureInput":
        if len(size) != 1:
            raise error("E601", f"a featureInput's input_size is (features,), not {input_size!r}")
        spec = layer_spec(kind, numFeatures=size[0])
    elif kind == "sequenceInput":
        *step, length = size
        if not step or not isinstance(length, int) or length < 1:
            raise error(
                "E601",
                f"a sequence's input_size is its channels (or its images' height, width, channels) then a length to trace with, (12, 100), not {input_size!r}",
            )
        spec = layer_spec(kind, inputSize=step[0] if len(step) == 1 else step)
    else:
        # The module normalises nothing at its input; an image input would subtract a mean.
        spec = layer_spec(kind, inputSize=list(size), normalization="none")
    checked = _layer(spec, "input")
    return spec, checked.catalog_kind.shape(checked.args).torch_size(1, length)


class _TrialRun(fx.Interpreter):
    """Runs a traced module, recording the size of each tensor node (the importers' only view
    of the data) and the node that was running when something failed."""

    current: fx.Node | None = None

    def run_node(self, node: fx.Node) -> object:
        self.current = node
        result = super().run_node(node)
        if isinstance(result, torch.Tensor):
            node.meta[SIZE] = tuple(result.shape)
        return result


def _propagate_shapes(module: nn.Module, traced: fx.GraphModule, size: tuple[int, ...], input_size) -> None:
    """Run the traced module once on zeros of one observation's size, in inference mode."""
    reference = next(itertools.chain(module.parameters(), module.buffers()), None)
    floating = reference is not None and reference.is_floating_point()
    example = torch.zeros(size, dtype=reference.dtype if floating else torch.get_default_dtype(), device=reference.device if reference is not None else None)
    trial = _TrialRun(traced)
    with _inference(module):
        try:
            trial.run(example)
        except Exception as e:  # the module's own failure, on the size the caller gave
            raise error(
                "E601",
                f"{type(module).__name__} fails on one observation of size {input_size!r} (a tensor of size {tuple(size)}), "
                f"at {_where(trial.current, dict(traced.named_modules()))}: {reason(e)}",
            ) from None


@contextlib.contextmanager
def _inference(module: nn.Module):
    """Inference mode and no gradients for the trial run, which must leave the module as it was: in
    training mode it would update batch-norm statistics."""
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        for m, training in modes:
            m.training = training
