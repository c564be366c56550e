"""Sliding windows (convolution and pooling): output sizes and MATLAB's padding rules.

Resolved statically, from the inferred input size, so that `"same"` becomes explicit numbers that
the summary can show and the torch module can use at any stride.
"""

from __future__ import annotations

from collections.abc import Mapping

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
    if shape.format == "C":
        return f"{shape.channels} features"
    return f"a {len(shape.spatial)}-D image of {shape}"


def resolve_padding(padding, size: tuple[int, ...], window: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]) -> Pads:
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


def output_size(shape: Shape, window: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...], pads: Pads, *, window_arg: str) -> tuple[int, ...]:
    sizes = []
    for n, k, s, d, (before, after) in zip(shape.spatial, window, stride, dilation, pads):
        extent = d * (k - 1) + 1
        if extent > n + before + after:
            dilated = f" (dilated to {extent})" if d > 1 else ""
            raise LayerProblem(
                f"the {'x'.join(map(str, window))} window{dilated} is larger than its padded input "
                f"{'x'.join(map(str, shape.spatial))}",
                code="E402",
                argument=window_arg,
                help='use a smaller window, or pad the input (padding="same")',
            )
        sizes.append((n + before + after - extent) // s + 1)
    return tuple(sizes)


def is_symmetric(pads: Pads) -> bool:
    return all(before == after for before, after in pads)


def torch_pad(pads: Pads) -> tuple[int, ...]:
    """Pads in the order torch.nn.functional.pad wants: last dimension first."""
    return tuple(p for before_after in reversed(pads) for p in before_after)


def show_pads(pads: Pads) -> str:
    if is_symmetric(pads):
        return "x".join(str(before) for before, _ in pads)
    return "[" + " ".join(f"{b} {a}" for b, a in pads) + "]"
