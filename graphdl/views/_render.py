"""Pictures of a network: DOT text, and SVG, PNG or PDF drawn by Graphviz.

`to_dot` is pure (its output is what the golden tests compare); `render` writes a file, in the
format its suffix names. Graphviz is found as `$GRAPHDL_DOT`, else the system's `dot`, else the
`graphviz-pure` program that graphdl's install brings, so that rendering works on a machine with
no system Graphviz. graphviz-pure writes no PDF: there, the SVG is converted with svglib.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import shutil
import subprocess
import sysconfig
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from graphdl.analysis import Analysis, analyze
from graphdl.catalog import CATEGORIES, Category
from graphdl.diagnostics import Diagnostic, error
from graphdl.graph import LayerGraph
from graphdl.views._groups import Group, drawn_as, folding, groups
from graphdl.views._layers import ERROR, layers_with_errors, output_size, port_count, says_more
from graphdl.views._page import page
from graphdl.views._summary import _si

FORMATS = ("dot", "svg", "png", "pdf", "html")
RANKDIRS = ("TB", "LR")

_BLOCK = Category("block", "#f8fafc", "#475569")  # a folded block, whatever its layers
_MUTED = "#6b7280"  # port names, the output marks, the titles of blocks

# Boxes are measured in DejaVu Sans, the widest of the common sans-serif fonts (Verdana's metrics),
# and the SVG asks for it first, then narrower ones: whichever font a viewer has, the text fits.
# graphviz-pure's own PNG rasteriser has Helvetica, not DejaVu, so PNGs are measured in that.
_FONT = "DejaVu Sans"
_FONT_STACK = "DejaVu Sans,Verdana,Bitstream Vera Sans,Arial,Helvetica,sans-serif"


@dataclass(frozen=True)
class Picture:
    """How to draw a network. `depth` folds each block of that depth into one node (1: the
    network's top level; None: every layer shown); `expand` names blocks drawn open whatever their
    depth; `rollup` draws a run of identical folded blocks, each feeding the next, as one node;
    `rankdir` lays the layers out top to bottom (TB) or left to right (LR); `compact` writes only
    names in the boxes (sizes stay on the arrows); `legend` adds a key of the colours."""

    depth: int | None = None
    expand: frozenset[str] = frozenset()
    rollup: bool = True
    rankdir: str = "TB"
    compact: bool = False
    legend: bool = False
    font: str = _FONT

    def __post_init__(self):
        if self.rankdir not in RANKDIRS:
            raise error("E016", f"unknown layout direction `{self.rankdir}`", help=f"use one of {', '.join(RANKDIRS)}")
        object.__setattr__(self, "expand", frozenset(self.expand))


def to_dot(graph: LayerGraph, analysis: Analysis | None = None, **picture) -> str:
    """The DOT source of a picture of the network: a box per layer (name, kind, what it does),
    coloured by the kind's category, and an arrow per connection labelled with the size of the
    activation it carries. The layers of a block instance are framed together, under its name, or
    folded into one box at the depth asked for (the keywords are `Picture`'s); layers with errors
    are drawn in red, layers that share another's weights dashed, and each output is marked."""
    return _Drawing(graph, analysis or analyze(graph), Picture(**picture)).dot()


class _Drawing:
    """One picture being drawn: which node draws each layer, then the DOT text of it all."""

    def __init__(self, graph: LayerGraph, analysis: Analysis, picture: Picture):
        self.graph, self.analysis, self.picture = graph, analysis, picture
        self.tree = groups(graph, analysis)
        unfolded = folding(self.tree, picture.depth, picture.expand)
        self.broken = layers_with_errors(graph, analysis.diagnostics)
        self.node_of = drawn_as(graph, self.tree, unfolded)
        self.runs = _runs(graph, analysis, self.tree, self.node_of) if picture.rollup else {}
        self.node_of = {layer: self.runs.get(node, (node,))[0] for layer, node in self.node_of.items()}
        self.categories: dict[str, Category] = {}  # those drawn, for the legend

    def dot(self) -> str:
        font, horizontal = self.picture.font, self.picture.rankdir == "LR"
        lines = [
            f"digraph {_id(self.graph.name)} {{",
            f'  graph [rankdir={self.picture.rankdir}, fontname="{font}", nodesep={0.25 if horizontal else 0.35}, ranksep=0.25];',
            f'  node [shape=box, style="rounded,filled", fontname="{font}", fontsize=11, penwidth=1.3, margin="0.15,0.07"];',
            f'  edge [fontname="{font}", fontsize=9, color="#4b5563", fontcolor="#374151", arrowsize=0.7];',
        ]
        self._contents("", _top_level(self.graph), lines, "  ")
        lines += self._edges()
        lines += self._outputs()
        if self.picture.legend:
            lines.append(self._legend())
        lines.append("}")
        return "\n".join(lines) + "\n"

    def _contents(self, prefix: str, names, lines: list[str], indent: str) -> None:
        """Nodes for the layers and folded blocks among `names`, and a frame for each open block."""
        for name in names:
            group = self.tree.get(name)
            if group is None:
                lines.append(indent + self._layer(self.graph[name], prefix))
                continue
            drawn_by = self.node_of[group.layers[0]]
            if drawn_by == name:
                lines.append(indent + self._block(group, prefix))
            elif not drawn_by.startswith(name + "."):
                continue  # a later part of a roll-up: its first draws it
            else:
                lines.append(f"{indent}subgraph {_id('cluster_' + name)} {{")
                kind = f' <font point-size="9">{_html(group.kind)}</font>' if group.block or group.parts_block else ""
                # The title sits at the top left, clear of the arrows that come in at the middle.
                title = f"label=<{_html(_within(name, prefix))}{kind}>; labeljust=l"
                lines.append(f'{indent}  {title}; style="rounded,dashed"; color="#9ca3af"; fontcolor="{_MUTED}"; fontsize=10;')
                self._contents(name + ".", group.children, lines, indent + "  ")
                lines.append(f"{indent}}}")

    def _layer(self, layer, prefix: str) -> str:
        """A layer's box: its name (within the frame it is drawn in), kind and description; a
        cell per port where it has several, on the side its arrows come in or go out, so that port
        names sit beside the arrows, never on them."""
        kind = layer.catalog_kind if layer.valid else None
        colours = ERROR if layer.name in self.broken or kind is None else CATEGORIES[kind.category]
        self.categories[colours.name] = colours
        lines = []
        if not self.picture.compact:
            detail = kind.describe(layer.args) if kind else ""
            lines = [layer.kind or "?"] + ([detail] if says_more(detail, layer.kind) else [])
        dashed = False
        # Every layer of a shared block instance names its owner; only those with weights share any.
        if layer.shares and self._has_weights(layer.name):
            lines.append(f"shares {layer.shares}")
            dashed = True
        text = _text(_within(layer.name, prefix), lines)
        inputs = layer.input_ports if kind and len(layer.input_ports) > 1 else ()
        outputs = layer.output_ports if kind and len(layer.output_ports) > 1 else ()
        if not inputs and not outputs:
            style = ', style="rounded,filled,dashed"' if dashed else ""
            return f'{_id(layer.name)} [label=<{text}>, fillcolor="{colours.fill}", color="{colours.border}"{style}];'
        style = "rounded,dashed" if dashed else "rounded"
        table = f'<table border="1" cellborder="0" cellspacing="0" cellpadding="2" style="{style}" bgcolor="{colours.fill}" color="{colours.border}">'
        if self.picture.rankdir == "LR":
            rows = max(len(inputs), len(outputs))
            left = [_port(p) for p in inputs] + ["<td></td>"] * (rows - len(inputs))
            right = [_port(p) for p in outputs] + ["<td></td>"] * (rows - len(outputs))
            body = f'<td rowspan="{rows}" cellpadding="5">{text}</td>'
            cells = [left[0] + body + right[0]] + [a + b for a, b in zip(left[1:], right[1:])]
        else:
            span = max(len(inputs), len(outputs), 1)
            body = f'<td colspan="{span}" cellpadding="5">{text}</td>'
            cells = ["".join(map(_port, inputs))] * bool(inputs) + [body] + ["".join(map(_port, outputs))] * bool(outputs)
        rows = "".join(f"<tr>{cell}</tr>" for cell in cells)
        return f'{_id(layer.name)} [shape=plain, style="", label=<{table}{rows}</table>>];'

    def _block(self, group: Group, prefix: str) -> str:
        """A folded block: its name (the first and last of a roll-up's), what it is, and its
        layers' totals, drawn doubled like a stack of the layers inside."""
        run = self.runs.get(group.name, (group.name,))
        members = [self.tree[part] for part in run]
        name = _within(group.name, prefix) + (f" .. {_within(run[-1], prefix)}" if len(run) > 1 else "")
        kind = group.kind if len(run) == 1 else f"{len(run)} x {group.kind}"
        colours = ERROR if any(layer in self.broken for member in members for layer in member.layers) else _BLOCK
        self.categories[colours.name] = colours
        learnables, flops = sum(m.learnables for m in members), sum(m.flops for m in members)
        lines = [kind, f"{_si(learnables)} learnables, {_si(flops)} FLOPs"]
        # A block whose weights are another's (a Siamese twin) says whose, as its layers would.
        owners = {self.graph[n].shares for m in members for n in m.layers if self.graph[n].shares and self._has_weights(n)}
        style = ""
        if owners:
            common = itertools.takewhile(lambda parts: len(set(parts)) == 1, zip(*(o.split(".") for o in owners)))
            owner = ".".join(parts[0] for parts in common) or ", ".join(sorted(owners))
            lines[1] = f"shares {owner}"
            style = ', style="rounded,filled,dashed"'
        text = _text(name, [] if self.picture.compact else lines)
        return f'{_id(group.name + "/")} [label=<{text}>, fillcolor="{colours.fill}", color="{colours.border}", peripheries=2{style}];'

    def _has_weights(self, layer: str) -> bool:
        info = self.analysis.layers.get(layer)
        return info is None or bool(info.learnables)

    def _node_id(self, node: str) -> str:
        # A folded block's node is its name and a slash, which no layer's name can hold.
        return _id(node + "/") if node in self.tree else _id(node)

    def _edges(self) -> list[str]:
        """An arrow per connection between two drawn nodes, labelled with the size it carries;
        connections that join the same two nodes (into a folded block) share one arrow."""
        lines, seen = [], set()
        into, out_of = ("w", "e") if self.picture.rankdir == "LR" else ("n", "s")
        for c in self.graph.connections:
            tail, head = self.node_of[c.source], self.node_of[c.destination]
            if tail == head:
                continue
            tail_port = c.source_port if tail == c.source and port_count(self.graph[c.source], "output") > 1 else None
            head_port = c.destination_port if head == c.destination and port_count(self.graph[c.destination], "input") > 1 else None
            if (tail, tail_port, head, head_port) in seen:
                continue
            seen.add((tail, tail_port, head, head_port))
            size = output_size(self.analysis, c.source, c.source_port)
            label = f' [label=" {size}"]' if size else ""
            start = self._node_id(tail) + (f":{_id(tail_port)}:{out_of}" if tail_port else "")
            end = self._node_id(head) + (f":{_id(head_port)}:{into}" if head_port else "")
            lines.append(f"  {start} -> {end}{label};")
        return lines

    def _outputs(self) -> list[str]:
        """A small "output" mark after each of the network's outputs, with its size on the arrow."""
        lines = []
        out_of = "e" if self.picture.rankdir == "LR" else "s"
        for output in self.graph.output_names:
            layer, _, port = output.partition("/")
            info = self.analysis.layers.get(layer)
            if not port and info is not None and len(info.outputs) == 1:
                port = next(iter(info.outputs))
            size = output_size(self.analysis, layer, port)
            label = f'label=" {size}", ' if size else ""
            node = self.node_of[layer]
            many = node == layer and port_count(self.graph[layer], "output") > 1
            start = self._node_id(node) + (f":{_id(port)}:{out_of}" if many else "")
            mark = _id("output:" + output)
            lines.append(f'  {mark} [shape=plain, style="", label=<<font point-size="9" color="{_MUTED}">output {_html(output)}</font>>];')
            lines.append(f"  {start} -> {mark} [{label}style=dashed, arrowhead=empty];")
        return lines

    def _legend(self) -> str:
        cells = "".join(
            f'<td bgcolor="{c.fill}" color="{c.border}" border="1" style="rounded">{_html(name)}</td>' for name, c in sorted(self.categories.items())
        )
        table = f'<table border="1" cellborder="0" color="#d1d5db" style="rounded" cellspacing="4" cellpadding="3"><tr><td>colours:</td>{cells}</tr></table>'
        return f'  "legend:" [shape=plain, style="", label=<{table}>, fontsize=9];'


def _within(name: str, prefix: str) -> str:
    """A name as shown inside the frame of `prefix`: without the prefix (`conv1`), but with the
    frame's own name before a number (`layer1.0`, not `0`)."""
    shown = name[len(prefix) :]
    return prefix.rstrip(".").rsplit(".", 1)[-1] + "." + shown if shown[:1].isdigit() and prefix else shown


def _text(name: str, lines: list[str]) -> str:
    """A box's text: the name in bold, then smaller lines."""
    small = "<br/>".join(_html(line) for line in lines)
    return f"<b>{_html(name)}</b>" + (f'<br/><font point-size="9">{small}</font>' if small else "")


def _port(name: str) -> str:
    return f'<td port="{_html(name)}"><font point-size="8" color="{_MUTED}">{_html(name)}</font></td>'


def _top_level(graph: LayerGraph) -> list[str]:
    """The layers and groups the network holds directly, in order."""
    return list(dict.fromkeys(layer.name.split(".")[0] for layer in graph.layers))


def _runs(graph: LayerGraph, analysis: Analysis, tree: dict[str, Group], node_of: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """Runs of folded blocks to draw as one node: consecutive parts of an open group (or of the
    top level) that instantiate the same block with the same layers, arguments and sizes, each fed
    by the one before it alone and feeding the next alone. Each member maps to its whole run."""
    folded = set(node_of.values()) & set(tree)
    feeds: dict[str, set[str]] = {}
    fed_by: dict[str, set[str]] = {}
    for c in graph.connections:
        tail, head = node_of[c.source], node_of[c.destination]
        if tail != head:
            feeds.setdefault(tail, set()).add(head)
            fed_by.setdefault(head, set()).add(tail)
    signature = functools.cache(lambda name: _signature(graph, analysis, tree[name]))
    runs: dict[str, tuple[str, ...]] = {}
    for names in [_top_level(graph)] + [list(g.children) for g in tree.values() if g.name not in folded]:
        run: list[str] = []
        for name in [*names, None]:
            if run and name in folded and signature(name) == signature(run[-1]) and feeds.get(run[-1]) == {name} and fed_by.get(name) == {run[-1]}:
                run.append(name)
                continue
            if len(run) > 1:
                runs.update(dict.fromkeys(run, tuple(run)))
            run = [name] if name in folded and tree[name].block else []
    return runs


def _signature(graph: LayerGraph, analysis: Analysis, group: Group) -> tuple:
    """What makes two folded blocks the same: the block, and each layer's name within it, kind,
    arguments and output sizes."""
    start = len(group.name) + 1
    layers = []
    for name in group.layers:
        layer, info = graph[name], analysis.layers.get(name)
        arguments = sorted(layer.args.items()) if layer.valid else layer.arguments
        layers.append((name[start:], layer.kind, repr(arguments), None if info is None else tuple(map(str, info.outputs.values()))))
    return group.block, tuple(layers)


def render(
    graph: LayerGraph, path: str | Path, analysis: Analysis | None = None, *, diagnostics: Sequence[Diagnostic] | None = None, **picture
) -> Path:
    """Draw the network to `path`; the suffix chooses the format: .dot, .svg, .png or .pdf, or
    .html for the interactive page (docs/render.md), which also shows `diagnostics` (by default
    the analysis's). The keywords say how to draw a picture (they are `Picture`'s): `depth=1` folds
    every block into one box, `rankdir="LR"` lays the network out left to right."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise error("E010", f"cannot render to {path}: unknown format `.{fmt}`", help=f"use one of {', '.join('.' + f for f in FORMATS)}")
    if fmt == "png":
        picture.setdefault("font", "Helvetica")
    dot = to_dot(graph, analysis, **picture) if fmt != "html" else ""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "html":  # the page lays the network out itself, folding as the reader clicks
            shown = Picture(**picture)
            path.write_text(page(graph, analysis, diagnostics, depth=shown.depth, expand=shown.expand), encoding="utf-8")
            return path
        if fmt == "dot":
            path.write_text(dot, encoding="utf-8")
            return path
        program = graphviz_program()
        if fmt == "pdf" and Path(program).name.startswith("graphviz-pure"):
            _svg_to_pdf(_run(program, "svg", dot), path)
        elif fmt == "svg":
            path.write_text(_svg(_run(program, fmt, dot)), encoding="utf-8")
        else:
            path.write_bytes(_run(program, fmt, dot))
    except OSError as e:
        raise error("E006", f"cannot write {path}: {e.strerror or e}", os_error=e) from e
    return path


def to_svg(graph: LayerGraph, analysis: Analysis | None = None, **picture) -> str:
    """The picture as SVG text, drawn by Graphviz: what a notebook shows. The keywords are
    `Picture`'s."""
    return _svg(_run(graphviz_program(), "svg", to_dot(graph, analysis, **picture)))


def _svg(drawn: bytes) -> str:
    """Graphviz's SVG, asking for the fonts the boxes were measured for (see _FONT)."""
    return re.sub(r'font-family="DejaVu Sans[^"]*"', f'font-family="{_FONT_STACK}"', drawn.decode("utf-8"))


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


def _id(name: str) -> str:
    """A DOT quoted string: any name, quotes and backslashes included, stays one identifier."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
