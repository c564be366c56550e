"""What each PyTorch layer is in the catalog: for a torch.nn module, function or tensor method,
the catalog layer that computes exactly the same, with its arguments written as by hand, or a
refusal saying which setting has no catalog equivalent. `graphdl.from_torch` walks a traced module
and asks this table about each node.
"""

from __future__ import annotations

import contextlib
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import fx, nn

from graphdl.catalog import lookup
from graphdl.catalog import ArgumentProblem, as_value
from graphdl.graph import Layer, layer

SIZE = "graphdl_size"  # the key of a tensor node's size (from a trial run) in its meta


@dataclass(frozen=True)
class LayerSpec:
    """A layer to make: its kind, its arguments as they will be written, and the fx nodes that
    feed its input ports, in port order."""

    kind: str
    args: tuple = ()
    kwargs: Mapping[str, object] = field(default_factory=dict)
    inputs: tuple = ()

    def layer(self, name: str, shares: str | None = None) -> Layer:
        return layer(name, self.kind, *self.args, shares=shares, **self.kwargs)


@dataclass(frozen=True)
class Marker:
    """A value that is not a tensor: a tensor's size, or the batch size, which `x.view(x.size(0),
    -1)` uses."""

    what: str


SIZES = Marker("a tensor's size")
BATCH = Marker("the batch size")


class Refused(Exception):
    """A node that has no exact catalog equivalent; the message says why."""


def refuse_if(condition: bool, why: str) -> None:
    if condition:
        raise Refused(why)


def layer_spec(kind: str, *inputs, **arguments) -> LayerSpec:
    """A layer of `kind`, its arguments written as by hand: positional ones without their name,
    and only those that differ from the kind's defaults."""
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


def _compact(values) -> object:
    """A size per dimension as MATLAB writes it: one number when they are all equal."""
    values = tuple(values)
    return values[0] if len(set(values)) == 1 else list(values)


def _per_dimension(value, dims: int) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * dims


def size_of(value) -> tuple[int, ...]:
    """The size of a tensor node in the trial run, batch first."""
    refuse_if(not is_tensor(value), f"expects a tensor, but gets {show(value)}")
    return value.meta[SIZE]


def is_tensor(value) -> bool:
    return isinstance(value, fx.Node) and SIZE in value.meta


def show(value) -> str:
    if isinstance(value, fx.Node):
        return f"`{value.name}`"
    return value.what if isinstance(value, Marker) else repr(value)


# ---- modules --------------------------------------------------------------------------------------


def _window_dims(module: nn.Module, shape: tuple[int, ...]) -> int:
    """The spatial dimensions of a torch window or norm module, from its name (Conv2d: 2), after
    checking that it gets a batch: torch also takes a single unbatched observation, which is not
    what the layer computes on a batch of ours."""
    dims = int(type(module).__name__[-2])
    refuse_if(len(shape) != dims + 2, f"nn.{type(module).__name__} takes (batch, channels, {dims} spatial), but gets a tensor of size {shape}")
    return dims


def _padding(padding) -> object:
    """torch's padding of a convolution as MATLAB writes it: its "same" is MATLAB's (torch allows it
    at stride 1 only, where both split the padding alike)."""
    if padding == "valid":
        return 0
    return padding if padding == "same" else _compact(padding)


def _convolution(m: nn.Module, shape) -> LayerSpec:
    dims = _window_dims(m, shape)
    refuse_if(m.padding_mode != "zeros", f'padding_mode="{m.padding_mode}": graphdl\'s convolutions pad with zeros only')
    common = dict(stride=_compact(m.stride), dilationFactor=_compact(m.dilation), padding=_padding(m.padding), bias=m.bias is not None)
    if m.groups == 1:
        return layer_spec(f"convolution{dims}d", filterSize=_compact(m.kernel_size), numFilters=m.out_channels, **common)
    refuse_if(dims != 2, f"groups={m.groups}: the catalog has grouped convolutions in 2-D only (groupedConvolution2d)")
    groups = "channel-wise" if m.groups == m.in_channels else m.groups
    return layer_spec(
        "groupedConvolution2d", filterSize=_compact(m.kernel_size), numFiltersPerGroup=m.out_channels // m.groups, numGroups=groups, **common
    )


def _transposed_convolution(m: nn.Module, shape) -> LayerSpec:
    dims = _window_dims(m, shape)
    refuse_if(m.padding_mode != "zeros", f'padding_mode="{m.padding_mode}": graphdl\'s transposed convolutions pad with zeros only')
    refuse_if(m.groups != 1, f"groups={m.groups}: the catalog's transposed convolutions are not grouped")
    refuse_if(any(d != 1 for d in m.dilation), f"dilation={m.dilation}: the catalog's transposed convolutions have no dilation")
    refuse_if(
        any(extra > p for p, extra in zip(m.padding, m.output_padding)),
        f"output_padding={m.output_padding} beyond padding={m.padding}: graphdl crops a transposed convolution's output, it does not extend it",
    )
    # torch's output_padding gives back rows that its padding cropped at the end: MATLAB's
    # cropping of `padding` before and `padding - output_padding` after.
    if any(m.output_padding):
        cropping = [side for p, extra in zip(m.padding, m.output_padding) for side in (p, p - extra)]
    else:
        cropping = _compact(m.padding)
    return layer_spec(
        f"transposedConv{dims}d", filterSize=_compact(m.kernel_size), numFilters=m.out_channels, stride=_compact(m.stride), cropping=cropping,
        bias=m.bias is not None,
    )


def _linear(m: nn.Linear, shape) -> LayerSpec:
    refuse_if(
        len(shape) != 2,
        f"nn.Linear on a tensor of size {shape} works along its last dimension, but graphdl's fullyConnected takes (batch, features): flatten first",
    )
    return layer_spec("fullyConnected", outputSize=m.out_features, bias=m.bias is not None)


def _epsilon(eps: float) -> float:
    refuse_if(eps < 1e-5, f"eps={eps:g}: graphdl's epsilon is at least 1e-5, MATLAB's minimum")
    return eps


def _batch_norm(m: nn.Module, shape) -> LayerSpec:
    # torch's batch norms check the rank themselves, and take no unbatched input.
    refuse_if(not m.affine, "affine=False: graphdl's batchNormalization always learns a scale and an offset")
    refuse_if(not m.track_running_stats, "track_running_stats=False: graphdl's batchNormalization keeps running statistics for inference")
    refuse_if(m.momentum != 0.1, f"momentum={m.momentum}: graphdl's batchNormalization updates its statistics with momentum 0.1, MATLAB's decay")
    return layer_spec("batchNormalization", epsilon=_epsilon(m.eps))


def _layer_norm(m: nn.LayerNorm, shape) -> LayerSpec:
    refuse_if(
        len(shape) != 2 or tuple(m.normalized_shape) != shape[1:],
        f"nn.LayerNorm{tuple(m.normalized_shape)} on a tensor of size {shape} normalises its last dimensions; graphdl's layerNormalization "
        "matches it on features (batch, channels) only",
    )
    refuse_if(m.weight is None or m.bias is None, "without a learnable scale and offset: graphdl's layerNormalization learns both")
    return layer_spec("layerNormalization", epsilon=_epsilon(m.eps))


def _group_norm(m: nn.GroupNorm, shape) -> LayerSpec:
    refuse_if(not m.affine, "affine=False: graphdl's groupNormalization always learns a scale and an offset")
    return layer_spec("groupNormalization", numGroups=m.num_groups, epsilon=_epsilon(m.eps))


def _instance_norm(m: nn.Module, shape) -> LayerSpec:
    _window_dims(m, shape)
    refuse_if(not m.affine, "affine=False (PyTorch's default): graphdl's instanceNormalization learns a scale and an offset; use affine=True")
    refuse_if(m.track_running_stats, "track_running_stats=True: graphdl's instanceNormalization uses each observation's own statistics, also at inference")
    return layer_spec("instanceNormalization", epsilon=_epsilon(m.eps))


def _softplus_of(beta, threshold, *inputs) -> LayerSpec:
    refuse_if(beta != 1 or threshold != 20, f"beta={beta}, threshold={threshold}: graphdl's softplus is log(1 + exp(x)), beta 1 and threshold 20")
    return layer_spec("softplus", *inputs)


def _clipped_relu(low, high, *inputs) -> LayerSpec:
    refuse_if(low != 0, f"min_val={low}: graphdl's clippedRelu clips at 0 and a ceiling, as Hardtanh(0, ceiling) does")
    return layer_spec("clippedRelu", *inputs, ceiling=high)


def _softmax_of(dim, rank: int, *inputs) -> LayerSpec:
    if dim is None:
        dim = 0 if rank in (0, 1, 3) else 1  # torch's own choice for a softmax without a dim
    refuse_if(dim % rank != 1, f"dim={dim}: graphdl's softmax works over the channels, dim=1")
    return layer_spec("softmax", *inputs)


def _max_pool(m: nn.Module, shape) -> LayerSpec:
    dims = _window_dims(m, shape)
    refuse_if(m.ceil_mode, "ceil_mode=True: graphdl's pooling windows stop at the input's edge, as ceil_mode=False")
    refuse_if(_per_dimension(m.dilation, dims) != (1,) * dims, f"dilation={m.dilation}: graphdl's pooling has no dilation")
    refuse_if(m.return_indices, "return_indices=True: graphdl's max pooling returns the maxima only")
    return layer_spec(f"maxPooling{dims}d", **_pool_window(m, dims))


def _average_pool(m: nn.Module, shape) -> LayerSpec:
    dims = _window_dims(m, shape)
    refuse_if(m.ceil_mode, "ceil_mode=True: graphdl's pooling windows stop at the input's edge, as ceil_mode=False")
    refuse_if(getattr(m, "divisor_override", None) is not None, "divisor_override: graphdl's average pooling divides by the window's size")
    refuse_if(
        not m.count_include_pad and any(_per_dimension(m.padding, dims)),
        "count_include_pad=False: graphdl's average pooling counts the padding as zeros, as MATLAB does",
    )
    return layer_spec(f"averagePooling{dims}d", **_pool_window(m, dims))


def _pool_window(m: nn.Module, dims: int) -> dict[str, object]:
    return dict(
        poolSize=_compact(_per_dimension(m.kernel_size, dims)),
        stride=_compact(_per_dimension(m.stride, dims)),
        padding=_compact(_per_dimension(m.padding, dims)),
    )


def _global_pool(reduce: str) -> Callable[[nn.Module, tuple[int, ...]], LayerSpec]:
    def convert(m: nn.Module, shape) -> LayerSpec:
        dims = _window_dims(m, shape)
        refuse_if(_per_dimension(m.output_size, dims) != (1,) * dims, f"output_size={m.output_size}: graphdl pools to one value per channel only")
        refuse_if(getattr(m, "return_indices", False), "return_indices=True: graphdl's max pooling returns the maxima only")
        # MATLAB's 1-D global pooling turns a sequence into features, (batch, channels), where
        # torch keeps a time dimension of 1.
        refuse_if(dims == 1, f"graphdl's global{reduce}Pooling1d turns a sequence into features (batch, channels), without torch's time dimension of 1")
        return layer_spec(f"global{reduce}Pooling{dims}d")

    return convert


def _flatten_module(m: nn.Flatten, shape) -> LayerSpec:
    refuse_if(m.start_dim != 1 or m.end_dim not in (-1, len(shape) - 1), f"start_dim={m.start_dim}, end_dim={m.end_dim}: graphdl flattens all but the batch")
    return layer_spec("flatten")


def _upsample(m: nn.Upsample, shape) -> LayerSpec:
    refuse_if(len(shape) != 4, f"graphdl resizes 2-D images (resize2d), not a tensor of size {shape}")
    refuse_if(m.mode not in ("nearest", "bilinear"), f'mode="{m.mode}": graphdl\'s resize2d interpolates by "nearest" or "bilinear" only')
    refuse_if(bool(m.align_corners), "align_corners=True: graphdl's resize2d aligns pixel centres (align_corners=False)")
    if m.size is not None:
        return layer_spec("resize2d", outputSize=_compact(_per_dimension(m.size, 2)), method=m.mode)
    scales = set(_per_dimension(m.scale_factor, 2))
    scale = next(iter(scales))
    # resize2d computes its output size from the scale; torch interpolates with the scale
    # itself, which is the same only for a whole factor.
    refuse_if(len(scales) != 1 or not float(scale).is_integer(), f"scale_factor={m.scale_factor}: graphdl scales height and width by one whole factor")
    return layer_spec("resize2d", scale=int(scale), method=m.mode)


MODULES: dict[type, Callable[[nn.Module, tuple[int, ...]], LayerSpec | None]] = {
    nn.Conv1d: _convolution,
    nn.Conv2d: _convolution,
    nn.Conv3d: _convolution,
    nn.ConvTranspose1d: _transposed_convolution,
    nn.ConvTranspose2d: _transposed_convolution,
    nn.ConvTranspose3d: _transposed_convolution,
    nn.Linear: _linear,
    nn.BatchNorm1d: _batch_norm,
    nn.BatchNorm2d: _batch_norm,
    nn.BatchNorm3d: _batch_norm,
    nn.LayerNorm: _layer_norm,
    nn.GroupNorm: _group_norm,
    nn.InstanceNorm1d: _instance_norm,
    nn.InstanceNorm2d: _instance_norm,
    nn.InstanceNorm3d: _instance_norm,
    nn.ReLU: lambda m, shape: layer_spec("relu"),
    nn.LeakyReLU: lambda m, shape: layer_spec("leakyRelu", scale=m.negative_slope),
    nn.ELU: lambda m, shape: layer_spec("elu", alpha=m.alpha),
    nn.GELU: lambda m, shape: layer_spec("gelu", approximation=m.approximate),
    nn.Tanh: lambda m, shape: layer_spec("tanh"),
    nn.Sigmoid: lambda m, shape: layer_spec("sigmoid"),
    nn.SiLU: lambda m, shape: layer_spec("swish"),
    nn.Softplus: lambda m, shape: _softplus_of(m.beta, m.threshold),
    nn.Hardtanh: lambda m, shape: _clipped_relu(m.min_val, m.max_val),
    nn.ReLU6: lambda m, shape: _clipped_relu(0, 6),
    nn.Softmax: lambda m, shape: _softmax_of(m.dim, len(shape)),
    nn.Dropout: lambda m, shape: layer_spec("dropout", probability=m.p),
    nn.MaxPool1d: _max_pool,
    nn.MaxPool2d: _max_pool,
    nn.MaxPool3d: _max_pool,
    nn.AvgPool1d: _average_pool,
    nn.AvgPool2d: _average_pool,
    nn.AvgPool3d: _average_pool,
    nn.AdaptiveAvgPool1d: _global_pool("Average"),
    nn.AdaptiveAvgPool2d: _global_pool("Average"),
    nn.AdaptiveAvgPool3d: _global_pool("Average"),
    nn.AdaptiveMaxPool1d: _global_pool("Max"),
    nn.AdaptiveMaxPool2d: _global_pool("Max"),
    nn.AdaptiveMaxPool3d: _global_pool("Max"),
    nn.Flatten: _flatten_module,
    nn.Upsample: _upsample,
    nn.Identity: lambda m, shape: None,
}


# ---- functions and methods --------------------------------------------------------------------------
# Each converter takes the arguments of the torch function it stands for, so that Python binds a
# node's arguments as torch would: tensors arrive as fx nodes, sizes as markers.


def _activation(kind: str) -> Callable[..., LayerSpec]:
    def convert(input, inplace=False) -> LayerSpec:
        return layer_spec(kind, input)

    return convert


def _leaky_relu(input, negative_slope=0.01, inplace=False) -> LayerSpec:
    return layer_spec("leakyRelu", input, scale=negative_slope)


def _elu(input, alpha=1.0, inplace=False) -> LayerSpec:
    return layer_spec("elu", input, alpha=alpha)


def _gelu(input, approximate="none") -> LayerSpec:
    return layer_spec("gelu", input, approximation=approximate)


def _softplus(input, beta=1.0, threshold=20.0) -> LayerSpec:
    return _softplus_of(beta, threshold, input)


def _hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False) -> LayerSpec:
    return _clipped_relu(min_val, max_val, input)


def _relu6(input, inplace=False) -> LayerSpec:
    return _clipped_relu(0, 6, input)


def _softmax(input, dim=None, _stacklevel=3, dtype=None) -> LayerSpec:
    refuse_if(dtype is not None, f"dtype={dtype}: graphdl's softmax computes in its input's type")
    return _softmax_of(dim, len(size_of(input)), input)


def _add(input, other, alpha=1) -> LayerSpec:
    refuse_if(alpha != 1, f"alpha={alpha}: graphdl's addition adds its inputs as they are")
    return layer_spec("addition", input, other)


def _mul(input, other) -> LayerSpec:
    return layer_spec("multiplication", input, other)


def _cat(tensors, dim=0) -> LayerSpec | fx.Node:
    refuse_if(not isinstance(tensors, (tuple, list)), f"concatenates {show(tensors)}, not a list of tensors")
    rank = len(size_of(tensors[0]))
    refuse_if(dim % rank != 1, f"dim={dim}: graphdl imports concatenation along the channels, dim=1")
    if len(tensors) == 1:
        return tensors[0]
    if rank >= 4:
        return layer_spec("depthConcatenation", *tensors, numInputs=len(tensors))
    return layer_spec("concatenation", *tensors, dim="channel", numInputs=len(tensors))


def _flatten(input, start_dim=0, end_dim=-1) -> LayerSpec:
    rank = len(size_of(input))
    refuse_if(
        start_dim != 1 or end_dim not in (-1, rank - 1),
        f"start_dim={start_dim}, end_dim={end_dim}: graphdl flattens all but the batch, as torch.flatten(x, 1)",
    )
    return layer_spec("flatten", input)


def _view(input, *shape) -> LayerSpec:
    """`x.view(x.size(0), -1)` and its variants: a flatten of all but the batch."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    rest = math.prod(size_of(input)[1:])
    flattens = len(shape) == 2 and ((shape[0] is BATCH and shape[1] in (-1, rest)) or (shape[0] == -1 and shape[1] == rest))
    refuse_if(not flattens, f"to {', '.join(map(show, shape))}: graphdl imports a view or reshape that flattens all but the batch, x.view(x.size(0), -1)")
    return layer_spec("flatten", input)


def _reshape(input, shape) -> LayerSpec:
    return _view(input, shape)


def _size(input, dim=None) -> Marker:
    size_of(input)
    refuse_if(dim not in (None, 0), f"size({dim}): graphdl uses a size only as the batch size of a flatten, x.view(x.size(0), -1)")
    return SIZES if dim is None else BATCH


def _attribute(obj, name) -> Marker:
    refuse_if(name != "shape", f"attribute `{name}` of {show(obj)}")
    size_of(obj)
    return SIZES


def _item(obj, index) -> Marker:
    refuse_if(obj is not SIZES or index != 0, f"{show(obj)}[{index!r}]: graphdl uses a size only as the batch size of a flatten, x.view(x.shape[0], -1)")
    return BATCH


_relu, _sigmoid, _tanh, _swish = (_activation(kind) for kind in ("relu", "sigmoid", "tanh", "swish"))

FUNCTIONS: dict[object, Callable[..., object]] = {
    torch.relu: _relu,
    F.relu: _relu,
    torch.sigmoid: _sigmoid,
    F.sigmoid: _sigmoid,
    torch.tanh: _tanh,
    F.tanh: _tanh,
    F.silu: _swish,
    F.gelu: _gelu,
    F.leaky_relu: _leaky_relu,
    F.elu: _elu,
    F.softplus: _softplus,
    F.hardtanh: _hardtanh,
    F.relu6: _relu6,
    torch.softmax: _softmax,
    F.softmax: _softmax,
    operator.add: _add,
    torch.add: _add,
    operator.mul: _mul,
    torch.mul: _mul,
    torch.cat: _cat,
    torch.concat: _cat,
    torch.flatten: _flatten,
    torch.reshape: _reshape,
    getattr: _attribute,
    operator.getitem: _item,
}

METHODS: dict[str, Callable[..., object]] = {
    "relu": _relu,
    "sigmoid": _sigmoid,
    "tanh": _tanh,
    "softmax": _softmax,
    "add": _add,
    "mul": _mul,
    "flatten": _flatten,
    "view": _view,
    "reshape": _view,
    "size": _size,
}


def label(target) -> str:
    """A function as PyTorch code writes it: `F.relu`, `torch.cat`, `+`."""
    special = {operator.add: "+", operator.mul: "*", getattr: "x.shape", operator.getitem: "x.shape[0]"}
    with contextlib.suppress(TypeError):
        if target in special:
            return special[target]
    module = getattr(target, "__module__", None) or ""
    module = {"torch.nn.functional": "F", "torch._C._nn": "F", "_operator": "operator"}.get(module, module)
    name = getattr(target, "__name__", repr(target))
    return f"{module}.{name}" if module else name


def supported() -> str:
    modules = ", ".join(f"nn.{cls.__name__}" for cls in MODULES)
    functions = ", ".join(dict.fromkeys(label(f) for f in FUNCTIONS if f not in (getattr, operator.getitem)))
    methods = ", ".join(f"x.{name}()" for name in METHODS if name not in ("view", "reshape", "size"))
    return (
        f"graphdl imports the PyTorch modules {modules}; the functions {functions}; the methods {methods}; "
        "and x.view(x.size(0), -1) or x.reshape(x.shape[0], -1), flattening all but the batch"
    )
