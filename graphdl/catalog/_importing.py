"""What a kind's importers work with (`LayerKind.importers`, used by `graphdl.from_torch`).

from_torch traces a PyTorch module and, for each torch.nn module, function or tensor method it
meets, calls the importer that a kind declares for that thing's qualified name. An importer is
called as torch calls what it stands for: a module's with the module and its input, a function's
or method's with the call's own arguments. A tensor the network computes arrives as a
`TracedTensor` (its size known from a trial run), a size read from a tensor as a `Marker`. The
importer returns the layer to make (`layer_spec`), or a tensor to pass on unchanged, or raises
`Refused` saying which setting has no exact equivalent in the catalog: an import computes what
the module computes, or fails.

No torch here, so that the catalog loads without it; an importer reads a module's attributes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from graphdl.catalog._arguments import ArgumentProblem, as_value
from graphdl.catalog._registry import lookup


@dataclass(frozen=True, eq=False)
class TracedTensor:
    """A tensor the traced network computes: its name in the trace, its size in the trial run
    (batch first, as torch's), and the walker's own handle on it."""

    name: str
    size: tuple[int, ...]
    node: object = field(repr=False)


@dataclass(frozen=True)
class Marker:
    """A value that is not a tensor: a tensor's size, or the batch size, which `x.view(x.size(0),
    -1)` uses."""

    what: str


SIZES = Marker("a tensor's size")
BATCH = Marker("the batch size")


@dataclass(frozen=True)
class LayerSpec:
    """A layer to make: its kind, its arguments as they will be written, and the tensors that feed
    its input ports, in port order."""

    kind: str
    args: tuple = ()
    kwargs: Mapping[str, object] = field(default_factory=dict)
    inputs: tuple = ()


class Refused(Exception):
    """A call that has no exact catalog equivalent; the message says why."""


def refuse_if(condition: bool, why: str) -> None:
    if condition:
        raise Refused(why)


def layer_spec(kind: str, *inputs, **arguments) -> LayerSpec:
    """A layer of `kind` fed by `inputs`, its arguments written as by hand: positional ones
    without their name, and only those that differ from the kind's defaults."""
    params = lookup(kind).params
    given = {p.name: arguments[p.name] for p in params if p.name in arguments and not _is_default(p, arguments[p.name])}
    positional = [p for p in params if p.positional]
    last = max((i for i, p in enumerate(positional) if p.name in given), default=-1)
    args = tuple(given.pop(p.name) if p.name in given else p.default for p in positional[: last + 1])
    return LayerSpec(kind, args, given, inputs)


def _is_default(param, value) -> bool:
    if param.required:
        return False
    if value is None or param.default is None:
        return value is param.default  # an argument that is None when not given (resize2d's scale)
    try:
        return param.type.normalize(as_value(value)) == param.type.normalize(param.default)
    except ArgumentProblem:
        return False


def size_of(value) -> tuple[int, ...]:
    """The size of a tensor in the trial run, batch first; a refusal for anything else."""
    refuse_if(not isinstance(value, TracedTensor), f"expects a tensor, but gets {show(value)}")
    return value.size


def show(value) -> str:
    if isinstance(value, TracedTensor):
        return f"`{value.name}`"
    return value.what if isinstance(value, Marker) else repr(value)


def compact(values) -> object:
    """A size per dimension as MATLAB writes it: one number when they are all equal."""
    values = tuple(values)
    return values[0] if len(set(values)) == 1 else list(values)


def per_dimension(value, dims: int) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * dims


def window_dims(module, x: TracedTensor) -> int:
    """The spatial dimensions of a torch window or norm module, from its name (Conv2d: 2), after
    checking that it gets a batch: torch also takes a single unbatched observation, which is not
    what the layer computes on a batch of ours."""
    name = type(module).__name__
    dims = int(name[-2])
    refuse_if(len(x.size) != dims + 2, f"nn.{name} takes (batch, channels, {dims} spatial), but gets a tensor of size {x.size}")
    return dims


def torch_padding(padding) -> object:
    """torch's padding of a convolution as MATLAB writes it: its "same" is MATLAB's (torch allows
    it at stride 1 only, where both split the padding alike)."""
    if padding == "valid":
        return 0
    return padding if padding == "same" else compact(padding)
