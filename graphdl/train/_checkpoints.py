"""trainnet's checkpoints and exact resume.

A checkpoint is a network file (graphdl.save_network's) that also holds everything the loop's
future depends on: the solver's state (MATLAB's velocity, average and square tables, or a torch
optimizer's and lr_scheduler's state_dict), the iteration and epoch (MATLAB's schedules are
functions of them, so they are the schedule's position), the shuffle order of the current epoch
and the position in it, and the random states (torch's CPU generator, CUDA's when used, and
Python's and NumPy's, which the loop does not use but a user's loss, metric or callback may).
Everything is a tensor or a plain value, so the file stays readable with weights_only.

Resuming restores all of it at the point the checkpoint was taken, so the steps after it see the
same batches, the same dropout masks and the same solver state as an uninterrupted run did. Data
from a Dataset, a DataLoader or an iterable of batches is put back by its queue (DataQueue keeps
the pass, the position in it and the random states the pass began with).
"""

from __future__ import annotations

import re
from pathlib import Path

from graphdl.compiler import Table
from graphdl.diagnostics import error
from graphdl.interop import read_checkpoint, save_checkpoint
from graphdl.train._data import MiniBatchQueue
from graphdl.train._distributed import shaped_like, whole
from graphdl.train._random import random_states, set_random_states

# trainnet's checkpoint names: {network}_epoch{epoch:03d}_iteration{iteration}.pt
_NAME = re.compile(r".+_epoch\d+_iteration\d+\.pt")


def checkpoint_file(folder: str | Path, network: str, epoch: int, iteration: int) -> Path:
    return Path(folder) / f"{network}_epoch{epoch:03d}_iteration{iteration}.pt"


def checkpoints_in(folder: str | Path) -> list[Path]:
    """The whole checkpoints in `folder`, oldest first (by the time they were written, so that a
    run resumed from an earlier checkpoint counts its own as the newest). Partial files (a write
    that was interrupted) have other names and are never among them."""
    files = [path for path in Path(folder).iterdir() if _NAME.fullmatch(path.name) and path.is_file()]
    return sorted(files, key=lambda path: (path.stat().st_mtime_ns, _iteration(path)))


def _iteration(path: Path) -> int:
    return int(path.stem.rsplit("_iteration", 1)[1])


def solver_name(options, optimizer) -> str:
    if optimizer is None:
        return options.solver
    return f"{type(optimizer).__module__}.{type(optimizer).__qualname__}"


def write_checkpoint(training, epoch: int, iteration: int, epoch_ended: bool) -> Path:
    """Write the state of `training` (a trainnet run) after `iteration`; then, once the new file
    is whole, remove the oldest checkpoints beyond `checkpoints_kept`. In distributed training
    every process calls this (each one's random states go into the file) and process 0 writes;
    each returns the file's path."""
    options, queue, processes = training.options, training.queue, training.processes
    path = checkpoint_file(options.checkpoint_path, training.net.graph.name, epoch, iteration)
    rng = random_states(cuda=training.device.type == "cuda")
    per_process = None if processes is None else processes.gather(rng)
    first, second = training.solver_state
    # Sharded tensors (fully_shard) are gathered whole by every process before process 0 writes.
    network = training.whole_network(keep=processes is None or processes.main)
    solver_state = [None if table is None else [whole(value) for value in table.values] for table in (first, second)]
    best_weights = None if training.best_weights is None else {key: whole(value) for key, value in training.best_weights.items()}
    if processes is not None and not processes.main:
        return path
    arrays = isinstance(queue, MiniBatchQueue)
    state = {
        "iteration": iteration,
        "epoch": epoch,
        "epoch_ended": epoch_ended,
        "solver": solver_name(options, training.optimizer),
        "mini_batch_size": options.mini_batch_size,
        # Arrays (a MiniBatchQueue): their order and the position in it; else the DataQueue's state.
        "observations": queue.num_observations if arrays else None,
        "order": queue.order if arrays else None,
        "position": queue.position if arrays else None,
        "source": None if arrays else queue.checkpoint_state(),
        "solver_state": solver_state,
        "optimizer": None if training.optimizer is None else training.optimizer.state_dict(),
        "scheduler": None if training.scheduler is None else training.scheduler.state_dict(),
        "rng": rng,
        "processes": 1 if processes is None else processes.world,
        "rng_per_process": per_process,  # each process's (dropout masks differ from one to the next)
        "loss_scale": None if training.scaler is None else training.scaler.state_dict(),
        "best": {
            "loss": training.best_loss,
            "iteration": training.best_iteration,
            "without_progress": training.validations_without_progress,
            "weights": best_weights,
        },
    }
    save_checkpoint(network, path, state, epoch=epoch, iteration=iteration)
    if options.checkpoints_kept is not None:
        older = [p for p in checkpoints_in(options.checkpoint_path) if p != path]
        for stale in older[: max(0, len(older) - options.checkpoints_kept + 1)]:
            stale.unlink(missing_ok=True)
    return path


def read_resume(path: str | Path, options, data: tuple[str, int], processes: int = 1) -> tuple[Path, dict, dict]:
    """The checkpoint to resume from (a file, or the newest whole checkpoint in a folder), its
    state_dict and training state, checked against the options and the data of the resumed run
    (`data`: ("arrays", observations) or ("batches", mini-batches a pass)): E007 for a file that
    is not a checkpoint, E802 for options or data that cannot continue it."""
    path = Path(path)
    if path.is_dir():
        found = checkpoints_in(path)
        if not found:
            raise error("E007", f"trainnet: resume: {path} holds no trainnet checkpoint")
        path = found[-1]
    state_dict, state = read_checkpoint(path)
    solver = options.solver if isinstance(options.solver, str) else None
    wrong = []
    if solver is not None and state["solver"] != solver:
        wrong.append(f"solver {solver!r}, and the checkpoint's is {state['solver']!r}")
    elif solver is None and state["solver"] in ("sgdm", "adam", "rmsprop"):
        wrong.append(f"a torch optimizer, and the checkpoint's solver is {state['solver']!r}")
    if state["mini_batch_size"] != options.mini_batch_size:
        wrong.append(f"mini_batch_size {options.mini_batch_size}, and the checkpoint's is {state['mini_batch_size']}")
    kind, count = data
    source = state.get("source")
    if kind == "arrays" and state["order"] is None:
        wrong.append("arrays, and the checkpoint was written by training on a Dataset, a DataLoader or an iterable of batches")
    elif kind == "arrays" and state["observations"] != count:
        wrong.append(f"{count} training observations, and the checkpoint's run had {state['observations']}")
    elif kind == "batches" and state["order"] is not None:
        wrong.append("a Dataset, a DataLoader or an iterable of batches, and the checkpoint was written by training on arrays")
    elif kind == "batches" and source is None:
        wrong.append("a Dataset or a loader, and the checkpoint was written by a graphdl that did not keep a loader's position")
    elif kind == "batches" and source["batches"] != count:
        wrong.append(f"{count} mini-batches a pass, and the checkpoint's run had {source['batches']}")
    written_by = state.get("processes", 1)
    if written_by != processes:
        # Each process's random state (dropout) is in the checkpoint, and the data are shared out by count.
        wrong.append(f"{processes} process{'es' if processes > 1 else ''}, and the checkpoint's run had {written_by}")
    if wrong:
        help = "resume with the options and data of the run that wrote the checkpoint"
        raise error("E802", f"trainnet: cannot resume from {path}: the options give " + "; ".join(wrong), help=help)
    return path, state_dict, state


def restore(training, state: dict) -> tuple[int, int]:
    """Put `training` (a trainnet run, its network's weights already loaded) back where the
    checkpoint was taken; returns (iteration, epoch)."""
    queue = training.queue
    if training.optimizer is not None:
        expected = solver_name(training.options, training.optimizer)
        if state["solver"] != expected:
            raise error("E802", f"trainnet: cannot resume: the solver makes a {expected}, and the checkpoint's is {state['solver']}")
        training.optimizer.load_state_dict(state["optimizer"])
        if training.scheduler is not None and state["scheduler"] is not None:
            training.scheduler.load_state_dict(state["scheduler"])
    keys = training.net.learnables.keys
    learnables = training.net.learnables.values
    training.solver_state = tuple(
        None if values is None else Table((*key, shaped_like(value, learnable)) for key, value, learnable in zip(keys, values, learnables))
        for values in state["solver_state"]
    )
    if isinstance(queue, MiniBatchQueue):
        queue.order, queue.position = state["order"], state["position"]
    else:
        queue.resume_at(state["source"], within_pass=not state["epoch_ended"])
    best = state["best"]
    training.best_loss, training.best_iteration = float(best["loss"]), best["iteration"]
    training.validations_without_progress = best["without_progress"]
    if best["weights"] is not None:
        current = training.net.state_dict()
        training.best_weights = {key: shaped_like(value, current[key]) for key, value in best["weights"].items()}
    if training.scaler is not None and state.get("loss_scale") is not None:
        training.scaler.load_state_dict(state["loss_scale"])
    per_process = state.get("rng_per_process")
    set_random_states(state["rng"] if per_process is None else per_process[training.processes.rank])
    return state["iteration"], state["epoch"]

