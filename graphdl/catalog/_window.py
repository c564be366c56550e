"""Sliding windows (convolution and pooling): output sizes and MATLAB's padding rules.

Resolved statically, from the inferred input size, so that `"same"` becomes explicit numbers that
the summary can show and the torch module can use at any stride. A window slides over an image's
spatial dimensions (1, 2 or 3 of them) or, in 1-D, over the time of a sequence of features.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from graphdl.catalog._arguments import Padding
from graphdl.catalog._registry import LayerProblem
from graphdl.catalog._shape import Shape
from graphdl.diagnostics import counted

# (before, after) per slid dimension; None where MATLAB's "same" depends on a length known only
# at run time (a sequence of any length, at a stride above 1).
Pads = tuple[tuple[int, int] | None, ...]

_SPATIAL_NAMES = ("height", "width", "depth")


@dataclass(frozen=True)
class Padding1d(Padding):
    """MATLAB's padding of a 1-D window: "same", one size for both sides or [before, after]; with
    `causal`, also "causal" (a 1-D convolution's): all of it before, so that no output sees a later
    step."""

    n: int = 1
    causal: bool = False

    @property
    def expected(self) -> str:
        causal = ', "causal"' if self.causal else ""
        return f'"same"{causal}, a non-negative integer or a list of 2 [before, after]'

    def normalize(self, value: object) -> str | tuple[tuple[int, int], ...]:
        if self.causal and value == "causal":
            return "causal"
        return super().normalize(value)


def image_input(kind: str, inputs: Mapping[str, Shape], spatial_dims: int = 2) -> Shape:
    """The input of a layer that works on `spatial_dims`-D images; a 1-D layer also takes a
    sequence of features (CT), whose time it works along."""
    shape = inputs["in"]
    if spatial_dims == 1 and shape.format in ("SC", "CT"):
        return shape
    if shape.is_sequence or len(shape.spatial) != spatial_dims:
        if spatial_dims == 1:
            want = "a sequence of features (channels x time) or a 1-D image (width x channels)"
        else:
            sizes = " x ".join([*_SPATIAL_NAMES[:spatial_dims], "channels"])
            want = f"an image input ({sizes})" if spatial_dims == 2 else f"a {spatial_dims}-D image input ({sizes})"
        if shape.format == "CT":
            help = "a sequence of features is not an image: the 1-D layers (convolution1d, maxPooling1d) work along its time"
        elif shape.is_sequence:
            help = "this layer works on single images, not on sequences of them"
        else:
            help = "a fully connected layer or a flatten layer gives features, not an image; place this layer before it"
        raise LayerProblem(f"{kind} needs {want}, but gets {_describe(shape)}", help=help)
    return shape


def _describe(shape: Shape) -> str:
    return describe_shape(shape)


def describe_shape(shape: Shape) -> str:
    """`12 features`, `a 2-D image of 28x28x1`, `a sequence of 12 features`: for messages."""
    if shape.is_sequence:
        step = shape.step
        what = f"{step.channels} features" if step.format == "C" else f"{len(step.spatial)}-D images of {step}"
        return f"a sequence of {what}"
    if shape.format == "C":
        return f"{shape.channels} features"
    return f"a {len(shape.spatial)}-D image of {shape}"


def slid_sizes(shape: Shape) -> tuple[int | None, ...]:
    """The sizes a window slides over: an image's spatial ones, or a sequence's length (None:
    any)."""
    return shape.spatial if shape.spatial else (shape.length,)


@dataclass(frozen=True)
class Window:
    """A window slid over an image or a sequence (a convolution's filter, a pooling region), with
    its padding resolved to (before, after) per slid dimension."""

    input: Shape
    size: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pads: Pads
    size_arg: str  # the argument to blame when the window does not fit
    # Rounding the number of windows up (a pooling's roundingMode="ceil", torch's ceil_mode): a
    # last window that overhangs the padded input still counts, if it starts before the padding
    # after the input.
    ceil: bool = False

    @classmethod
    def of(cls, kind: str, args, inputs: Mapping[str, Shape], size_arg: str, dims: int = 2) -> Window:
        shape = image_input(kind, inputs, dims)
        size, stride = args[size_arg], args["stride"]
        dilation = args.get("dilationFactor", (1,) * len(size))
        pads = _resolve(args["padding"], slid_sizes(shape), size, stride, dilation)
        return cls(shape, size, stride, dilation, pads, size_arg, args.get("roundingMode") == "ceil")

    @property
    def over_time(self) -> bool:
        return self.input.is_sequence

    def output_size(self) -> tuple[int | None, ...]:
        sizes = []
        for n, k, s, d, pad in zip(slid_sizes(self.input), self.size, self.stride, self.dilation, self.pads):
            if n is None:
                sizes.append(None)  # a sequence of any length gives one of any length
                continue
            before, after = pad
            extent = d * (k - 1) + 1
            if extent > n + before + after:
                dilated = f" (dilated to {extent})" if d > 1 else ""
                if len(self.size) == 1:
                    what, of = f"window of {k}", (f"of {counted(n, 'step')}" if self.over_time else f"of width {n}")
                else:
                    what, of = f"{show_size(self.size)} window", show_size(self.input.spatial)
                raise LayerProblem(
                    f"the {what}{dilated} is larger than its padded input {of}",
                    code="E402",
                    argument=self.size_arg,
                    help='use a smaller window, or pad the input (padding="same")',
                )
            sizes.append(windows(n + before + after, extent, s, before=n + before if self.ceil else None))
        return tuple(sizes)

    def output(self, channels: int) -> Shape:
        """The output shape, with `channels` channels: a sequence stays a sequence."""
        sizes = self.output_size()
        return Shape.sequence(channels, sizes[0]) if self.over_time else Shape.image(*sizes, channels)

    @property
    def resolved(self) -> bool:
        """Whether the padding is known before run time."""
        return None not in self.pads

    @property
    def symmetric(self) -> bool:
        return self.resolved and all(before == after for before, after in self.pads)

    @property
    def padding(self) -> tuple[int, ...]:
        """Padding per dimension, for torch modules; meaningful when `symmetric`."""
        return tuple(before for before, _ in self.pads)

    @property
    def torch_pad(self) -> tuple[int, ...] | None:
        """The pads in the order torch.nn.functional.pad wants them, last dimension first; None
        when they are worked out at run time."""
        if not self.resolved:
            return None
        return tuple(p for before_after in reversed(self.pads) for p in before_after)


def windows(padded: int, extent: int, stride: int, before: int | None = None) -> int:
    """The number of windows of `extent` at `stride` over `padded` elements: rounded down, or with
    `before` (the input and the padding before it) rounded up, as torch's ceil_mode counts them:
    the window that rounding up adds counts if it starts before `before`. (torch drops that window
    after counting it, which with padding wider than torch allows would drop one that rounding
    down keeps.)"""
    count = (padded - extent) // stride + 1
    if before is not None and (padded - extent) % stride and count * stride < before:
        count += 1
    return count


def adaptive_windows(n: int, out: int) -> list[tuple[int, int]]:
    """torch's windows of adaptive pooling along a dimension of `n`: output i pools
    [floor(i n / out), ceil((i + 1) n / out)), so that the windows cover the input and overlap
    where `out` does not divide `n`."""
    return [(i * n // out, -(-(i + 1) * n // out)) for i in range(out)]


def same_padding(n: int, k: int, s: int, d: int = 1) -> tuple[int, int]:
    """MATLAB's "same" for one dimension of size n: the output is ceil(n / s), and an odd total
    puts the extra row or column at the bottom or right."""
    out = -(-n // s)
    return _split(max((out - 1) * s + d * (k - 1) + 1 - n, 0))


def _split(total: int) -> tuple[int, int]:
    return total // 2, total - total // 2


def _resolve(padding, sizes: tuple[int | None, ...], window: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]) -> Pads:
    """Explicit (before, after) padding per dimension, for "same" and "causal" too."""
    if padding == "causal":
        # All of it before: no output sees a later step, and at stride 1 the length is kept.
        return tuple((d * (k - 1), 0) for k, d in zip(window, dilation))
    if padding != "same":
        return padding
    pads = []
    for n, k, s, d in zip(sizes, window, stride, dilation):
        if n is None:
            # At stride 1 "same" pads the same whatever the length; else it is known per call.
            pads.append(_split(d * (k - 1)) if s == 1 else None)
        else:
            pads.append(same_padding(n, k, s, d))
    return tuple(pads)


def show_size(sizes: tuple[int, ...]) -> str:
    return "x".join(map(str, sizes))


def show_padding(padding) -> str:
    """MATLAB's padding (or cropping) as a summary shows it: 'same', 1x1, [0 1 2 3]."""
    if isinstance(padding, str):
        return f"'{padding}'"
    if all(before == after for before, after in padding):
        return show_size(tuple(before for before, _ in padding))
    return "[" + " ".join(f"{b} {a}" for b, a in padding) + "]"


def describe_window(what: str, args, size_arg: str) -> str:
    """"20 5x5 convolutions with stride 1x1 and padding 'same'", from a window's arguments; a 1-D
    window says "convolutions of size 5"."""
    size = args[size_arg]
    shown = f"{what} of size {size[0]}" if len(size) == 1 else f"{show_size(size)} {what}"
    return f"{shown} with stride {show_size(args['stride'])} and padding {show_padding(args['padding'])}"
