"""The summary of a network: each layer's kind, activation size, learnables and costs, and the
totals, as MATLAB's analyzeNetwork lists them; as a table for people and as JSON for programs.

Activation sizes are MATLAB's (height x width x channels); learnable sizes are the PyTorch tensors'
(`weight 20x1x5x5`), as `net.learnables` holds them. A layer that shares another's parameters
counts none of its own. Costs are per observation (per step, for sequences of any length): FLOPs
of the forward (a multiply-add counts two) and bytes of the activations a layer outputs (float32).
"""

from __future__ import annotations

from html import escape

from graphdl.analysis import Analysis, analyze
from graphdl.diagnostics import counted
from graphdl.graph import LayerGraph

# The table's columns, and those of numbers, which line up on the right.
COLUMNS = ("#", "name", "kind", "activations", "learnables", "count", "FLOPs", "memory", "description")
NUMBERS = frozenset({0, 5, 6, 7})


class Summary(str):
    """The summary as text, a `str` to print, compare or write; a notebook shows it as an HTML table
    of the same rows (`_repr_html_`), and IPython's plain display prints the text, not its repr.

    `header` is the line about the whole network, `rows` the table's rows under COLUMNS, one a
    layer, and `totals` the lines under the table."""

    header: str
    rows: tuple[tuple[str, ...], ...]
    totals: tuple[str, ...]

    def __new__(cls, header: str, rows: tuple[tuple[str, ...], ...], totals: tuple[str, ...]):
        self = super().__new__(cls, _text(header, rows, totals))
        self.header, self.rows, self.totals = header, rows, totals
        return self

    def __getnewargs__(self):
        # pickle and copy make a Summary again from its parts (str's own would pass the text).
        return self.header, self.rows, self.totals

    def _repr_html_(self) -> str:
        def cells(tag: str, row: tuple[str, ...]) -> str:
            # Explicit alignment: JupyterLab right-aligns every cell of an HTML output's tables.
            return "".join(
                f'<{tag} style="text-align:{"right" if i in NUMBERS else "left"}">{escape(cell)}</{tag}>' for i, cell in enumerate(row)
            )

        body = "\n".join(f"<tr>{cells('td', row)}</tr>" for row in self.rows)
        return (
            f"<div><p>{escape(self.header)}</p>\n"
            f"<table>\n<thead><tr>{cells('th', COLUMNS)}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>\n"
            f"<p>{'<br>'.join(escape(line) for line in self.totals)}</p></div>"
        )

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(self.rstrip("\n"))


def summary(graph: LayerGraph, analysis: Analysis | None = None) -> Summary:
    """The table of the network's layers and its totals, as text (a `Summary`, which a notebook
    shows as an HTML table)."""
    analysis = analysis or analyze(graph)
    rows = []
    for number, (name, info) in enumerate(analysis.layers.items(), 1):
        layer = info.layer
        outputs = ", ".join(str(s) if len(info.outputs) == 1 else f"{port} {s}" for port, s in info.outputs.items())
        learnables = ", ".join(f"{p} {'x'.join(map(str, size))}" for p, size in info.learnables.items()) or "-"
        count = info.num_learnables
        if layer.shares:
            learnables, count = f"shares {layer.shares}", 0
        description = layer.catalog_kind.describe(layer.args)
        rows.append((str(number), name, layer.kind, outputs, learnables, f"{count:,}", _si(info.flops), _bytes(info.memory), description))
    kind = "series network" if graph.is_series else "DAG network"
    inputs, outputs = graph.input_names, graph.output_names
    header = (
        f"{graph.name}: {kind}, {len(graph)} layers, {len(graph.connections)} connections, "
        f"{counted(len(inputs), 'input')} ({', '.join(inputs)}), {counted(len(outputs), 'output')} ({', '.join(_output(graph, name) for name in outputs)})"
    )
    per = "per observation" + (" (per step of a sequence)" if any(s.is_sequence for i in analysis.layers.values() for s in i.outputs.values()) else "")
    totals = (
        f"Total learnables: {analysis.num_learnables:,}",
        f"Forward FLOPs: {_si(analysis.flops)} {per}",
        f"Activation memory: {_bytes(analysis.memory)} {per}",
    )
    return Summary(header, tuple(rows), totals)


def _text(header: str, rows: tuple[tuple[str, ...], ...], totals: tuple[str, ...]) -> str:
    """The summary as a table in plain text: columns padded to their widest cell."""
    widths = [max(len(row[i]) for row in (COLUMNS, *rows)) for i in range(len(COLUMNS))]
    table = [
        "  ".join(cell.rjust(w) if i in NUMBERS else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
        for row in (COLUMNS, *rows)
    ]
    table.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join([header, "", *table, "", *totals]) + "\n"


def summary_data(graph: LayerGraph, analysis: Analysis | None = None) -> dict:
    """The summary as plain data (what `graphdl summary --json` prints)."""
    analysis = analysis or analyze(graph)

    def shape(s):
        return {"sizes": list(s.sizes), "format": s.format, "text": str(s)}

    layers = []
    for name, info in analysis.layers.items():
        layer = info.layer
        layers.append(
            {
                "name": name,
                "kind": layer.kind,
                "description": layer.catalog_kind.describe(layer.args),
                "inputs": {port: shape(s) for port, s in info.inputs.items()},
                "outputs": {port: shape(s) for port, s in info.outputs.items()},
                "learnables": {p: list(size) for p, size in info.learnables.items()},
                "state": {p: list(size) for p, size in info.state.items()},
                "num_learnables": 0 if layer.shares else info.num_learnables,
                "shares": layer.shares,
                "flops": info.flops,
                "memory_bytes": info.memory,
            }
        )
    return {
        "network": graph.name,
        "series": graph.is_series,
        "inputs": list(graph.input_names),
        "outputs": list(graph.output_names),
        "training_outputs": list(graph.training_outputs),
        "layers": layers,
        "connections": [str(c) for c in graph.connections],
        "num_learnables": analysis.num_learnables,
        "flops": analysis.flops,
        "memory_bytes": analysis.memory,
    }



def _si(number: int) -> str:
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if number >= scale:
            return f"{number / scale:.3g}{suffix}"
    return str(number)


def _bytes(number: int) -> str:
    for scale, suffix in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if number >= scale:
            return f"{number / scale:.3g} {suffix}"
    return f"{number} B"


def _output(graph, name: str) -> str:
    return f"{name} in training only" if name in graph.training_outputs else name
