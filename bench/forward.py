"""Forward time of compiled graphdl networks against the same networks written by hand.

Two networks, each compiled with graphdl.dlnetwork and its state_dict loaded into an ordinary
nn.Module written by hand: the seed network (examples/mnist.dlg: zero-centre input, 5x5
convolution, batch norm, ReLU, 2x2 max pooling, fully connected, softmax), at batch 1 and 128, and
ResNet-18 (examples/resnet18.dlg, 224x224 images, against torchvision's structure in
tests/reference_resnet.py), at batch 1 and 16. After checking that both give exactly the same
output, the two are timed in eval mode under torch.inference_mode(), in interleaved rounds (A B,
then B A, ...) so that machine noise hits both alike, after a warm-up. A round times one block of
forward calls of each, the block sized by a calibration to last about 20 ms (at least one call);
each case runs rounds for a time budget.

Each case runs in several fresh processes (`--processes`, 4 by default), its time budget shared
between them. A difference of a few microseconds per call, the size of the question at batch 1,
also comes from where the interpreter happens to lay out code and data: two identical modules can
differ by 2 % in one process and not in the next. Pooling processes averages that out.

Reported per case: the median time per forward of each, and the ratio compiled / hand-written,
taken as the median of the per-round ratios of all processes (each round pairs two blocks run back
to back, so slow drifts of the machine cancel out), with its interquartile range and the range of
the processes' own medians. A ratio of 1.00 is parity.

Run from the repository root:

    python bench/forward.py                          # every case, about 30 s each
    python bench/forward.py --networks seed --seconds 60 --threads 1
    python bench/forward.py --device cuda            # on a GPU, if there is one
    python bench/forward.py --quick                  # smoke run, a few seconds, one process
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import multiprocessing
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

import graphdl

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


class HandWritten(nn.Module):
    """The seed network as a PyTorch user would write it."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.zeros(1, 1, 1))  # one per channel
        self.conv1 = nn.Conv2d(1, 20, 5, padding=2)
        self.bn1 = nn.BatchNorm2d(20)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2, 2)
        self.fc = nn.Linear(20 * 14 * 14, 10)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        x = self.pool(self.relu(self.bn1(self.conv1(x - self.mean))))
        return self.softmax(self.fc(torch.flatten(x, 1)))


def seed_pair():
    """The compiled seed network and the hand-written one."""
    compiled = graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"), seed=0)
    # A non-trivial input mean, so that every op does real work.
    compiled.reset_input_normalization(torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(0)))
    return compiled, HandWritten()


def resnet18_pair():
    """The compiled ResNet-18 and torchvision's, written out in tests/reference_resnet.py."""
    sys.path.insert(0, str(ROOT / "tests"))
    from reference_resnet import resnet18

    return graphdl.dlnetwork(graphdl.load(EXAMPLES / "resnet18.dlg"), seed=0), resnet18()


NETWORKS = {"seed": (seed_pair, (1, 28, 28), (1, 128)), "resnet18": (resnet18_pair, (3, 224, 224), (1, 16))}


def build_pair(network: str, device: torch.device):
    """The compiled network and the hand-written one, with the same weights and non-trivial
    batch-norm statistics, in eval mode."""
    compiled, reference = NETWORKS[network][0]()
    generator = torch.Generator().manual_seed(0)
    for module in compiled.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.running_mean.uniform_(-0.5, 0.5, generator=generator)
            module.running_var.uniform_(0.5, 2.0, generator=generator)
    # The same names, torchvision's, but for the seed's input mean, `input.mean` when compiled.
    reference.load_state_dict({key.removeprefix("input."): value for key, value in compiled.state_dict().items()}, strict=True)
    return compiled.to(device).eval(), reference.to(device).eval()


def check_equal(compiled, reference, x) -> None:
    """Fail loudly unless both networks give exactly the same output."""
    a, b = compiled(x), reference(x)
    if a.shape != b.shape or not torch.equal(a, b):
        difference = (a - b).abs().max().item() if a.shape == b.shape else float("nan")
        raise SystemExit(f"outputs differ at batch {x.shape[0]}: shapes {tuple(a.shape)} vs {tuple(b.shape)}, max |difference| {difference:g}")


def time_block(model, x, number: int, sync) -> float:
    """Nanoseconds per forward, over `number` back-to-back calls."""
    sync()
    start = time.perf_counter_ns()
    for _ in range(number):
        model(x)
    sync()
    return (time.perf_counter_ns() - start) / number


def calibrate(models, x, target_ns: float, sync) -> int:
    """How many forwards make a block of about `target_ns` (for the slower of the two)."""
    per_call = max(time_block(model, x, 10, sync) for model in models)
    return max(1, round(target_ns / per_call))


def measure(compiled, reference, x, seconds: float, warmup: int, target_ns: float, sync) -> dict:
    """Interleaved rounds for `seconds` (at least 5); each round times one block of each,
    alternating which goes first."""
    for _ in range(warmup):
        compiled(x)
        reference(x)
    number = calibrate((compiled, reference), x, target_ns, sync)
    times = {"compiled": [], "hand-written": []}
    gc.collect()
    gc.disable()
    try:
        end = time.perf_counter() + seconds
        i = 0
        while i < 5 or time.perf_counter() < end:
            order = [("compiled", compiled), ("hand-written", reference)]
            if i % 2:
                order.reverse()
            for name, model in order:
                times[name].append(time_block(model, x, number, sync))
            i += 1
    finally:
        gc.enable()
    return {"number": number, **times}


def run_case(network: str, batch: int, device: str, seconds: float, quick: bool, threads: int | None) -> dict:
    """One process's share of a case: build the pair, check it, time it."""
    if threads:
        torch.set_num_threads(threads)
    warmup, target_ns = (2, 1e6) if quick else (20, 20e6)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    with torch.inference_mode():
        compiled, reference = build_pair(network, torch.device(device))
        _, size, _ = NETWORKS[network]
        x = torch.rand(batch, *size, generator=torch.Generator().manual_seed(1)).to(device)
        check_equal(compiled, reference, x)
        return measure(compiled, reference, x, seconds, warmup, target_ns, sync)


class _HereAndNow:
    """`apply` as a pool's, in this process: where a smoke run's cases go."""

    @staticmethod
    def apply(function, args):
        return function(*args)


@contextlib.contextmanager
def case_runner(quick: bool):
    """What runs each case: a fresh interpreter per case, one at a time (spawn, not fork: a fork
    would share the parent's memory layout), so that no case warms another's caches; or, for a
    smoke run, which times nothing worth keeping, this process, sparing an interpreter's start per
    case."""
    if quick:
        yield _HereAndNow()
        return
    with multiprocessing.get_context("spawn").Pool(1, maxtasksperchild=1) as pool:
        yield pool


def summarize(runs: list[dict]) -> dict:
    """The pooled medians and ratios of a case's processes."""
    compiled = [t for run in runs for t in run["compiled"]]
    reference = [t for run in runs for t in run["hand-written"]]
    ratios = [a / b for run in runs for a, b in zip(run["compiled"], run["hand-written"])]
    per_process = [statistics.median(a / b for a, b in zip(run["compiled"], run["hand-written"])) for run in runs]
    return {
        "rounds": len(ratios),
        "number": runs[0]["number"],
        "compiled": statistics.median(compiled),
        "hand-written": statistics.median(reference),
        "ratio": statistics.median(ratios),
        "ratio q1-q3": statistics.quantiles(ratios, n=4)[::2] if len(ratios) > 1 else [ratios[0]] * 2,
        "processes": (min(per_process), max(per_process)),
    }


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(device: torch.device) -> list[tuple[str, str]]:
    rows = [
        ("CPU", cpu_model()),
        ("cores", str(os.cpu_count())),
        ("torch", torch.__version__),
        ("torch threads", str(torch.get_num_threads())),
        ("Python", platform.python_version()),
        ("device", str(device)),
    ]
    if device.type == "cuda":
        rows.append(("GPU", torch.cuda.get_device_name(device)))
    return rows


def format_time(ns: float) -> str:
    return f"{ns / 1e3:,.1f} us" if ns < 1e6 else f"{ns / 1e6:,.2f} ms"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--networks", nargs="+", choices=list(NETWORKS), default=list(NETWORKS), help="networks to time (default: all)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", metavar="B", help="batch sizes (default: 1 128 for seed, 1 16 for resnet18)")
    parser.add_argument("--seconds", type=float, default=30.0, help="time budget of the timed rounds of each case (default 30)")
    parser.add_argument("--processes", type=int, default=4, help="fresh processes per case, sharing its time (default 4)")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's own)")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="cuda if asked and available")
    parser.add_argument("--quick", action="store_true", help="a short smoke run (a few seconds)")
    args = parser.parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("cuda asked for but not available: running on the cpu")
    device = "cuda" if args.device == "cuda" and torch.cuda.is_available() else "cpu"
    processes = 1 if args.quick else args.processes
    seconds = 0.0 if args.quick else args.seconds / processes

    cases = [(network, batch) for network in args.networks for batch in args.batch_sizes or NETWORKS[network][2]]
    results = []
    with case_runner(args.quick) as pool:
        for network, batch in cases:
            runs = [pool.apply(run_case, (network, batch, device, seconds, args.quick, args.threads)) for _ in range(processes)]
            results.append((network, batch, summarize(runs)))

    rows = [
        *machine(torch.device(device)),
        ("rounds", f"for {args.seconds if not args.quick else 0:g} s per case over {processes} process(es), compiled and hand-written interleaved"),
        ("ratio", "compiled / hand-written, median of the per-round ratios of all processes"),
    ]
    width = max(len(key) for key, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    print()
    print(
        f"{'network':<9} {'batch':>5}  {'rounds':>6}  {'calls/block':>11}  {'compiled':>11}  {'hand-written':>12}  "
        f"{'ratio':>6}  {'ratio q1-q3':>13}  {'processes':>13}"
    )
    for network, batch, r in results:
        q1, q3 = r["ratio q1-q3"]
        low, high = r["processes"]
        print(
            f"{network:<9} {batch:>5}  {r['rounds']:>6}  {r['number']:>11}  {format_time(r['compiled']):>11}  "
            f"{format_time(r['hand-written']):>12}  {r['ratio']:>6.3f}  {q1:>6.3f}-{q3:.3f}  {low:>6.3f}-{high:.3f}"
        )


if __name__ == "__main__":
    main()
