"""How long `graphdl render` takes to draw big networks, stage by stage: check the file (parse,
elaborate, analyze), write the DOT text, and lay it out and draw it with Graphviz (whichever
`graphdl render` finds: the system's `dot`, else graphviz-pure), for SVG files every layer shown
and folded to depths 1 and 2. Medians of a few runs in this process; then the whole command, in a
fresh process each run (the interpreter's start and graphdl's import included).

There is no hand-written PyTorch equivalent to hold this against: torchview and Netron draw a
network only after running or exporting it, and neither is installed here. The totals are the
figures to read; Graphviz's share says where the time goes.

    python bench/render.py                  # ResNet-50 and ViT-B/16, 5 runs each
    python bench/render.py --quick          # ResNet-18, one run: the test suite's smoke run
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import graphdl
from graphdl.views._render import graphviz_program

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def median_seconds(runs: int, function, *args, **kwargs) -> float:
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        function(*args, **kwargs)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="ResNet-18, one run")
    args = parser.parse_args(argv)
    networks, runs = (["resnet18"], 1) if args.quick else (["resnet50", "vit_b16"], args.runs)
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, Graphviz: {graphviz_program()}")
    print(f"{'network':10} {'layers':>6} {'picture':8} {'check':>8} {'DOT':>8} {'Graphviz':>9} {'total':>8}  {'SVG size':>14}")
    folder = Path(tempfile.mkdtemp())
    for name in networks:
        path = EXAMPLES / f"{name}.dlg"
        check = median_seconds(runs, lambda path: graphdl.analyze(graphdl.load(path)), path)
        graph = graphdl.load(path)
        analysis = graphdl.analyze(graph)
        for label, picture in (("full", {}), ("depth 1", {"depth": 1}), ("depth 2", {"depth": 2})):
            dot = median_seconds(runs, graphdl.to_dot, graph, analysis, **picture)
            output = folder / f"{name}.svg"
            drawn = median_seconds(runs, graphdl.render, graph, output, analysis, **picture)
            size = " x ".join(output.read_text().split("<svg ", 1)[1].split('"')[i] for i in (1, 3))
            total = check + drawn
            print(f"{name:10} {len(graph):>6} {label:8} {check:8.3f} {dot:8.3f} {drawn - dot:9.3f} {total:8.3f}  {size:>14}")
    # What a user waits for: the command, from a cold interpreter to the file written.
    for name in networks:
        command = [sys.executable, "-m", "graphdl", "render", str(EXAMPLES / f"{name}.dlg"), "-o", str(folder / f"{name}.svg")]
        cold = median_seconds(runs, subprocess.run, command, check=True, capture_output=True)
        print(f"`graphdl render {name}.dlg -o {name}.svg` (every layer), a fresh process: {cold:.2f} s")


if __name__ == "__main__":
    main()
