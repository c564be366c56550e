"""Pictures of a network: DOT text, and SVG, PNG or PDF drawn by Graphviz.

`to_dot` is pure (its output is what the golden tests compare); `render` writes a file, in the
format its suffix names. Graphviz is found as `$GRAPHDL_DOT`, else the system's `dot`, else the
`graphviz-pure` program that graphdl's install brings, so that rendering works on a machine with
no system Graphviz. graphviz-pure writes no PDF: there, the SVG is converted with svglib.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

from graphdl.analysis import Analysis, analyze
from graphdl.catalog import CATEGORIES, Category
from graphdl.diagnostics import Diagnostic, error
from graphdl.graph import LayerGraph

FORMATS = ("dot", "svg", "png", "pdf")

_ERROR = Category("error", "#fee2e2", "#dc2626")  # a layer with an error, whatever its kind


def to_dot(graph: LayerGraph, analysis: Analysis | None = None) -> str:
    """The DOT source of a picture of the network: a box per layer (name, kind, what it does),
    coloured by the kind's category, and an arrow per connection labelled with the size of the
    activation it carries. The layers of a block instance are framed together, under its name;
    layers with errors are drawn in red, layers that share another's parameters dashed."""
    analysis = analysis or analyze(graph)
    broken = _layers_with_errors(graph, analysis.diagnostics)
    lines = [
        f"digraph {_id(graph.name)} {{",
        '  graph [rankdir=TB, fontname="Helvetica", nodesep=0.35, ranksep=0.4];',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, penwidth=1.3, margin="0.15,0.06"];',
        '  edge [fontname="Helvetica", fontsize=9, color="#4b5563", fontcolor="#374151", arrowsize=0.7];',
    ]
    _groups(graph.layers, "", lambda layer: _node(layer, broken, analysis.layers.get(layer.name)), lines, "  ")
    for c in graph.connections:
        attributes = []
        source = analysis.layers.get(c.source)
        if source is not None and c.source_port in source.outputs:
            attributes.append(f'label=" {source.outputs[c.source_port]}"')
        destination = graph[c.destination]
        if destination.valid and len(destination.input_ports) > 1:
            attributes.append(f'headlabel="{c.destination_port}", labeldistance=1.6')
        if graph[c.source].valid and len(graph[c.source].output_ports) > 1:
            attributes.append(f'taillabel="{c.source_port}"')
        suffix = f" [{', '.join(attributes)}]" if attributes else ""
        lines.append(f"  {_id(c.source)} -> {_id(c.destination)}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node(layer, broken: set[str], info) -> str:
    kind = layer.catalog_kind if layer.valid else None
    detail = kind.describe(layer.args) if kind else ""
    colours = _ERROR if layer.name in broken or kind is None else CATEGORIES[kind.category]
    lines = [layer.kind or "?"] + ([detail] if _adds_to(detail, layer.kind) else [])
    style = ""
    # Every layer of a shared block instance names its owner; only those with weights share any.
    if layer.shares and (info is None or info.learnables):
        lines.append(f"shares {layer.shares}")
        style = ', style="rounded,filled,dashed"'
    small = "<br/>".join(_html(line) for line in lines)
    label = f'<<b>{_html(layer.name)}</b><br/><font point-size="9">{small}</font>>'
    return f'{_id(layer.name)} [label={label}, fillcolor="{colours.fill}", color="{colours.border}"{style}];'


def _groups(layers, prefix: str, node, lines: list[str], indent: str) -> None:
    """The layers whose names start with `prefix`: those directly in it as nodes, the others in a
    frame per next part of their names (`stage`, then `stage.1`, ...), in the order they come."""
    inner: dict[str, list] = {}
    for layer in layers:
        rest = layer.name[len(prefix) :]
        if "." in rest:
            inner.setdefault(prefix + rest.split(".")[0], []).append(layer)
        else:
            inner.setdefault(layer.name, None)
            lines.append(indent + node(layer))
    for group, members in inner.items():
        if members is None:
            continue
        lines.append(f'{indent}subgraph {_id("cluster_" + group)} {{')
        lines.append(f'{indent}  label={_id(group)}; style="rounded,dashed"; color="#9ca3af"; fontcolor="#4b5563"; fontsize=10;')
        _groups(members, group + ".", node, lines, indent + "  ")
        lines.append(f"{indent}}}")


def render(graph: LayerGraph, path: str | Path, analysis: Analysis | None = None) -> Path:
    """Draw the network to `path`; the suffix chooses the format: .dot, .svg, .png or .pdf."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise error("E010", f"cannot render to {path}: unknown format `.{fmt}`", help=f"use one of {', '.join('.' + f for f in FORMATS)}")
    dot = to_dot(graph, analysis)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "dot":
            path.write_text(dot, encoding="utf-8")
            return path
        program = graphviz_program()
        if fmt == "pdf" and Path(program).name.startswith("graphviz-pure"):
            _svg_to_pdf(_run(program, "svg", dot), path)
        else:
            path.write_bytes(_run(program, fmt, dot))
    except OSError as e:
        raise error("E006", f"cannot write {path}: {e.strerror or e}", os_error=e) from e
    return path


def graphviz_program() -> str:
    """The Graphviz `dot` to run; see the module docstring for the order of the search."""
    explicit = os.environ.get("GRAPHDL_DOT")
    if explicit:
        return explicit
    scripts = sysconfig.get_path("scripts")
    for name, where in (("dot", None), ("graphviz-pure", None), ("graphviz-pure", scripts)):
        found = shutil.which(name, path=where)
        if found:
            return found
    raise error(
        "E008",
        "cannot find Graphviz to draw the picture",
        help="`pip install graphviz-pure` (a dependency of graphdl), or install Graphviz's `dot`; `.dot` output needs neither",
    )


def _run(program: str, fmt: str, dot: str) -> bytes:
    arguments = [program, f"-T{fmt}"] + (["-Gdpi=144"] if fmt == "png" else [])
    try:
        result = subprocess.run(arguments, input=dot.encode(), capture_output=True, check=False, timeout=120)
    except OSError as e:
        raise error("E009", f"cannot run Graphviz ({program}): {e.strerror or e}") from e
    if result.returncode != 0:
        raise error("E009", f"Graphviz ({program}) failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout


def _svg_to_pdf(svg: bytes, path: Path) -> None:
    import io
    import logging

    try:
        from reportlab.graphics import renderPDF
        from svglib.svglib import svg2rlg
    except ImportError as e:
        raise error(
            "E008",
            "graphviz-pure writes no PDF, and turning its SVG into PDF needs the package svglib",
            help='pip install "graphdl[pdf]", or install Graphviz\'s `dot`; .svg and .png need neither',
        ) from e

    logging.getLogger("svglib").setLevel(logging.ERROR)
    drawing = svg2rlg(io.BytesIO(svg))
    renderPDF.drawToFile(drawing, str(path))


def _layers_with_errors(graph: LayerGraph, diagnostics: tuple[Diagnostic, ...]) -> set[str]:
    """Invalid layers, and those whose declaration holds the span of an error."""
    broken = {layer.name for layer in graph.layers if not layer.valid}
    for d in diagnostics:
        if d.is_error and d.span:
            broken |= {
                layer.name
                for layer in graph.layers
                if any(s and s.path == d.span.path and s.start <= d.span.start < s.end for s in (layer.span, layer.name_span))
            }
    return broken


def _adds_to(detail: str, kind: str) -> bool:
    """Whether a layer's description says more than its kind's name ("ReLU" does not)."""
    return bool(detail) and detail.lower().replace(" ", "") != kind.lower()


def _id(name: str) -> str:
    """A DOT quoted string: any name, quotes and backslashes included, stays one identifier."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
