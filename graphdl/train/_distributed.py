"""Training in several processes with torch.distributed (DistributedDataParallel).

A script started by `torchrun --nproc_per_node N` (or one that has started a process group
itself) runs trainnet in each process. Each process takes its share of every mini-batch:
`mini_batch_size` stays the global mini-batch, as MATLAB's multi-GPU training divides it among the
workers, so the same options train the same way in one process or in N. The order is drawn by
process 0 and broadcast; DistributedDataParallel averages the gradients; the loss and the metrics
shown are averaged over the processes; process 0 alone shows progress and writes the plot, the
logs and the checkpoints.
"""

from __future__ import annotations

import os
import pickle
import socket
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from graphdl.diagnostics import one_line


@dataclass(frozen=True)
class Processes:
    """This process's place in a distributed run: its rank, how many processes there are, and
    whether trainnet started the process group (and so ends it)."""

    rank: int
    world: int
    owned: bool

    @property
    def main(self) -> bool:
        return self.rank == 0

    def mean(self, values: list[torch.Tensor]) -> list[torch.Tensor]:
        """The mean of each scalar over the processes, with one collective."""
        stacked = torch.stack([v.detach().float().reshape(()) for v in values])
        dist.all_reduce(stacked)
        return list((stacked / self.world).unbind())

    def broadcast(self, tensor: torch.Tensor) -> torch.Tensor:
        """Process 0's `tensor`, in every process (copied into `tensor`)."""
        dist.broadcast(tensor, src=0)
        return tensor

    def any(self, flag: bool, device: torch.device) -> bool:
        """Whether `flag` is true in any process."""
        value = torch.tensor(float(flag), device=device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    def gather(self, value) -> list:
        """`value` (a picklable object) of every process, in rank order."""
        values = [None] * self.world
        dist.all_gather_object(values, value)
        return values

    def end(self, finished: bool = True) -> None:
        """End the process group trainnet started. After a run that finished, every process
        waits for the others first: tearing down a group while another process still exchanges
        data with it can abort a process (gloo's threads). After a failure nobody waits."""
        if self.owned and dist.is_initialized():
            if finished:
                dist.barrier()
            dist.destroy_process_group()


def join(cuda: bool) -> Processes | None:
    """The distributed run this process is in, or None when it trains alone. Under torchrun
    (WORLD_SIZE above 1) the process group is started here if the script has not started it:
    nccl between GPUs, gloo on the CPU."""
    if not dist.is_available():
        return None
    if dist.is_initialized():
        world = dist.get_world_size()
        return Processes(dist.get_rank(), world, owned=False) if world > 1 else None
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return None
    dist.init_process_group("nccl" if cuda else "gloo")
    return Processes(dist.get_rank(), dist.get_world_size(), owned=True)


def local_device(processes: Processes | None, device: torch.device) -> torch.device:
    """The GPU of this process (torchrun's LOCAL_RANK) when training on GPUs in several processes."""
    if processes is None or device.type != "cuda" or device.index is not None:
        return device
    local = torch.device("cuda", int(os.environ.get("LOCAL_RANK", processes.rank % torch.cuda.device_count())))
    torch.cuda.set_device(local)
    return local


def collective_failed(e: BaseException) -> bool:
    """Whether `e` is a collective operation failing (another process stopped, or the network
    between them broke)."""
    return isinstance(e, getattr(dist, "DistError", ())) or "gloo" in str(e).lower() or "nccl" in str(e).lower()


def whole(tensor: torch.Tensor) -> torch.Tensor:
    """A tensor whole: a sharded one (FSDP's DTensor) gathered from every process, which every
    process must call together; any other as it is."""
    return tensor.full_tensor() if hasattr(tensor, "full_tensor") else tensor


def shaped_like(tensor: torch.Tensor, learnable: torch.Tensor) -> torch.Tensor:
    """`tensor` (whole) split as the sharded `learnable` is, for a solver state restored from a checkpoint."""
    if not hasattr(learnable, "device_mesh"):
        return tensor.to(learnable.device)
    from torch.distributed.tensor import distribute_tensor

    return distribute_tensor(tensor.to(learnable.device), learnable.device_mesh, learnable.placements)


def run_in_processes(train: Callable[[], object], count: int, cuda: bool, start_method: str | None = None):
    """MATLAB's "parallel" and "multi-gpu": run `train` in `count` new processes joined in a
    process group (gloo, or nccl between GPUs, process i on GPU i), and return what process 0's
    returned. On the CPU the processes are forked, so that the data, the network and the user's
    functions need not be picklable, and each computes with one thread (a forked process cannot
    use the parent's OpenMP threads, and N processes of one thread fill N cores); GPUs need
    processes of their own (spawned), and so picklable arguments (`start_method` overrides the
    choice). A failure in any process is raised here as a RuntimeError with that process's
    message; arguments that a spawned process cannot receive, as a TypeError saying which."""
    start_method = start_method or ("spawn" if cuda else "fork")
    if start_method != "fork":
        try:
            pickle.dumps(train)
        except (pickle.PicklingError, AttributeError, TypeError) as e:
            raise TypeError(f"the processes are started afresh and receive trainnet's arguments pickled, and {e}") from None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="graphdl-processes-") as folder:
        try:
            mp.start_processes(
                _process, args=(train, count, port, cuda, folder), nprocs=count, join=True, start_method=start_method
            )
        except (mp.ProcessRaisedException, mp.ProcessExitedException) as e:
            raise RuntimeError(_first_failure(Path(folder), e, count)) from None
        with open(Path(folder) / "result.pickle", "rb") as handle:
            return pickle.load(handle)  # written by process 0 of this run, just now


def _process(rank: int, train, count: int, port: int, cuda: bool, folder: str) -> None:
    if cuda:
        torch.cuda.set_device(rank)
    else:
        torch.set_num_threads(1)
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(count))
    dist.init_process_group("nccl" if cuda else "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=count)
    finished = False
    try:
        value = train()
        if rank == 0:
            with open(Path(folder) / "result.pickle", "wb") as handle:
                pickle.dump(value, handle)
        finished = True
    except Exception as e:
        # What failed, in one line, for the process that started this one to report; marked when
        # it is only the echo of another process's failure (a collective that lost its partner).
        what = one_line(e)
        echo = collective_failed(e.__cause__ or e)
        (Path(folder) / f"failure{rank}.txt").write_text(("echo " if echo else "cause ") + what, encoding="utf-8")
        raise
    finally:
        if finished:  # as Processes.end: no teardown while another process still exchanges data
            dist.barrier()
        dist.destroy_process_group()


def _first_failure(folder: Path, error, count: int) -> str:
    """What stopped a run of `count` processes: a process's own failure rather than another's
    noticing it (which of them torch reports first is a race), or how a process ended."""
    failures = {int(path.stem.removeprefix("failure")): path.read_text(encoding="utf-8") for path in folder.glob("failure*.txt")}
    for rank, text in sorted(failures.items(), key=lambda item: (not item[1].startswith("cause "), item[0])):
        return f"process {rank} of {count}: {text.split(' ', 1)[1]}"
    return f"process {error.error_index} of {count}: it ended with exit code {getattr(error, 'exit_code', None)}"
