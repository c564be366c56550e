"""The summary table of a network: each layer's kind, activation size and learnables, and totals,
as MATLAB's analyzeNetwork lists them. Activation sizes are MATLAB's (height x width x channels);
learnable sizes are the PyTorch tensors' (`weight 20x1x5x5`), as `net.learnables` holds them.
A layer that shares another's parameters counts none of its own."""

from __future__ import annotations

from graphdl.analysis import Analysis, analyze
from graphdl.graph import LayerGraph


def summary(graph: LayerGraph, analysis: Analysis | None = None) -> str:
    analysis = analysis or analyze(graph)
    rows = [("#", "name", "kind", "activations", "learnables", "count", "description")]
    for number, (name, info) in enumerate(analysis.layers.items(), 1):
        layer = info.layer
        outputs = ", ".join(str(s) if len(info.outputs) == 1 else f"{port} {s}" for port, s in info.outputs.items())
        learnables = ", ".join(f"{p} {'x'.join(map(str, size))}" for p, size in info.learnables.items()) or "-"
        count = info.num_learnables
        if layer.shares:
            learnables, count = f"shares {layer.shares}", 0
        rows.append((str(number), name, layer.kind, outputs, learnables, f"{count:,}", layer.catalog_kind.describe(layer.args)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    right = {0, 5}
    table = [
        "  ".join(cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
        for row in rows
    ]
    table.insert(1, "  ".join("-" * w for w in widths))
    kind = "series network" if graph.is_series else "DAG network"
    inputs, outputs = graph.input_names, graph.output_names
    header = (
        f"{graph.name}: {kind}, {len(graph)} layers, {len(graph.connections)} connections, "
        f"{_count(inputs, 'input')} ({', '.join(inputs)}), {_count(outputs, 'output')} ({', '.join(outputs)})"
    )
    return "\n".join([header, "", *table, "", f"Total learnables: {analysis.num_learnables:,}"]) + "\n"


def _count(names, word: str) -> str:
    return f"{len(names)} {word}{'s' if len(names) != 1 else ''}"
