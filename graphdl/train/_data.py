"""Mini-batches over in-memory data, as MATLAB's minibatchqueue."""

from __future__ import annotations

import numpy as np
import torch

from graphdl.diagnostics import error


def as_tensor(data) -> torch.Tensor:
    """Arrays and tensors alike, as tensors: floating data as float32, integers as int64."""
    tensor = data if isinstance(data, torch.Tensor) else torch.from_numpy(np.asarray(data))
    if tensor.is_floating_point():
        return tensor.to(torch.get_default_dtype())
    if tensor.dtype == torch.bool:
        return tensor
    return tensor.long()


class MiniBatchQueue:
    """Mini-batches of observations (batch first) from one or more arrays or tensors of one length.

    `partial` says what to do with a last, smaller mini-batch: "return" it or "discard" it (as
    trainnet does). Batches come in the current order; `shuffle` draws a new order and rewinds.
    A batch is a tensor from a queue of one array (`for X in queue: net.forward(X)`), a tuple of
    tensors, one per array, from a queue of several (`for X, T in queue`).

    In distributed training, `shard=(rank, processes)` makes each batch this process's part of the
    mini-batch (the global one, of `mini_batch_size`): every process draws the same order (from
    the same seed, or broadcast) and takes its own slice of each mini-batch.
    """

    def __init__(self, *data, mini_batch_size: int = 128, partial: str = "return", device: str | torch.device | None = None,
                 shard: tuple[int, int] = (0, 1)):
        if not data:
            raise error("E802", "MiniBatchQueue needs at least one array")
        self.data = tuple(as_tensor(d) for d in data)
        lengths = {len(d) for d in self.data}
        if len(lengths) != 1:
            raise error("E802", f"MiniBatchQueue: the arrays have different numbers of observations: {sorted(lengths)}")
        if partial not in ("return", "discard"):
            raise error("E802", f'MiniBatchQueue: partial must be "return" or "discard", not {partial!r}')
        if mini_batch_size < 1:
            raise error("E802", f"MiniBatchQueue: mini_batch_size must be positive, not {mini_batch_size}")
        self.num_observations = lengths.pop()
        self.mini_batch_size = mini_batch_size
        self.partial = partial
        self.device = torch.device(device) if device is not None else None
        rank, processes = shard
        if not (isinstance(processes, int) and isinstance(rank, int) and 0 <= rank < processes):
            raise error("E802", f"MiniBatchQueue: shard is (rank, processes), the rank from 0 to processes - 1, not {shard!r}")
        self.shard = shard
        self.order = torch.arange(self.num_observations)
        self.position = 0

    def __len__(self) -> int:
        """Mini-batches in one pass over the data."""
        full, rest = divmod(self.num_observations, self.mini_batch_size)
        return full + (1 if rest and self.partial == "return" else 0)

    def has_data(self) -> bool:
        remaining = self.num_observations - self.position
        return remaining >= self.mini_batch_size or (remaining > 0 and self.partial == "return")

    def next(self) -> torch.Tensor | tuple[torch.Tensor, ...]:
        if not self.has_data():
            raise StopIteration("end of data reached: call reset() or shuffle()")
        index = self.order[self.position : self.position + self.mini_batch_size]
        self.position += len(index)
        rank, processes = self.shard
        if processes > 1:
            index = index.tensor_split(processes)[rank]
        batch = tuple(self._move(d[index]) for d in self.data)
        return batch[0] if len(batch) == 1 else batch

    def reset(self) -> None:
        self.position = 0

    def shuffle(self, generator: torch.Generator | None = None) -> None:
        self.order = torch.randperm(self.num_observations, generator=generator)
        self.position = 0

    def __iter__(self):
        while self.has_data():
            yield self.next()

    def _move(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.device is None or tensor.device == self.device:
            return tensor
        return tensor.to(self.device, non_blocking=True)
