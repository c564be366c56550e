"""How fast graphdl starts, recovers from syntax errors, and checks a large file.

Three measurements, each against its target (issue 9):

- startup: wall time of the installed `graphdl check examples/mnist.dlg` in a fresh process, with
  the parser cache warm, beside `python -c "import lark, networkx"`, the floor of any command that
  parses and builds a graph (target: within 0.15 s of it). The two are run in turn, so drift in
  the machine's load hits both; medians.
- syntax errors: parse, and the whole check (parse, elaborate, analyze), of a 2,000-line network
  with 40 broken statements against the same network whole (target: within 1.5x).
- a large file: parse, elaborate and analyze of 10,000 layers, the series and residual networks of
  bench/analysis.py, in a process without torch, as `graphdl check` runs them (target: under 1 s).

    python bench/startup.py            # about a minute
    python bench/startup.py --quick    # a smoke run: small sizes, few runs
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import lark
from networks import residual_text, series_text  # bench/networks.py: the networks of bench/analysis.py

from graphdl import check_text
from graphdl.analysis import analyze
from graphdl.elaborate import elaborate
from graphdl.source import Source
from graphdl.syntax import parse

ROOT = Path(__file__).resolve().parents[1]


def median_seconds(function, runs: int) -> float:
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def startup(runs: int) -> None:
    graphdl = shutil.which("graphdl", path=str(Path(sys.executable).parent)) or shutil.which("graphdl")
    if graphdl is None:
        sys.exit("no installed `graphdl` command: pip install -e .")
    commands = {
        'python -c "import lark, networkx"': [sys.executable, "-c", "import lark, networkx"],
        "graphdl check examples/mnist.dlg": [graphdl, "check", "examples/mnist.dlg"],
        "graphdl --help": [graphdl, "--help"],
    }
    for command in commands.values():  # warm the parser cache and the file system's
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    seconds: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            start = time.perf_counter()
            subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            seconds[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(s) for name, s in seconds.items()}
    floor, check = medians['python -c "import lark, networkx"'], medians["graphdl check examples/mnist.dlg"]
    print(f"startup: wall seconds, median of {runs} runs each, interleaved, parser cache warm")
    for name, value in medians.items():
        print(f"  {name:36} {value:6.3f}")
    print(f"  check - floor: {check - floor:+.3f} s (target: +0.150 s or less: {verdict(check - floor <= 0.150)})")


def with_syntax_errors(lines: int, errors: int) -> tuple[str, str]:
    """A series network of about `lines` lines, whole and with `errors` broken statements spread
    through it (a missing comma in a call)."""
    clean = series_text(lines)
    rows = clean.split("\n")
    layers = [i for i, row in enumerate(rows) if "fullyConnected(64)" in row]
    step = len(layers) // errors
    for i in layers[::step][:errors]:
        rows[i] = rows[i].replace("fullyConnected(64)", "fullyConnected(64 64)")
    return clean, "\n".join(rows)


def syntax_errors(lines: int, errors: int, runs: int) -> None:
    clean, broken = with_syntax_errors(lines, errors)
    clean_source, broken_source = Source("clean.dlg", clean), Source("broken.dlg", broken)
    assert len(parse(broken_source)[1]) == errors and not parse(clean_source)[1]
    print(f"syntax errors: a {len(clean.splitlines()):,}-line network, in process, seconds, median of {runs} runs")
    print(f"  {'':22} {'parse':>7}  {'check':>7}")
    times = {}
    for name, source in (("whole", clean_source), (f"{errors} broken statements", broken_source)):
        times[name] = (
            median_seconds(lambda source=source: parse(source), runs),
            median_seconds(lambda source=source: check_text(source.text, path=source.path), runs),
        )
        print(f"  {name:22} {times[name][0]:7.3f}  {times[name][1]:7.3f}")
    (parse_clean, check_clean), (parse_broken, check_broken) = times.values()
    ratio = check_broken / check_clean
    print(f"  broken / whole: parse {parse_broken / parse_clean:.2f}x, check {ratio:.2f}x (target: 1.5x or less: {verdict(ratio <= 1.5)})")


def pipeline(source: Source) -> tuple[float, float, float]:
    """Seconds of parse, elaborate and analyze of one text, run one after the other as `graphdl
    check` runs them, each stage's result alive only while the next stage needs it."""
    start = time.perf_counter()
    document, diagnostics = parse(source)
    parsed = time.perf_counter()
    elaboration = elaborate(document)
    elaborated = time.perf_counter()
    analysis = analyze(elaboration.graph, elaboration.quiet)
    analysed = time.perf_counter()
    assert not diagnostics and analysis.ok
    return parsed - start, elaborated - parsed, analysed - elaborated


def large(layers: int, runs: int) -> None:
    # As `graphdl check` runs: with torch loaded, every full pass of the garbage collector would
    # also walk torch's objects.
    assert "torch" not in sys.modules
    print(f"a large file: {layers:,} layers, in process, seconds, medians of {runs} runs of the three stages in turn")
    print(f"  {'network':9} {'parse':>7}  {'elaborate':>9}  {'analyze':>7}  {'total':>7}")
    for name, text in (("series", series_text(layers)), ("residual", residual_text(layers))):
        source = Source(f"{name}.dlg", text)
        pipeline(source)  # warm: the parser loaded, the catalog's kinds imported
        stages = []
        for _ in range(runs):
            # Each run starts from a heap without the last one's garbage, as a fresh process does:
            # the garbage collector's passes, a good part of these times, walk every object alive.
            gc.collect()
            stages.append(pipeline(source))
        parse_time, elaborate_time, analyze_time = (statistics.median(stage) for stage in zip(*stages))
        total = statistics.median(sum(run) for run in stages)
        print(f"  {name:9} {parse_time:7.3f}  {elaborate_time:9.3f}  {analyze_time:7.3f}  {total:7.3f}  (target: under 1 s: {verdict(total < 1)})")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: small sizes, few runs")
    args = parser.parse_args(argv)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, lark {lark.__version__}")
    if args.quick:
        startup(runs=2)
        syntax_errors(lines=200, errors=4, runs=1)
        large(layers=500, runs=1)
    else:
        startup(runs=15)
        syntax_errors(lines=2000, errors=40, runs=5)
        large(layers=10_000, runs=7)


if __name__ == "__main__":
    main()
