"""Networks in a Jupyter notebook: a LayerGraph, an Analysis and a DLNetwork show as their picture.

The three cannot draw themselves with a `_repr_svg_` method: LayerGraph and Analysis come before
views in the pipeline, and DLNetwork's stage imports torch, which views never does. So views hands
IPython a drawing function for each, registered by the class's module and name: IPython matches
them (subclasses too, as each network's own DLNetwork class) without importing them, so showing a
graph never loads torch (docs/decisions.md, "Rendering").
"""

from __future__ import annotations

import re
import subprocess
import warnings
from functools import partial

from graphdl.diagnostics import GraphdlError
from graphdl.views._render import to_svg

# The widest a picture is shown, in points (960 pixels): about a notebook cell's width on a laptop.
# Wider ones are scaled down to it, since JupyterLab and VS Code show an SVG at the width it states
# (in an <img>, which no style inside the SVG can shrink) and scroll what overflows, and a picture
# as tall as ResNet-50's (over 12,000 points) has its scroll bar thousands of pixels below the top.
WIDEST = 720

# Where each class lives, and the graph and analysis its picture draws (an Analysis's errors in red).
PICTURED = {
    ("graphdl.graph._layer_graph", "LayerGraph"): lambda graph: (graph, None),
    ("graphdl.analysis", "Analysis"): lambda analysis: (analysis.graph, analysis),
    ("graphdl.compiler._network", "DLNetwork"): lambda net: (net.graph, net.analysis),
}


def show_pictures_in(display_formatter) -> None:
    """Have IPython's `display_formatter` (its shell's) show LayerGraph, Analysis and DLNetwork
    as SVG pictures, beside their text, which stays as it is."""
    svg = display_formatter.formatters["image/svg+xml"]
    for (module, name), parts in PICTURED.items():
        svg.for_type_by_name(module, name, partial(_picture, parts))


def _picture(parts, value) -> str | None:
    """The SVG of `value`, or None when Graphviz cannot draw it: IPython then shows the text alone,
    where an exception would put a traceback in the notebook each time the value is shown."""
    graph, analysis = parts(value)
    try:
        return _narrowed(to_svg(graph, analysis))
    except (GraphdlError, subprocess.TimeoutExpired) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        warnings.warn(f"graphdl shows {graph.name!r} without its picture: {reason}", stacklevel=2)
        return None


def _narrowed(svg: str) -> str:
    """The SVG no wider than WIDEST: the size its root states, shrunk keeping its shape; Graphviz's
    viewBox scales the drawing with it."""
    size = re.search(r'<svg width="([0-9.]+)pt" height="([0-9.]+)pt"', svg)
    if size is None or float(size[1]) <= WIDEST:
        return svg
    height = float(size[2]) * WIDEST / float(size[1])
    return svg[: size.start()] + f'<svg width="{WIDEST}pt" height="{height:.0f}pt"' + svg[size.end() :]
