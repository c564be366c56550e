"""The large networks of the benchmarks, as `.dlg` text: a series of fully connected and ReLU
layers, and a DAG of residual units (convolution, batch norm, ReLU, addition) on 8x8 images.

Kept apart from bench/analysis.py, which also writes them in PyTorch, so that bench/startup.py
times graphdl's stages without torch loaded, as `graphdl check` runs them: torch's objects (about
150,000) would make each of the garbage collector's full passes over the heap about twice as
slow.
"""

from __future__ import annotations


def series_text(layers: int) -> str:
    lines = ["network series {", "    input = featureInput(64)"]
    for i in range((layers - 1) // 2):
        lines += [f"    fc{i} = fullyConnected(64)", f"    act{i} = relu()"]
    return "\n".join([*lines, "}"]) + "\n"


def residual_text(layers: int) -> str:
    units = (layers - 1) // 4
    lines = [
        "block unit(channels) {",
        "    input x",
        "    output y",
        "    conv = convolution2d(3, channels, padding=1, bias=false)",
        "    bn   = batchNormalization()",
        "    act  = relu()",
        "    add  = addition()",
        "    x -> conv -> bn -> act -> add/in1",
        "    x -> add/in2",
        "    add -> y",
        "}",
        "network residual {",
        "    input = imageInput([8, 8, 16], normalization=\"none\")",
        f"    units = unit(16) for i in 1..{units}",
        "}",
    ]
    return "\n".join(lines) + "\n"
