"""The layer catalog's contract and its registry.

A layer kind is everything about one kind of layer in one place: its name in the language, its
arguments, its ports, its shape rule, how to build its torch module, how PyTorch code imports as
it, and how it looks. The parser
knows no layer names; every later stage asks the registry. Kinds register with `@register`, which
checks the contract at once, so a broken kind fails at import, not halfway through a compile.

Shape rules and descriptions never import torch; `build`, `generate` and the importers do, when
they are called.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from graphdl.catalog._arguments import REQUIRED, Float, Param, is_factor_param
from graphdl.catalog._categories import CATEGORIES
from graphdl.catalog._emit import Emit
from graphdl.catalog._shape import Shape
from graphdl.diagnostics import error, reason
from graphdl.syntax import format_value

if TYPE_CHECKING:
    from torch import nn
    from torch.fx import Node

Arguments = Mapping[str, object]


@dataclass(frozen=True)
class Inferred:
    """What a shape rule knows of a layer: its output shapes by port, the sizes of its learnable
    parameters and of its state (run-time tensors, PyTorch's layout), by their torch names."""

    outputs: Mapping[str, Shape]
    learnables: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    state: Mapping[str, tuple[int, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Factors:
    """A group of a kind's learnables with MATLAB's own learn-rate and L2 factors: `weight` gives a
    kind the arguments `weightLearnRateFactor` and `weightL2Factor`. `parameters` are the torch
    names the group covers (those a layer lacks, such as a bias switched off, are passed over)."""

    parameters: tuple[str, ...]
    l2: float = 1.0  # MATLAB's default L2 factor of the group (0 for the biases of most layers)


class LayerProblem(Exception):
    """Raised by a shape rule when the layer cannot take its inputs. `argument` names the
    argument to point at, if one is to blame; `ports` the inputs whose connections to show."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "E403",
        argument: str | None = None,
        ports: tuple[str, ...] = (),
        help: str | None = None,
        notes: tuple[str, ...] = (),
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.argument = argument
        self.ports = ports
        self.help = help
        self.notes = notes


class LayerKind:
    """Base of every layer kind. Subclasses set the class attributes and implement `infer` and
    `build`; multi-port kinds override `inputs`/`outputs`."""

    name: ClassVar[str]
    category: ClassVar[str]
    summary: ClassVar[str]  # one line: what the kind does
    params: ClassVar[tuple[Param, ...]] = ()
    # The name MATLAB gives an unnamed layer of this kind ("conv", "fc"); the kind's name if unset.
    auto_name: ClassVar[str | None] = None
    # MATLAB's groups of learnables with their own factors (`weight`, `bias`; `scale`, `offset`),
    # each made two arguments when the kind registers; a learnable in no group has factors of 1.
    factors: ClassVar[Mapping[str, Factors]] = {}
    # What PyTorch code imports as this kind (graphdl.from_torch): the qualified name of a torch.nn
    # module class, a function or a tensor method ("torch.nn.ReLU", "torch.nn.functional.relu",
    # "torch.Tensor.relu", "operator.add"), each with its importer (see _importing.py). Names, not
    # objects, so that the catalog loads without torch.
    importers: ClassVar[Mapping[str, Callable[..., object]]] = {}
    # The qualified names, each another kind's, whose importer makes this kind for some settings:
    # convolution2d's importer of "torch.nn.Conv2d" makes a groupedConvolution2d when groups > 1.
    # A name has one importer, but what it makes may be a kin of its kind.
    imported_by: ClassVar[tuple[str, ...]] = ()
    # Why a kind has no importer and is made by none, in one line ("made from from_torch's input_size").
    no_importer: ClassVar[str | None] = None

    def inputs(self, args: Arguments) -> tuple[str, ...]:
        return ("in",)

    def outputs(self, args: Arguments) -> tuple[str, ...]:
        return ("out",)

    def infer(self, args: Arguments, inputs: Mapping[str, Shape]) -> Inferred:
        raise NotImplementedError

    def build(self, args: Arguments, inputs: Mapping[str, Shape]) -> nn.Module | None:
        """The torch module for one layer, initialised; None for a layer that passes its input
        through unchanged."""
        raise NotImplementedError

    def generate(self, args: Arguments, inputs: Mapping[str, Shape], emit: Emit, *values: Node) -> Node | tuple[Node, ...]:
        """The layer's part of the generated forward, from the values at its input ports (in port
        order) to its output (a tuple for several ports). By default, a call of its module (of its
        input, for a layer without one). Kinds override it to write cheap operations inline, as a
        hand-written forward would (`x - self.input.mean`, `torch.flatten(x, 1)`), sparing a
        module call."""
        return emit.module(*values)

    def signature(self) -> str:
        """`convolution2d(filterSize, numFilters, stride=1, ...)`, as `graphdl layers` and the
        editor show it: the arguments in order, required ones bare, optional ones without a default
        in brackets; the learn-rate and L2 factors, which every kind with learnables has, left out."""
        arguments = []
        for p in self.params:
            if is_factor_param(p):
                continue
            if p.default is REQUIRED:
                arguments.append(p.name)
            elif p.default is None:
                arguments.append(f"[{p.name}]")
            else:
                arguments.append(f"{p.name}={format_value(p.default)}")
        return f"{self.name}({', '.join(arguments)})"

    def describe(self, args: Arguments) -> str:
        """One line about one layer, for summaries: "20 5x5 convolutions with stride 1x1"."""
        return self.summary

    def cautions(self, args: Arguments, inputs: Mapping[str, Shape]) -> tuple[LayerProblem, ...]:
        """What a layer of these inputs does that checks, yet cannot work as meant (torch refuses
        it at run time, or its output is a constant): reported as warnings."""
        return ()

    def flops(self, args: Arguments, inputs: Mapping[str, Shape], inferred: Inferred) -> int:
        """Floating-point operations of one observation's forward (of one step, for a sequence of
        any length), a multiply-add counted as two. By default one per output element, as an
        elementwise layer does; kinds that do more (or nothing) say so."""
        return sum(shape.numel for shape in inferred.outputs.values())

    @property
    def is_input(self) -> bool:
        return self.category == "input"

    @property
    def base_name(self) -> str:
        """The name of an anonymous layer of this kind (`relu`, `conv`), before numbering."""
        return self.auto_name or self.name

    def learnable_factors(self, args: Arguments, parameter: str) -> tuple[float, float]:
        """The learn-rate and L2 factors that a layer's arguments give one of its learnables."""
        for group, factors in self.factors.items():
            if parameter in factors.parameters:
                return args[f"{group}LearnRateFactor"], args[f"{group}L2Factor"]
        return 1.0, 1.0

    def complete(self, given: Arguments) -> dict[str, object]:
        """The arguments of a layer with every default filled in."""
        return {p.name: given[p.name] if p.name in given else _default(p) for p in self.params}

    def __repr__(self) -> str:
        return f"<layer kind {self.name}>"


def _default(param: Param) -> object:
    if param.required or param.default is None:
        return param.default
    return param.type.normalize(param.default)


_KINDS: dict[str, LayerKind] = {}
_IMPORTED: dict[str, str] = {}  # qualified name of a torch thing -> the kind that imports it


def register(cls: type[LayerKind]) -> type[LayerKind]:
    """Class decorator adding a layer kind to the catalog, after checking its contract."""
    problems = []
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        problems.append(f"its `name` must be an identifier, not {name!r}")
    elif name in _KINDS:
        problems.append(f"the name `{name}` is taken by {type(_KINDS[name]).__qualname__}")
    if getattr(cls, "category", None) not in CATEGORIES:
        problems.append(f"its `category` must be one of {', '.join(CATEGORIES)}")
    if not isinstance(getattr(cls, "summary", None), str):
        problems.append("it needs a one-line `summary`")
    names = [p.name for p in cls.params]
    if len(set(names)) != len(names) or not all(isinstance(p, Param) and p.name.isidentifier() for p in cls.params):
        problems.append("its `params` must be Params with distinct identifier names")
    positional = [p.positional for p in cls.params]
    if positional != sorted(positional, reverse=True):
        problems.append("its positional params must come before the others")
    for method in ("infer", "build"):
        if getattr(cls, method) is getattr(LayerKind, method):
            problems.append(f"it must implement `{method}`")
    problems += _importer_problems(cls)
    if problems:
        raise TypeError(f"cannot register layer kind {cls.__qualname__}: " + "; ".join(problems))
    _IMPORTED.update(dict.fromkeys(cls.importers, name))
    cls.params = cls.params + tuple(p for p in factor_params(cls.factors) if p.name not in names)
    _KINDS[name] = cls()
    return cls


def _importer_problems(cls: type[LayerKind]) -> list[str]:
    importers, imported_by, reason = cls.importers, cls.imported_by, cls.no_importer
    if not isinstance(importers, Mapping):
        return ["its `importers` must map qualified names to importers"]
    problems = []
    for qualified, importer in importers.items():
        if not _is_qualified(qualified):
            problems.append(f'its `importers` are keyed by qualified names such as "torch.nn.ReLU", not {qualified!r}')
        elif qualified in _IMPORTED:
            # A subclass of a registered kind inherits its importers: it declares its own, {} for none.
            problems.append(f"`{qualified}` is imported as the kind `{_IMPORTED[qualified]}` already")
        if not callable(importer):
            problems.append(f"the importer of `{qualified}` must be callable")
    if not isinstance(imported_by, tuple) or not all(_is_qualified(q) for q in imported_by):
        problems.append('its `imported_by` must be a tuple of qualified names such as ("torch.nn.Conv2d",)')
    else:
        # The kind that owns the name registers first, so that a name no importer has fails here.
        problems += [f"its `imported_by` names `{q}`, which no registered kind imports" for q in imported_by if q not in _IMPORTED]
    if reason is not None and (not isinstance(reason, str) or not reason.strip() or "\n" in reason):
        problems.append("its `no_importer` must be one line saying why it has no importer")
    elif reason is not None and importers:
        problems.append("it has importers, so it needs no `no_importer`")
    elif reason is not None and imported_by:
        problems.append("it is imported by another kind's importer (`imported_by`), so it needs no `no_importer`")
    return problems


def _is_qualified(name: object) -> bool:
    return isinstance(name, str) and len(name.split(".")) >= 2 and all(p.isidentifier() for p in name.split("."))


def factor_params(factors: Mapping[str, Factors]) -> tuple[Param, ...]:
    """The arguments that set the factors of each group, MATLAB's `WeightLearnRateFactor` and
    `WeightL2Factor` in the language's camelCase."""
    learn_rates = [Param(f"{group}LearnRateFactor", Float(min=0), 1.0, doc=f"multiplies the learn rate of its {group}") for group in factors]
    l2s = [Param(f"{group}L2Factor", Float(min=0), f.l2, doc=f"multiplies the L2 regularisation of its {group}") for group, f in factors.items()]
    return tuple(learn_rates + l2s)


def lookup(name: str) -> LayerKind | None:
    return _KINDS.get(name)


def kinds() -> tuple[LayerKind, ...]:
    return tuple(_KINDS.values())


def importers() -> dict[str, tuple[LayerKind, Callable[..., object]]]:
    """Every importer of every kind, by the qualified name it imports."""
    return {qualified: (kind, importer) for kind in _KINDS.values() for qualified, importer in kind.importers.items()}


PLUGIN_GROUP = "graphdl.layers"


def load_plugins() -> None:
    """Import the modules that installed packages name in the `graphdl.layers` entry point group;
    they register their kinds with `@register`, as the built-in ones do. A plugin that fails to
    load is an error that names it, not a traceback from deep inside."""
    from importlib.metadata import entry_points

    for entry in entry_points(group=PLUGIN_GROUP):
        try:
            entry.load()
        except Exception as e:  # a broken plugin must not look like a graphdl bug
            raise error(
                "E012",
                f"the graphdl layer plugin {entry.name!r} ({entry.value}) failed to load: {type(e).__name__}: {reason(e)}",
                help="fix or uninstall the package that provides it; its error is the cause of this one",
            ) from e
