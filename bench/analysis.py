"""How long graphdl takes to check a large network, against what a PyTorch user does to learn the
same shapes.

Two networks of N layers (default 10,000): a series of fully connected and ReLU layers, and a
DAG of residual units (convolution, batch norm, ReLU, addition) on 8x8 images. graphdl's front end
is timed stage by stage: parse, elaborate, analyze (structure checks, shapes, learnables, costs).
The PyTorch side is the same network written by hand as nn.Modules, traced with torch.fx and run
through fx's ShapeProp on meta tensors (no arithmetic): the usual way to get every layer's shape
without data. Medians of a few runs; the ratio is graphdl's analyze against trace + ShapeProp.

    python bench/analysis.py                 # 10,000 layers
    python bench/analysis.py --layers 2000 --runs 3
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch
from networks import residual_text, series_text  # bench/networks.py
from torch import fx, nn
from torch.fx.passes.shape_prop import ShapeProp

from graphdl.analysis import analyze
from graphdl.elaborate import elaborate
from graphdl.source import Source
from graphdl.syntax import parse


def series_torch(layers: int) -> nn.Module:
    modules = []
    for _ in range((layers - 1) // 2):
        modules += [nn.Linear(64, 64), nn.ReLU()]
    return nn.Sequential(*modules)


class Unit(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(channels)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x))) + x


def residual_torch(layers: int) -> nn.Module:
    return nn.Sequential(*[Unit(16) for _ in range((layers - 1) // 4)])


def timed(function, runs: int) -> tuple[float, object]:
    seconds, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), result


def measure(name: str, text: str, model: nn.Module, example: torch.Tensor, runs: int) -> None:
    source = Source(f"{name}.dlg", text)
    parse_time, (document, diagnostics) = timed(lambda: parse(source), runs)
    assert not diagnostics
    elaborate_time, elaboration = timed(lambda: elaborate(document), runs)
    analyze_time, analysis = timed(lambda: analyze(elaboration.graph, elaboration.quiet), runs)
    assert analysis.ok
    meta = model.to("meta")

    def shape_prop():
        traced = fx.symbolic_trace(meta)
        ShapeProp(traced).propagate(example)
        return traced

    torch_time, traced = timed(shape_prop, runs)
    assert sum(1 for n in traced.graph.nodes if n.op == "call_module") >= len(analysis.layers) - (len(analysis.layers) // 4) - 1
    layers = len(elaboration.graph)
    print(f"{name:9} {layers:>7,}  {parse_time:8.3f}  {elaborate_time:9.3f}  {analyze_time:7.3f}  {torch_time:15.3f}  {analyze_time / torch_time:5.2f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, torch {torch.__version__}")
    print("seconds, median of", args.runs, "runs; ratio = analyze / (fx trace + ShapeProp)")
    print(f"{'network':9} {'layers':>7}  {'parse':>8}  {'elaborate':>9}  {'analyze':>7}  {'trace+ShapeProp':>15}  ratio")
    measure("series", series_text(args.layers), series_torch(args.layers), torch.empty(1, 64, device="meta"), args.runs)
    measure("residual", residual_text(args.layers), residual_torch(args.layers), torch.empty(1, 16, 8, 8, device="meta"), args.runs)


if __name__ == "__main__":
    main()
