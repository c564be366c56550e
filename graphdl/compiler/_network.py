"""DLNetwork: a compiled network, a real torch.nn.Module with MATLAB's view on top.

Its children are the layers' modules, named as the layers are, so `state_dict()` keys read
`conv1.weight`. Each network has a class of its own, `DLNetwork_<name>`, whose `forward` is the
generated code (`net.code` shows it), defined on the class as a hand-written module's is, so
that DataParallel, torch.fx, torch.compile, copy and pickle treat it as one. On top, MATLAB's
dlnetwork view: `learnables` and `state` tables, `input_names`, `output_names`, `forward` and
`predict` that can return any named layer's output, and `graph`, the LayerGraph it came from.

`forward` follows the module's mode, as every torch module does: a new network is in training
mode, so `net.forward(X)` behaves as MATLAB's `forward(net, X)`; `predict` always behaves as in
inference (dropout off, batch normalisation with its running statistics), as MATLAB's `predict`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import torch
from torch import fx, nn

from graphdl.analysis import Analysis, analyze
from graphdl.compiler._codegen import GeneratedForward, build_modules, generate_entry, generate_forward, seeded
from graphdl.compiler._layer_error import layer_error
from graphdl.compiler._table import Table
from graphdl.compiler._weights import weight_problems, weights_error
from graphdl.diagnostics import Diagnostic, GraphdlError, counted, error, suggest
from graphdl.graph import Layer, LayerGraph


class DLNetwork(nn.Module):
    """A compiled network. Call it as any module, `net(x)`, or as MATLAB does,
    `net.forward(*inputs, outputs=None)`: the network's outputs (one tensor, or a tuple for
    several), or, with `outputs`, those layers' outputs in that order. Behaviour follows the
    module's mode (training by default). `forward` is generated for each network (`net.code`)
    and defined on the network's own subclass, made by `network_class`."""

    # Set on each network's class by `network_class`: the generated forward, and the forwards of
    # named outputs, made on request.
    _main: GeneratedForward
    _variants: dict[tuple[str, ...], GeneratedForward]

    def __new__(cls, graph: LayerGraph | None = None, analysis: Analysis | None = None, modules: dict[str, nn.Module] | None = None):
        # `DLNetwork(graph, analysis, modules)` makes an instance of the network's own class, as
        # `dlnetwork` does: DLNetwork itself has no forward. A network's class is made bare, with
        # no arguments, by DataParallel's replicas and by pickle.
        if cls is DLNetwork:
            if analysis is None or modules is None:
                raise TypeError("DLNetwork(graph, analysis, modules) needs all three; graphdl.dlnetwork(graph) compiles a graph")
            cls = network_class(analysis, frozenset(modules))
        return super().__new__(cls)

    def __init__(self, graph: LayerGraph, analysis: Analysis, modules: dict[str, nn.Module]):
        super().__init__()
        for name, module in modules.items():
            self._attach(name, module, graph)
        # Kept off the module tree: they are views of this network, not parts of it.
        object.__setattr__(self, "graph", graph)
        object.__setattr__(self, "analysis", analysis)
        object.__setattr__(self, "_owners", frozenset(modules))
        factors = {
            (layer, parameter): analysis[layer].layer.catalog_kind.learnable_factors(analysis[layer].layer.args, parameter)
            for layer, parameter, _ in self.learnables
        }
        object.__setattr__(self, "_learn_rate_factors", {row: learn_rate for row, (learn_rate, _) in factors.items()})
        object.__setattr__(self, "_l2_factors", {row: l2 for row, (_, l2) in factors.items()})

    # ---- running ----------------------------------------------------------------------------------

    def _forward_outputs(self, outputs: Sequence[str], *inputs: torch.Tensor):
        if isinstance(outputs, fx.Proxy):
            # torch.fx.symbolic_trace makes every parameter of `forward` a placeholder, `outputs`
            # too (its default, None): the trace is of the network's outputs, taking its inputs
            # alone, as a hand-written forward's would.
            outputs.node.graph.erase_node(outputs.node)
            return self.forward(*inputs)
        generated = self._variant(outputs)
        try:
            return generated.function(self, *inputs)
        except Exception as e:
            return self._forward_failed(e, inputs, outputs, generated)

    def _forward_failed(self, failure: Exception, inputs: tuple, outputs=None, generated: GeneratedForward | None = None):
        """The generated forward's `except`. Arrays (which `predict` takes) are refused by the
        first operation on them, so when no input is a tensor no layer has run yet: the call is
        made again with them as tensors. Converting only here keeps a call on tensors free of
        any conversion work. The generated code sets an input to None once it is used, so a
        tensor input or a None means some layers may have run (and batch normalisation updated
        its statistics) before an array was reached: such a mix is refused rather than run twice."""
        arrays = [x is not None and not isinstance(x, torch.Tensor) for x in inputs]
        if inputs and all(arrays):
            tensors = [self._tensor(x) for x in inputs]
            self._check_inputs(tensors)
            return self.forward(*tensors, outputs=outputs)
        if any(arrays):
            raise error(
                "E801",
                f"network `{self.graph.name}`: forward takes its inputs all as tensors or all as arrays, not a mix "
                "(layers on the tensors may have run already)",
                help="convert the arrays with torch.as_tensor, or use predict, which takes any mix",
            ) from failure
        self._raise_layer_error(failure, generated)

    def _raise_layer_error(self, error: Exception, generated: GeneratedForward | None = None):
        located = layer_error(error, generated or self._main, self.analysis)
        if located is None:
            raise error
        raise located from error

    def predict(self, *inputs, outputs: Sequence[str] | None = None):
        """Like `forward`, in inference behaviour whatever the mode and without gradient tracking;
        accepts arrays as well as tensors, and checks that they fit the input layers."""
        tensors = [self._tensor(x) for x in inputs]
        self._check_inputs(tensors)
        # no_grad rather than inference_mode: the outputs are ordinary tensors that a user may
        # feed on into autograd (inference tensors cannot be saved for backward), and nothing is
        # tracked, so they hold no graph and no learnable's memory.
        with self.inference(), torch.no_grad():
            return self.forward(*tensors, outputs=outputs)

    @contextlib.contextmanager
    def inference(self):
        """Inference behaviour inside the block (as `eval()`), then each module's mode as it was."""
        modes = [(module, module.training) for module in self.modules()]
        self.eval()
        try:
            yield self
        finally:
            for module, training in modes:
                module.training = training

    @property
    def code(self) -> str:
        """The generated Python source of `forward`."""
        return self._main.code

    # ---- the MATLAB view ----------------------------------------------------------------------------

    @property
    def input_names(self) -> tuple[str, ...]:
        return self.graph.input_names

    @property
    def output_names(self) -> tuple[str, ...]:
        return self.graph.output_names

    @property
    def layer_names(self) -> tuple[str, ...]:
        return self.analysis.order

    @property
    def layer_modules(self) -> dict[str, nn.Module]:
        """The modules of the layers that own one, by layer name, in execution order: a layer
        that shares uses its owner's, and one that computes inline (an addition) has none."""
        return {name: self.get_submodule(name) for name in self.analysis.order if name in self._owners}

    @property
    def learnables(self) -> Table:
        """Every learnable parameter, as a live (layer, parameter, value) table."""
        return Table(self._rows(lambda module: module.named_parameters()), live=True)

    @learnables.setter
    def learnables(self, table: Table) -> None:
        self.learnables.copy_from(table)

    @property
    def state(self) -> Table:
        """Every state tensor (batch-normalisation statistics, input normalisation), as a live
        (layer, parameter, value) table."""
        return Table(self._rows(lambda module: module.named_buffers()), live=True)

    @state.setter
    def state(self, table: Table) -> None:
        self.state.copy_from(table)

    @property
    def device(self) -> torch.device:
        tensor = next(self.parameters(), None)
        if tensor is None:
            tensor = next(self.buffers(), torch.empty(0))
        return tensor.device

    @torch.no_grad()
    def reset_input_normalization(self, *data) -> None:
        """Compute the input layers' normalisation statistics from training data (one array or
        tensor per input, batch first), as trainnet does before training (MATLAB's
        ResetInputNormalization)."""
        tensors = [self._tensor(x) for x in data]
        self._check_inputs(tensors)
        for name, x in zip(self.input_names, tensors):
            module = getattr(self, name, None)
            if module is not None:
                module.fit(x)

    @torch.no_grad()
    def reset_input_normalization_from(self, batches) -> None:
        """reset_input_normalization over data read a mini-batch at a time, as MATLAB computes
        the statistics from a datastore: `batches` is an iterable of tuples of tensors, one per
        input, gone through once, and only when an input layer normalises."""
        fits = {name: module.streaming_fit() for name in self.input_names if (module := getattr(self, name, None)) is not None}
        if not fits:
            return
        for batch in batches:
            for name, x in zip(self.input_names, batch):
                if name in fits:
                    fits[name].add(x)
        for fit in fits.values():
            fit.finish()

    # ---- learn-rate and L2 factors, freezing, initialising -----------------------------------------

    def learn_rate_factor(self, layer: str, parameter: str) -> float:
        """The multiplier of the learn rate of one learnable (MATLAB's getLearnRateFactor):
        from the layer's arguments (`weightLearnRateFactor`), 1 by default."""
        return self._learn_rate_factors[self._row(layer, parameter)]

    def set_learn_rate_factor(self, layer: str, parameter: str | None, factor: float) -> None:
        """Set the learn-rate multiplier of a learnable (MATLAB's setLearnRateFactor); 0 keeps it
        as it is. `layer` may name a block instance (all its layers); `parameter` a torch name
        (`weight`), a group of the kind's (`bias`, `scale`), or None for all of them."""
        for row in self._rows_of(layer, parameter):
            self._learn_rate_factors[row] = _factor(factor)

    def l2_factor(self, layer: str, parameter: str) -> float:
        """The multiplier of the L2 regularisation of one learnable (MATLAB's getL2Factor)."""
        return self._l2_factors[self._row(layer, parameter)]

    def set_l2_factor(self, layer: str, parameter: str | None, factor: float) -> None:
        """Set the L2 multiplier of learnables, chosen as `set_learn_rate_factor` chooses them."""
        for row in self._rows_of(layer, parameter):
            self._l2_factors[row] = _factor(factor)

    def freeze(self, *layers: str) -> None:
        """Keep the learnables of these layers (or block instances) as they are while training:
        learn-rate factor 0, and no gradient computed for them."""
        for name in layers:
            for row in self._rows_of(name, None):
                self._learn_rate_factors[row] = 0.0
                self.learnables[row].requires_grad_(False)

    def unfreeze(self, *layers: str) -> None:
        """Train these layers again: learn-rate factor 1, gradients computed."""
        for name in layers:
            for row in self._rows_of(name, None):
                self._learn_rate_factors[row] = 1.0
                self.learnables[row].requires_grad_(True)

    def param_groups(self, learn_rate: float, l2_regularization: float = 0.0) -> list[dict]:
        """torch.optim parameter groups that carry the learn-rate and L2 factors, so that any
        torch optimizer honours them: one group per (learn-rate factor, L2 factor) pair, with
        `lr` = learn_rate x factor and `weight_decay` = l2_regularization x L2 factor, and the
        factors themselves under `learn_rate_factor` and `l2_factor`. Learnables of learn-rate
        factor 0 (frozen) are left out, so the optimizer neither moves nor decays them.

        `weight_decay` is MATLAB's L2 regularisation (added to the gradient) for SGD, Adam and
        RMSprop; AdamW decouples it (the value shrinks by lr x weight_decay apart from the
        gradient), which is not MATLAB's L2. torch's schedulers scale each group's own `lr`, so
        they keep the ratios; one that takes a peak learn rate (OneCycleLR's `max_lr`) keeps them
        when given one per group: `[peak * g["learn_rate_factor"] for g in groups]`."""
        groups: dict[tuple[float, float], list[nn.Parameter]] = {}
        for layer, parameter, value in self.learnables:
            factor = self._learn_rate_factors[(layer, parameter)]
            if factor:
                groups.setdefault((factor, self._l2_factors[(layer, parameter)]), []).append(value)
        return [
            {"params": params, "lr": learn_rate * factor, "weight_decay": l2_regularization * l2, "learn_rate_factor": factor, "l2_factor": l2}
            for (factor, l2), params in groups.items()
        ]

    @torch.no_grad()
    def replace_layer(self, name: str, *layers: Layer, seed: int | None = None) -> DLNetwork:
        """MATLAB's `net = replaceLayer(net, name, layers)` on a dlnetwork: a new network whose graph
        has layer `name` replaced by `layers` in series (as `LayerGraph.replace_layer`). The new
        layers are initialised (reproducibly with `seed`); every other layer keeps its learnables,
        state, and learn-rate and L2 factors, frozen ones frozen: a trained network with a new head,
        for transfer learning. This network is left as it was."""
        graph = self.graph.copy()
        graph.replace_layer(name, *layers)
        net = dlnetwork(graph, seed=seed).to(self.device)
        new = {layer.name for layer in layers}
        for kept, table in ((self.learnables, net.learnables), (self.state, net.state)):
            for layer, parameter, value in kept:
                if layer not in new and (layer, parameter) in table:
                    table[layer, parameter] = value
        kept, table = self.learnables, net.learnables  # each a table built afresh: once, not per row
        for row in net._learn_rate_factors.keys() & self._learn_rate_factors.keys():
            if row[0] not in new:
                net._learn_rate_factors[row] = self._learn_rate_factors[row]
                net._l2_factors[row] = self._l2_factors[row]
                table[row].requires_grad_(kept[row].requires_grad)
        return net

    @torch.no_grad()
    def initialize(self, *layers: str, seed: int | None = None) -> None:
        """Initialise the learnables and state of these layers (or block instances; all, when none
        is named) again, with each layer's initialisers (MATLAB's `glorot`, `he`, ...), as a new
        network has them; `seed` makes it reproducible without touching torch's random state."""
        owners = {owner for name in layers for owner, _ in self._rows_of(name, None, learnables_only=False)} if layers else self._owners
        with seeded(seed):
            for name in sorted(owners, key=self.analysis.order.index):
                info = self.analysis[name]
                fresh = info.layer.catalog_kind.build(info.layer.args, info.inputs)
                self.get_submodule(name).load_state_dict(fresh.state_dict())

    def _row(self, layer: str, parameter: str) -> tuple[str, str]:
        if (layer, parameter) in self._learn_rate_factors:  # a learnable's own row: the update rules ask every step
            return layer, parameter
        rows = self._rows_of(layer, parameter)
        if len(rows) != 1:
            raise error("E228", f"`{layer}/{parameter}` names {len(rows)} learnables: name one of {', '.join(f'{name}/{p}' for name, p in rows)}")
        return rows[0]

    def _rows_of(self, layer: str, parameter: str | None, *, learnables_only: bool = True) -> list[tuple[str, str]]:
        """The (owner, parameter) rows a layer or block instance and a parameter choose."""
        names = [name for name in self.analysis.order if name == layer or name.startswith(layer + ".")]
        if not names:
            raise error("E211", f"no layer or block instance named `{layer}` in network `{self.graph.name}`", help=suggest(layer, self.analysis.layers))
        owners = [self.graph[name].shares or name for name in names]
        tensors = self._rows(lambda module: module.named_parameters() if learnables_only else module.state_dict().items())
        rows = [
            (owner, name)
            for owner, name, _ in tensors
            if owner in owners and (parameter is None or parameter == name or name in self._group(owner, parameter))
        ]
        if not rows and parameter is not None:
            known = sorted({p for o, p in self._rows_of(layer, None)} | set(self.graph[owners[0]].catalog_kind.factors))
            raise error("E227", f"`{layer}` has no learnable `{parameter}`", help=suggest(parameter, known) or f"its learnables: {', '.join(known)}")
        if not rows and learnables_only:
            raise error("E227", f"`{layer}` has no learnables")
        return rows

    def _group(self, owner: str, group: str) -> tuple[str, ...]:
        factors = self.graph[owner].catalog_kind.factors.get(group)
        return factors.parameters if factors else ()

    # ---- helpers ----------------------------------------------------------------------------------

    def _attach(self, name: str, module: nn.Module, graph: LayerGraph) -> None:
        """Register a layer's module at its path (`stage2.0.conv1`), making the plain modules
        that hold the parts of a block instance as needed."""
        parts = name.split(".")
        holder: nn.Module = self
        for depth, part in enumerate(parts, 1):
            if hasattr(holder, part) and part not in holder._modules:
                # A name that graph's NETWORK_ATTRIBUTES does not know, with another version of torch.
                problem = Diagnostic("E216", f"`{part}` cannot name a layer: the compiled network has an attribute `{part}`", graph[name].name_span)
                raise GraphdlError([problem], graph.sources)
            if depth == len(parts):
                holder.add_module(part, module)
            else:
                if part not in holder._modules:
                    holder.add_module(part, nn.Module())
                holder = holder._modules[part]

    def _rows(self, named):
        for name in self.analysis.order:
            if name not in self._owners:
                continue
            # Down the `_modules` dictionaries: get_submodule's attribute lookups cost most of a
            # read of `learnables` (twice per step of a custom loop).
            module = self
            for part in name.split("."):
                module = module._modules[part]
            for parameter, value in named(module):
                yield name, parameter, value

    def _variant(self, outputs: Sequence[str]) -> GeneratedForward:
        key = tuple([outputs] if isinstance(outputs, str) else outputs)
        if key not in self._variants:
            for name in key:
                if not isinstance(name, str):
                    raise error("E229", f"outputs names layers: {name!r} is not a layer name, a string")
            unknown = [name for name in key if name not in self.analysis.layers]
            if unknown:
                raise error("E211", f"no layer named `{unknown[0]}` in network `{self.graph.name}`", help=suggest(unknown[0], self.analysis.layers))
            self._variants[key] = generate_forward(self.analysis, self._owners, key)
        return self._variants[key]

    def _check_inputs(self, tensors: list[torch.Tensor]) -> None:
        names = self.input_names
        if len(tensors) != len(names):
            raise error("E801", f"network `{self.graph.name}` takes {counted(len(names), 'input')} ({', '.join(names)}), not {len(tensors)}")
        for name, x in zip(names, tensors):
            shape = self.analysis[name].output
            length = x.shape[-1] if shape.is_sequence and shape.length is None and x.dim() > 1 else None
            if tuple(x.shape[1:]) != shape.torch_size(1, length)[1:]:
                raise error(
                    "E801",
                    f"the input layer `{name}` takes {shape} observations, tensors of size {shape.torch_text()}, "
                    f"but was given one of size {tuple(x.shape)}"
                )

    def _tensor(self, x) -> torch.Tensor:
        if isinstance(x, torch.Tensor):
            return x
        return torch.as_tensor(x, dtype=torch.get_default_dtype(), device=self.device)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False, *, origin: str = "the state_dict"):
        """torch's load_state_dict, made whole or nothing: every tensor is checked against the
        network first, so weights that do not fit raise GraphdlError (E502), listing what does
        not fit, and leave the network as it was (torch's own would copy the tensors that fit)."""
        problems = weight_problems(self, state_dict, strict=strict)
        if problems:
            raise weights_error(self, problems, origin)
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    def __reduce_ex__(self, protocol):
        # The class is made at run time, so pickle cannot find it by name: unpickling (and
        # copy.deepcopy) makes it again from the analysis, then restores the instance's attributes,
        # modules and tensors as for any module.
        return _instance, (self.analysis, self._owners), self.__dict__

    def __prepare_scriptable__(self):
        # torch.jit.script calls this first: a clear refusal rather than TorchScript's error about
        # the first construct of the generated code it cannot compile.
        raise error(
            "E702",
            f"cannot script network `{self.graph.name}`: TorchScript compiles a subset of Python that the generated forward "
            "(its `try`, its `outputs=` handover) and the layers' modules are not written in",
            help="export it with graphdl.export_torchscript (traced, then checked), or to ONNX with graphdl.export_onnx",
        )

    def extra_repr(self) -> str:
        # One line above the tree of modules that nn.Module prints.
        count = sum(p.numel() for p in self.parameters())
        return f"{len(self.analysis.layers)} layers, {count:,} learnables, inputs {list(self.input_names)}, outputs {list(self.output_names)}"


def _factor(value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 <= value < float("inf")):
        raise error("E207", f"a learn-rate or L2 factor is a non-negative number, not {value!r}")
    return float(value)


def dlnetwork(graph: LayerGraph, *, seed: int | None = None):
    """Compile a LayerGraph into a DLNetwork (MATLAB's `dlnetwork(lgraph)`), its learnables
    initialised with each layer's initialisers; `seed` makes them reproducible without touching
    torch's global random state. Raises GraphdlError if the graph has errors."""
    graph = graph.copy()  # the network keeps the graph it was compiled from, whatever the caller edits later
    analysis = analyze(graph)
    if not analysis.ok:
        raise GraphdlError(analysis.diagnostics, graph.sources)
    with seeded(seed):
        modules = build_modules(analysis)
    return DLNetwork(graph, analysis, modules)


def network_class(analysis: Analysis, owners: frozenset[str]) -> type[DLNetwork]:
    """The class of one network: a subclass of DLNetwork named after it (`DLNetwork_mnist`), its
    `forward` the generated code, defined on the class as a hand-written module's `forward` is.
    `owners` are the layers that own a module."""
    main = generate_entry(analysis, owners)
    name = f"DLNetwork_{analysis.graph.name}"
    main.function.__qualname__ = f"{name}.forward"
    namespace = {"forward": main.function, "_main": main, "_variants": {}, "__module__": __name__, "__qualname__": name}
    return type(name, (DLNetwork,), namespace)


def _instance(analysis: Analysis, owners: frozenset[str]) -> DLNetwork:
    """An empty instance of the network's class, made again: pickle then restores its attributes."""
    cls = network_class(analysis, owners)
    return cls.__new__(cls)
