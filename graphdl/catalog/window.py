"""Sliding windows (convolution and pooling): output sizes and MATLAB's padding rules.

Resolved statically, from the inferred input size, so that `"same"` becomes explicit numbers that
the summary can show and the torch module can use at any stride.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from graphdl.catalog.registry import LayerProblem
from graphdl.shape import Shape

Pads = tuple[tuple[int, int], ...]


def image_input(kind: str, inputs: Mapping[str, Shape], spatial_dims: int = 2) -> Shape:
    shape = inputs["in"]
    if len(shape.spatial) != spatial_dims:
        want = " x ".join(["height", "width", "depth"][:spatial_dims] + ["channels"])
        raise LayerProblem(
            f"{kind} needs an image input ({want}), but gets {_describe(shape)}",
            help="a fully connected layer or a flatten layer gives features, not an image; place this layer before it",
        )
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


@dataclass(frozen=True)
class Window:
    """A window slid over an image (a convolution's filter, a pooling region), with its padding
    resolved to (before, after) per spatial dimension."""

    input: Shape
    size: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pads: Pads
    size_arg: str  # the argument to blame when the window does not fit

    @classmethod
    def of(cls, kind: str, args, inputs: Mapping[str, Shape], size_arg: str) -> Window:
        shape = image_input(kind, inputs)
        size, stride = args[size_arg], args["stride"]
        dilation = args.get("dilationFactor", (1,) * len(size))
        return cls(shape, size, stride, dilation, _resolve(args["padding"], shape.spatial, size, stride, dilation), size_arg)

    def output_size(self) -> tuple[int, ...]:
        sizes = []
        for n, k, s, d, (before, after) in zip(self.input.spatial, self.size, self.stride, self.dilation, self.pads):
            extent = d * (k - 1) + 1
            if extent > n + before + after:
                dilated = f" (dilated to {extent})" if d > 1 else ""
                raise LayerProblem(
                    f"the {show_size(self.size)} window{dilated} is larger than its padded input {show_size(self.input.spatial)}",
                    code="E402",
                    argument=self.size_arg,
                    help='use a smaller window, or pad the input (padding="same")',
                )
            sizes.append((n + before + after - extent) // s + 1)
        return tuple(sizes)

    @property
    def symmetric(self) -> bool:
        return all(before == after for before, after in self.pads)

    @property
    def padding(self) -> tuple[int, ...]:
        """Padding per dimension, for torch modules; meaningful when `symmetric`."""
        return tuple(before for before, _ in self.pads)

    @property
    def torch_pad(self) -> tuple[int, ...]:
        """The pads in the order torch.nn.functional.pad wants them: last dimension first."""
        return tuple(p for before_after in reversed(self.pads) for p in before_after)


def _resolve(padding, size: tuple[int, ...], window: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]) -> Pads:
    """Explicit (before, after) padding per dimension. For "same", the output is ceil(size /
    stride) and an odd total puts the extra row or column at the bottom or right, as MATLAB
    does."""
    if padding != "same":
        return padding
    pads = []
    for n, k, s, d in zip(size, window, stride, dilation):
        out = -(-n // s)
        total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def show_size(sizes: tuple[int, ...]) -> str:
    return "x".join(map(str, sizes))


def describe_window(what: str, args, size_arg: str) -> str:
    """"20 5x5 convolutions with stride 1x1 and padding 'same'", from a window's arguments."""
    padding = args["padding"]
    if padding == "same":
        shown = "'same'"
    elif all(before == after for before, after in padding):
        shown = show_size(tuple(before for before, _ in padding))
    else:
        shown = "[" + " ".join(f"{b} {a}" for b, a in padding) + "]"
    return f"{show_size(args[size_arg])} {what} with stride {show_size(args['stride'])} and padding {shown}"
