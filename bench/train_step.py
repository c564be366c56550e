"""One training step with graphdl's custom-loop primitives against the same step written by hand.

The seed network (examples/mnist.dlg) at batch 128. graphdl's step is the one the README's custom
loop writes, and trainnet runs:

    gradients, loss = graphdl.dlfeval(model_gradients, net, X, T)     # forward, loss, dlgradient
    net, state = graphdl.sgdmupdate(net, gradients, state, ...)       # or adamupdate

The hand-written step is the usual PyTorch one on the HandWritten module of bench/forward.py with
the same weights: `optimizer.zero_grad(); loss.backward(); optimizer.step()` with torch.optim.SGD
(momentum 0.9) or torch.optim.Adam, both with their multi-tensor (`foreach`) implementation. Both
sides use graphdl.crossentropy, so that only the step's machinery differs. The two are timed in
interleaved rounds in fresh processes, as bench/forward.py times forwards; the ratio is graphdl /
hand-written, the median of the per-round ratios.

    python bench/train_step.py                   # sgdm and adam, 20 s each
    python bench/train_step.py --solvers adam --seconds 60
    python bench/train_step.py --quick           # smoke run
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

import graphdl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from forward import build_pair, case_runner, format_time, machine, measure, summarize

SOLVERS = ("sgdm", "adam")


def graphdl_step(net, solver: str, learn_rate: float):
    """The custom loop's step, as a function of the batch."""
    state: dict = {"first": None, "second": None, "iteration": 0}

    def model_gradients(net, X, T):
        loss = graphdl.crossentropy(net.forward(X), T)
        return graphdl.dlgradient(loss, net.learnables), loss

    def step(batch):
        X, T = batch
        gradients, _ = graphdl.dlfeval(model_gradients, net, X, T)
        state["iteration"] += 1
        if solver == "sgdm":
            _, state["first"] = graphdl.sgdmupdate(net, gradients, state["first"], learn_rate, 0.9)
        else:
            _, state["first"], state["second"] = graphdl.adamupdate(net, gradients, state["first"], state["second"], state["iteration"], learn_rate)

    return step


def hand_written_step(model, solver: str, learn_rate: float):
    parameters = list(model.parameters())
    if solver == "sgdm":
        optimizer = torch.optim.SGD(parameters, lr=learn_rate, momentum=0.9, foreach=True)
    else:
        optimizer = torch.optim.Adam(parameters, lr=learn_rate, foreach=True)

    def step(batch):
        X, T = batch
        optimizer.zero_grad(set_to_none=True)
        graphdl.crossentropy(model(X), T).backward()
        optimizer.step()

    return step


def run_case(solver: str, batch: int, seconds: float, quick: bool, threads: int | None) -> dict:
    """One process's share of a case."""
    if threads:
        torch.set_num_threads(threads)
    net, model = build_pair("seed", torch.device("cpu"))
    net.train()
    model.train()
    generator = torch.Generator().manual_seed(0)
    data = (torch.rand(batch, 1, 28, 28, generator=generator), torch.randint(0, 10, (batch,), generator=generator))
    learn_rate = 0.01 if solver == "sgdm" else 0.001
    warmup, target_ns = (2, 1e6) if quick else (20, 20e6)
    return measure(graphdl_step(net, solver, learn_rate), hand_written_step(model, solver, learn_rate), data, seconds, warmup, target_ns, lambda: None)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--solvers", nargs="+", choices=SOLVERS, default=list(SOLVERS))
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=20.0, help="time budget of the timed rounds of each case (default 20)")
    parser.add_argument("--processes", type=int, default=4, help="fresh processes per case, sharing its time (default 4)")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's own)")
    parser.add_argument("--quick", action="store_true", help="a short smoke run (a few seconds)")
    args = parser.parse_args(argv)

    processes = 1 if args.quick else args.processes
    seconds = 0.0 if args.quick else args.seconds / processes
    results = []
    with case_runner(args.quick) as pool:
        for solver in args.solvers:
            runs = [pool.apply(run_case, (solver, args.batch_size, seconds, args.quick, args.threads)) for _ in range(processes)]
            results.append((solver, summarize(runs)))

    for key, value in machine(torch.device("cpu")):
        print(f"{key:<14} {value}")
    print(f"{'step':<14} seed network, batch {args.batch_size}, {args.seconds if not args.quick else 0:g} s per case over {processes} process(es)")
    print()
    print(f"{'solver':<7} {'rounds':>6}  {'graphdl':>10}  {'hand-written':>12}  {'ratio':>6}  {'ratio q1-q3':>13}  {'processes':>13}")
    for solver, r in results:
        q1, q3 = r["ratio q1-q3"]
        low, high = r["processes"]
        print(
            f"{solver:<7} {r['rounds']:>6}  {format_time(r['compiled']):>10}  {format_time(r['hand-written']):>12}  "
            f"{r['ratio']:>6.3f}  {q1:>6.3f}-{q3:.3f}  {low:>6.3f}-{high:.3f}"
        )


if __name__ == "__main__":
    main()
