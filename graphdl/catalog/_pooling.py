"""Pooling layers: windowed max and average, and global average and max, in 1-D (over the width
of a 1-D image, or over the time of a sequence of features), 2-D and 3-D; adaptive average and max
to an output size in 2-D."""

from __future__ import annotations

import math
from typing import ClassVar

from graphdl.catalog._arguments import Choice, Padding, Param, Size
from graphdl.catalog._importing import LayerSpec, TracedTensor, compact, layer_spec, per_dimension, refuse_if, window_dims
from graphdl.catalog._registry import Inferred, LayerKind, register
from graphdl.catalog._shape import Shape
from graphdl.catalog._window import Padding1d, Window, adaptive_windows, describe_window, image_input, windows

_EXTENT = {1: "width (or length, over time)", 2: "height and width", 3: "height, width and depth"}


def _window_params(dims: int) -> tuple[Param, ...]:
    return (
        Param("poolSize", Size(dims), positional=True, doc=f"{_EXTENT[dims]} of the pooling window"),
        Param("stride", Size(dims), 1, doc="MATLAB's default is 1: pass stride=2 for the usual halving"),
        Param("padding", Padding1d() if dims == 1 else Padding(dims), 0),
    )


# MATLAB's pooling rounds the number of windows down; networks from PyTorch (GoogLeNet, SqueezeNet)
# round it up, with ceil_mode.
_ROUNDING = Param(
    "roundingMode",
    Choice(("floor", "ceil")),
    "floor",
    doc='"ceil" also counts a last window that overhangs the padded input, if it starts before the padding after it (torch\'s ceil_mode)',
)


def _scalar(values: tuple[int, ...]) -> int | tuple[int, ...]:
    """One number for a window the same in every dimension, as one writes it by hand: torch's
    pooling takes a number faster than a tuple (about 0.3 µs per tuple and call, a part of a small
    network's forward at batch 1)."""
    return values[0] if len(set(values)) == 1 else tuple(values)


def _import_window(m, dims: int) -> dict[str, object]:
    return {
        "poolSize": compact(per_dimension(m.kernel_size, dims)),
        "stride": compact(per_dimension(m.stride, dims)),
        "padding": compact(per_dimension(m.padding, dims)),
    }


def _rounding(m, dims: int) -> dict[str, object]:
    refuse_if(m.ceil_mode and dims != 2, "ceil_mode=True: graphdl's pooling rounds the number of windows up in 2-D only")
    return {"roundingMode": "ceil"} if m.ceil_mode else {}


def _import_max_pool(m, x: TracedTensor) -> LayerSpec:
    dims = window_dims(m, x)
    rounding = _rounding(m, dims)
    refuse_if(per_dimension(m.dilation, dims) != (1,) * dims, f"dilation={m.dilation}: graphdl's pooling has no dilation")
    refuse_if(m.return_indices, "return_indices=True: graphdl's max pooling returns the maxima only")
    return layer_spec(f"maxPooling{dims}d", x, **_import_window(m, dims), **rounding)


def _import_average_pool(m, x: TracedTensor) -> LayerSpec:
    dims = window_dims(m, x)
    rounding = _rounding(m, dims)
    refuse_if(getattr(m, "divisor_override", None) is not None, "divisor_override: graphdl's average pooling divides by the window's size")
    refuse_if(
        not m.count_include_pad and any(per_dimension(m.padding, dims)),
        "count_include_pad=False: graphdl's average pooling counts the padding as zeros, as MATLAB does",
    )
    return layer_spec(f"averagePooling{dims}d", x, **_import_window(m, dims), **rounding)


def _import_global_pool(m, x: TracedTensor) -> LayerSpec:
    """torch.nn.AdaptiveAvgPool2d(1) and its kin, pooling to one value per channel; in 2-D, to
    another output size, an adaptive pooling."""
    dims = window_dims(m, x)
    refuse_if(getattr(m, "return_indices", False), "return_indices=True: graphdl's max pooling returns the maxima only")
    reduce = "Max" if "Max" in type(m).__name__ else "Average"
    # None keeps the input's size in that dimension, which the trial run's size tells.
    size = tuple(n if s is None else s for s, n in zip(per_dimension(m.output_size, dims), x.size[2:]))
    if size == (1,) * dims:
        return layer_spec(f"global{reduce}Pooling{dims}d", x)
    refuse_if(dims != 2, f"output_size={m.output_size}: graphdl pools to other sizes than 1 in 2-D only")
    return layer_spec(f"adaptive{reduce}Pooling2d", x, outputSize=compact(size))


_NOT_1D = "torch's AdaptiveAvgPool1d(1) and AdaptiveMaxPool1d(1) keep a time dimension of 1, which MATLAB's 1-D global pooling removes"


class _Pooling(LayerKind):
    category = "pooling"
    dims: ClassVar[int]
    pad_value: ClassVar[float]
    verb: ClassVar[str]

    def pool(self, window, stride, padding, ceil=False):
        raise NotImplementedError

    def infer(self, args, inputs):
        window = Window.of(self.name, args, inputs, "poolSize", self.dims)
        return Inferred({"out": window.output(window.input.channels)})

    def build(self, args, inputs):
        from graphdl.catalog._torch_modules.pooling import Padded

        window = Window.of(self.name, args, inputs, "poolSize", self.dims)
        size, stride = _scalar(window.size), _scalar(window.stride)
        if self.torch_pads(window):
            return self.pool(size, stride, _scalar(window.padding), window.ceil)
        same = None if window.resolved else (window.size[-1], window.stride[-1])
        keep = None
        if window.ceil:
            # Padded first, torch's pool drops only a last window starting past all the padding.
            padded = [n + before + after for n, (before, after) in zip(window.input.spatial, window.pads)]
            pooled = tuple(windows(n, k, s, before=n) for n, k, s in zip(padded, window.size, window.stride))
            keep = window.output_size() if pooled != window.output_size() else None
        return Padded(window.torch_pad, self.pad_value, self.pool(size, stride, 0, window.ceil), same, keep)

    def torch_pads(self, window: Window) -> bool:
        """Whether torch's pooling module can pad as the window needs: torch pools pad at most
        half a window, and evenly; other padding is applied first."""
        return window.symmetric and all(p <= k // 2 for p, k in zip(window.padding, window.size))

    def describe(self, args):
        rounding = ", rounding the number of windows up" if args.get("roundingMode") == "ceil" else ""
        return describe_window(f"{self.verb} pooling", args, "poolSize") + rounding

    def flops(self, args, inputs, inferred):
        return inferred.outputs["out"].numel * math.prod(args["poolSize"])


class _MaxPooling(_Pooling):
    pad_value = float("-inf")
    verb = "max"

    def pool(self, window, stride, padding, ceil=False):
        from torch import nn

        return getattr(nn, f"MaxPool{self.dims}d")(window, stride, padding, ceil_mode=ceil)


class _AveragePooling(_Pooling):
    pad_value = 0.0
    verb = "average"

    def pool(self, window, stride, padding, ceil=False):
        from torch import nn

        return getattr(nn, f"AvgPool{self.dims}d")(window, stride, padding, ceil_mode=ceil, count_include_pad=True)


@register
class MaxPooling1d(_MaxPooling):
    name = "maxPooling1d"
    importers = {"torch.nn.MaxPool1d": _import_max_pool}
    auto_name = "maxpool1d"
    dims = 1
    summary = "1-D max pooling: the maximum of each window, along the time of a sequence or the width of a 1-D image"
    params = _window_params(1)


@register
class MaxPooling2d(_MaxPooling):
    name = "maxPooling2d"
    importers = {"torch.nn.MaxPool2d": _import_max_pool}
    auto_name = "maxpool"
    dims = 2
    summary = "2-D max pooling: the maximum of each window"
    params = (*_window_params(2), _ROUNDING)


@register
class MaxPooling3d(_MaxPooling):
    name = "maxPooling3d"
    importers = {"torch.nn.MaxPool3d": _import_max_pool}
    auto_name = "maxpool3d"
    dims = 3
    summary = "3-D max pooling: the maximum of each window of a 3-D image"
    params = _window_params(3)


@register
class AveragePooling1d(_AveragePooling):
    name = "averagePooling1d"
    importers = {"torch.nn.AvgPool1d": _import_average_pool}
    auto_name = "avgpool1d"
    dims = 1
    summary = "1-D average pooling: the mean of each window, along the time of a sequence or the width of a 1-D image (padding counts as zeros)"
    params = _window_params(1)


@register
class AveragePooling2d(_AveragePooling):
    name = "averagePooling2d"
    importers = {"torch.nn.AvgPool2d": _import_average_pool}
    auto_name = "avgpool"
    dims = 2
    summary = "2-D average pooling: the mean of each window (padding counts as zeros, as in MATLAB)"
    params = (*_window_params(2), _ROUNDING)


@register
class AveragePooling3d(_AveragePooling):
    name = "averagePooling3d"
    importers = {"torch.nn.AvgPool3d": _import_average_pool}
    auto_name = "avgpool3d"
    dims = 3
    summary = "3-D average pooling: the mean of each window of a 3-D image (padding counts as zeros, as in MATLAB)"
    params = _window_params(3)

    def torch_pads(self, window):
        # torch's avg_pool3d refuses an input smaller than the window before it pads it.
        return super().torch_pads(window) and all(n >= k for n, k in zip(window.input.spatial, window.size))


class _GlobalPooling(LayerKind):
    """Pooling over all of an image's spatial dimensions, which MATLAB keeps as singletons
    (1x1xchannels); in 1-D over the time of a sequence of features, which MATLAB removes
    (globalAveragePooling1dLayer turns CBT data into CB): the output is features."""

    category = "pooling"
    dims: ClassVar[int]
    reduce: ClassVar[str]  # "mean" or "max"

    def infer(self, args, inputs):
        shape = image_input(self.name, inputs, self.dims)
        if shape.is_sequence:
            return Inferred({"out": Shape.features(shape.channels)})
        return Inferred({"out": Shape.image(*(1,) * self.dims, shape.channels)})

    def build(self, args, inputs):
        from torch import nn

        if inputs["in"].is_sequence:
            from graphdl.catalog._torch_modules.pooling import GlobalPoolTime

            return GlobalPoolTime(self.reduce)
        pool = "Avg" if self.reduce == "mean" else "Max"
        return getattr(nn, f"Adaptive{pool}Pool{self.dims}d")(1)

    def describe(self, args):
        what = "average" if self.reduce == "mean" else "max"
        over_time = " (a sequence becomes features)" if self.dims == 1 else ""
        return f"{self.dims}-D global {what} pooling{over_time}"

    def flops(self, args, inputs, inferred):
        return inputs["in"].numel


@register
class GlobalAveragePooling1d(_GlobalPooling):
    name = "globalAveragePooling1d"
    no_importer = _NOT_1D
    auto_name = "gapool1d"
    dims, reduce = 1, "mean"
    summary = "1-D global average pooling: the mean over a 1-D image's width (keeping 1xchannels), or over a sequence's time (giving features, as MATLAB does)"


@register
class GlobalAveragePooling2d(_GlobalPooling):
    name = "globalAveragePooling2d"
    importers = {"torch.nn.AdaptiveAvgPool2d": _import_global_pool}
    auto_name = "gapool"
    dims, reduce = 2, "mean"
    summary = "2-D global average pooling: the mean over height and width, keeping 1x1xchannels"


@register
class GlobalAveragePooling3d(_GlobalPooling):
    name = "globalAveragePooling3d"
    importers = {"torch.nn.AdaptiveAvgPool3d": _import_global_pool}
    auto_name = "gapool3d"
    dims, reduce = 3, "mean"
    summary = "3-D global average pooling: the mean over height, width and depth, keeping 1x1x1xchannels"


@register
class GlobalMaxPooling1d(_GlobalPooling):
    name = "globalMaxPooling1d"
    no_importer = _NOT_1D
    auto_name = "gmpool1d"
    dims, reduce = 1, "max"
    summary = "1-D global max pooling: the maximum over a 1-D image's width (keeping 1xchannels), or over a sequence's time (giving features, as MATLAB does)"


@register
class GlobalMaxPooling2d(_GlobalPooling):
    name = "globalMaxPooling2d"
    importers = {"torch.nn.AdaptiveMaxPool2d": _import_global_pool}
    auto_name = "gmpool"
    dims, reduce = 2, "max"
    summary = "2-D global max pooling: the maximum over height and width, keeping 1x1xchannels"


@register
class GlobalMaxPooling3d(_GlobalPooling):
    name = "globalMaxPooling3d"
    importers = {"torch.nn.AdaptiveMaxPool3d": _import_global_pool}
    auto_name = "gmpool3d"
    dims, reduce = 3, "max"
    summary = "3-D global max pooling: the maximum over height, width and depth, keeping 1x1x1xchannels"


class _AdaptivePooling(LayerKind):
    """Pooling to a given height and width whatever the input's: each output pixel pools its
    share of the input, as torch's AdaptiveAvgPool2d and AdaptiveMaxPool2d do."""

    category = "pooling"
    params = (Param("outputSize", Size(2), positional=True, doc="height and width of the output: [height, width], or one number for both"),)
    reduce: ClassVar[str]  # "Avg" or "Max", torch's spelling

    def infer(self, args, inputs):
        shape = image_input(self.name, inputs, 2)
        return Inferred({"out": Shape.image(*args["outputSize"], shape.channels)})

    def build(self, args, inputs):
        from torch import nn

        if self.reduce == "Max":
            from graphdl.catalog._torch_modules.pooling import AdaptiveMaxPool2d

            return AdaptiveMaxPool2d(args["outputSize"], inputs["in"].spatial)
        return nn.AdaptiveAvgPool2d(_scalar(args["outputSize"]))

    def describe(self, args):
        what = "average" if self.reduce == "Avg" else "max"
        return f"2-D adaptive {what} pooling to {'x'.join(map(str, args['outputSize']))}"

    def flops(self, args, inputs, inferred):
        shape = inputs["in"]
        rows, cols = (sum(end - start for start, end in adaptive_windows(n, out)) for n, out in zip(shape.spatial, args["outputSize"]))
        return rows * cols * shape.channels


@register
class AdaptiveAveragePooling2d(_AdaptivePooling):
    name = "adaptiveAveragePooling2d"
    imported_by = ("torch.nn.AdaptiveAvgPool2d",)  # globalAveragePooling2d's importer, for an output larger than 1x1
    auto_name = "adaptavgpool"
    reduce = "Avg"
    summary = "2-D adaptive average pooling to outputSize: the mean of each window of a grid that covers the input, whatever its size"


@register
class AdaptiveMaxPooling2d(_AdaptivePooling):
    name = "adaptiveMaxPooling2d"
    imported_by = ("torch.nn.AdaptiveMaxPool2d",)  # globalMaxPooling2d's importer, for an output larger than 1x1
    auto_name = "adaptmaxpool"
    reduce = "Max"
    summary = "2-D adaptive max pooling to outputSize: the maximum of each window of a grid that covers the input, whatever its size"
