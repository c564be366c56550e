"""Training end to end: trainnet and the custom loop against a hand-written PyTorch loop.

The seed network (examples/mnist.dlg, written by hand as bench/forward.py's HandWritten, with the
same initial weights), trained for one epoch at batch 128 on graphdl.datasets.digits (10,000
training images by default: 78 iterations, the partial batch dropped), sgdm with momentum 0.9,
learn rate 0.01 and L2 regularisation 0 on every side. Three loops over the same arrays:

- trainnet: `graphdl.trainnet(images, labels, net, "crossentropy", options)` with
  `training_options("sgdm", max_epochs=1, l2_regularization=0)` and everything else left at its
  default: verbose (a line every 50 iterations, on a stream that is not a terminal, so no bar),
  the accuracy metric recorded every iteration, the loss recorded every iteration, input
  normalisation reset from the data, shuffle "once", the NaN check, the final history;
- custom loop: the README's "From Python" loop, `reset_input_normalization`, a MiniBatchQueue
  (partial="discard", shuffled once), `dlfeval` of forward, `crossentropy` and `dlgradient`, then
  `sgdmupdate` at a constant learn rate;
- hand-written: the input mean from the data into the module's buffer, `torch.randperm` order,
  `optimizer.zero_grad(); loss.backward(); optimizer.step()` with torch.optim.SGD(momentum=0.9,
  weight_decay=0, foreach=True), a line with the loss every 50 iterations.

MATLAB's sgdm (v = m v - lr g; w += v) and torch's SGD (v = m v + g; w -= lr v) take the learn
rate in at different places, but with a constant learn rate and no L2 they follow the same
trajectory (v_matlab = -lr v_torch) for the same work: one multi-tensor update per step. All three
use graphdl.crossentropy, so that only the loops differ.

A second case, the DataLoader pipeline: trainnet on a torch TensorDataset of the same tensors (it
batches it itself, num_workers 0, and by default streams the data once for the input
normalisation) against a hand-written loop over `DataLoader(dataset, batch_size=128,
shuffle=True, drop_last=True)`, after the same streaming pass for the mean.

Each case runs in several fresh processes (spawn), its time budget shared between them; each
process warms every loop up once, then times rounds of one epoch of each, the order rotated
round by round so that machine drift hits all alike. Reported: samples per second of each (the
median over all rounds), and the ratio of samples per second loop / hand-written (so above 1 is
faster than hand-written), the median of the per-round ratios with its interquartile range.
Standard output of the loops goes to os.devnull, a file that is not a terminal.

    python bench/train.py                        # both cases, 90 s and 60 s
    python bench/train.py --cases arrays --seconds 120 --size 20000
    python bench/train.py --profile trainnet     # cProfile of one trainnet epoch
    python bench/train.py --quick                # smoke run
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, TensorDataset

import graphdl
from graphdl.datasets import digits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from forward import HandWritten, case_runner, machine, seed_pair

BATCH = 128
LEARN_RATE = 0.01
MOMENTUM = 0.9
CASES = {"arrays": ("trainnet", "custom loop", "hand-written"), "dataloader": ("trainnet", "hand-written")}


def make_pair():
    """The compiled seed network and the hand-written module, with the same weights."""
    net, _ = seed_pair()
    model = HandWritten()
    model.load_state_dict({key.removeprefix("input."): value for key, value in net.state_dict().items()}, strict=True)
    return net, model


def trainnet_arrays(net, images, labels, out):
    options = graphdl.training_options("sgdm", initial_learn_rate=LEARN_RATE, momentum=MOMENTUM, max_epochs=1, l2_regularization=0.0)
    with contextlib.redirect_stdout(out):
        net, info = graphdl.trainnet(images, labels, net, "crossentropy", options)
    return info.iterations


def trainnet_dataset(net, dataset, out):
    options = graphdl.training_options("sgdm", initial_learn_rate=LEARN_RATE, momentum=MOMENTUM, max_epochs=1, l2_regularization=0.0)
    with contextlib.redirect_stdout(out):
        net, info = graphdl.trainnet(dataset, net, "crossentropy", options)
    return info.iterations


def model_gradients(net, X, T):
    Y = net.forward(X)
    loss = graphdl.crossentropy(Y, T)
    return graphdl.dlgradient(loss, net.learnables), loss


def custom_loop(net, images, labels, out):
    net.reset_input_normalization(images)
    queue = graphdl.MiniBatchQueue(images, labels, mini_batch_size=BATCH, partial="discard")
    queue.shuffle()
    net.train()
    velocity = None
    iterations = 0
    for iteration, (X, T) in enumerate(queue, 1):
        gradients, loss = graphdl.dlfeval(model_gradients, net, X, T)
        net, velocity = graphdl.sgdmupdate(net, gradients, velocity, LEARN_RATE, MOMENTUM)
        if iteration % 50 == 0:
            print(f"iteration {iteration}  loss {loss.item():.4f}", file=out)
        iterations = iteration
    return iterations


def hand_written_step(model, optimizer, x, t, iteration, out):
    optimizer.zero_grad(set_to_none=True)
    loss = graphdl.crossentropy(model(x), t)
    loss.backward()
    optimizer.step()
    if iteration % 50 == 0:
        print(f"iteration {iteration}  loss {loss.item():.4f}", file=out)


def hand_written_arrays(model, images, labels, out):
    X, T = torch.from_numpy(images), torch.from_numpy(labels)
    with torch.no_grad():
        model.mean.copy_(X.mean(dim=(0, 2, 3), dtype=torch.float64).reshape(-1, 1, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARN_RATE, momentum=MOMENTUM, weight_decay=0.0, foreach=True)
    model.train()
    order = torch.randperm(len(X))
    iterations = len(X) // BATCH
    for i in range(iterations):
        index = order[i * BATCH : (i + 1) * BATCH]
        hand_written_step(model, optimizer, X[index], T[index], i + 1, out)
    return iterations


def hand_written_dataloader(model, dataset, out):
    total, count = torch.zeros(1, dtype=torch.float64), 0
    for x, _ in DataLoader(dataset, batch_size=BATCH):
        total += x.sum(dim=(0, 2, 3), dtype=torch.float64)
        count += x.shape[0] * x.shape[2] * x.shape[3]
    with torch.no_grad():
        model.mean.copy_((total / count).reshape(-1, 1, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARN_RATE, momentum=MOMENTUM, weight_decay=0.0, foreach=True)
    model.train()
    iterations = 0
    for iterations, (x, t) in enumerate(DataLoader(dataset, batch_size=BATCH, shuffle=True, drop_last=True), 1):
        hand_written_step(model, optimizer, x, t, iterations, out)
    return iterations


def loops(case: str, size: int):
    """The case's loops, each a function of no argument returning its iterations."""
    data = digits("train", size)
    images, labels = data.images, data.labels
    net, model = make_pair()
    net2, _ = make_pair()
    out = open(os.devnull, "w")  # noqa: SIM115 (open for the process's life)
    if case == "arrays":
        return {
            "trainnet": lambda: trainnet_arrays(net, images, labels, out),
            "custom loop": lambda: custom_loop(net2, images, labels, out),
            "hand-written": lambda: hand_written_arrays(model, images, labels, out),
        }
    dataset = TensorDataset(torch.from_numpy(images), torch.from_numpy(labels))
    return {"trainnet": lambda: trainnet_dataset(net, dataset, out), "hand-written": lambda: hand_written_dataloader(model, dataset, out)}


def run_case(case: str, size: int, seconds: float, warmup: bool, threads: int | None) -> dict:
    """One process's share of a case: a warm-up epoch of each loop, then rotated rounds."""
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    functions = loops(case, size)
    names = list(functions)
    if warmup:
        for name in names:
            functions[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    iterations = {}
    end = time.perf_counter() + seconds
    i = 0
    while i < 1 or time.perf_counter() < end:
        order = names[i % len(names) :] + names[: i % len(names)]
        for name in order:
            start = time.perf_counter()
            iterations[name] = functions[name]()
            times[name].append(time.perf_counter() - start)
        i += 1
    if len(set(iterations.values())) != 1:
        raise SystemExit(f"the loops ran different numbers of iterations: {iterations}")
    return {"samples": next(iter(iterations.values())) * BATCH, **times}


def summarize(case: str, runs: list[dict]) -> list[tuple]:
    samples = runs[0]["samples"]
    rows = []
    for name in CASES[case]:
        rates = [samples / t for run in runs for t in run[name]]
        ratios = [b / a for run in runs for a, b in zip(run[name], run["hand-written"])]
        q = statistics.quantiles(ratios, n=4)[::2] if len(ratios) > 1 else [ratios[0]] * 2
        rows.append((case, name, len(ratios), statistics.median(rates), statistics.median(ratios), *q))
    return rows


def profile(loop: str, size: int) -> None:
    """cProfile of one epoch of a loop of the arrays case, after a warm-up epoch."""
    torch.manual_seed(0)
    function = loops("arrays", size)[loop]
    function()
    profiler = cProfile.Profile()
    profiler.enable()
    function()
    profiler.disable()
    stats = pstats.Stats(profiler).strip_dirs().sort_stats("cumulative")
    stats.print_stats(40)
    stats.sort_stats("tottime").print_stats(25)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--size", type=int, default=10_000, help="training images (default 10,000: 78 iterations of 128)")
    parser.add_argument("--seconds", type=float, nargs="+", default=[90.0, 60.0], help="each case's time budget (default 90 arrays, 60 dataloader)")
    parser.add_argument("--processes", type=int, default=3, help="fresh processes per case, sharing its time (default 3)")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's own)")
    parser.add_argument("--profile", choices=CASES["arrays"], help="print a cProfile of one epoch of this loop instead")
    parser.add_argument("--quick", action="store_true", help="a short smoke run (a few seconds): 1,280 images, one round, no warm-up")
    args = parser.parse_args(argv)

    if args.profile:
        profile(args.profile, args.size)
        return
    size = 10 * BATCH if args.quick else args.size
    processes = 1 if args.quick else args.processes
    budgets = dict(zip(args.cases, args.seconds + [args.seconds[-1]] * len(args.cases)))
    rows = []
    with case_runner(args.quick) as pool:
        for case in args.cases:
            seconds = 0.0 if args.quick else budgets[case] / processes
            runs = [pool.apply(run_case, (case, size, seconds, not args.quick, args.threads)) for _ in range(processes)]
            rows += summarize(case, runs)

    for key, value in machine(torch.device("cpu")):
        print(f"{key:<14} {value}")
    print(f"{'training':<14} seed network, {size // BATCH * BATCH} samples a round (one epoch of batch {BATCH}), sgdm, L2 0")
    budget = ", ".join(f"{case} {0 if args.quick else budgets[case]:g} s" for case in args.cases)
    print(f"{'rounds':<14} {budget}, over {processes} process(es); ratio: samples/s over hand-written's, per round")
    print(f"{'load average':<14} {' '.join(f'{x:.2f}' for x in os.getloadavg())} (at the end)")
    print()
    print(f"{'case':<11} {'loop':<13} {'rounds':>6}  {'samples/s':>10}  {'ratio':>6}  {'ratio q1-q3':>13}")
    for case, name, rounds, rate, ratio, q1, q3 in rows:
        print(f"{case:<11} {name.replace(' ', '-'):<13} {rounds:>6}  {rate:>10,.0f}  {ratio:>6.3f}  {q1:>6.3f}-{q3:.3f}")


if __name__ == "__main__":
    main()
