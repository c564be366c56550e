"""Data as users have it, as trainnet's mini-batches: a `torch.utils.data.Dataset` (trainnet makes
the DataLoader), a `DataLoader`, or any re-iterable of batches. Each item of a Dataset, and each
batch of a loader, is a pair (X, T): X a tensor, or a tuple of one per input in `input_names`
order; T likewise per output (the convention of trainnet's arrays).

`DataQueue` has what trainnet uses of `MiniBatchQueue` (len, shuffle, reset, iteration), so the
training loop is one for arrays and for these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, IterableDataset, Sampler, default_collate

from graphdl.diagnostics import error
from graphdl.train._random import random_states, set_random_states


def is_data_source(data) -> bool:
    """A Dataset, a DataLoader or another iterable of batches (not arrays or tensors)."""
    if isinstance(data, (Dataset, DataLoader)):
        return True
    if isinstance(data, (torch.Tensor, str, bytes, tuple)) or hasattr(data, "__array__"):
        return False
    return hasattr(data, "__iter__")


class _BatchOrder(Sampler):
    """The batches of a Dataset in the current order: `order` is a permutation drawn as
    MiniBatchQueue draws its own, so that a Dataset of the arrays is shuffled as the arrays are."""

    def __init__(self, num_observations: int, mini_batch_size: int, drop_last: bool, shard: tuple[int, int] = (0, 1)):
        self.order = torch.arange(num_observations)
        self.mini_batch_size, self.drop_last, self.shard = mini_batch_size, drop_last, shard

    def __len__(self) -> int:
        full, rest = divmod(len(self.order), self.mini_batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __iter__(self):
        size = self.mini_batch_size
        rank, processes = self.shard
        for start in range(0, len(self) * size, size):
            # In distributed training, this process's part of the mini-batch, as MiniBatchQueue's.
            yield self.order[start : start + size].tensor_split(processes)[rank].tolist()


class DataQueue:
    """Mini-batches from a loader, each converted by `split` into a tuple of tensors (the inputs,
    then the targets) and moved to `device`. With a `batch_order` (a Dataset trainnet batches
    itself) `shuffle` draws a new order; a user's DataLoader or iterable keeps its own order.
    A dataset with `set_epoch` (augmented_image_datastore) is told each pass's number before it.

    For exact resume the queue keeps where it is: the pass, the batches taken in it, and the
    random states as the pass began (the global generators and the loader's own), from which a
    DataLoader draws its shuffle order and its workers' seeds. `resume_at` puts it back: its next
    pass begins from those states and draws again, and drops, the batches taken before, since
    a DataLoader cannot be told where to begin; then the random states are the checkpoint's."""

    def __init__(self, loader: Iterable, split: Callable, device: torch.device, batch_order: _BatchOrder | None = None):
        self.loader, self.split, self.device, self.batch_order = loader, split, device, batch_order
        self.dataset = getattr(loader, "dataset", None)
        self.generator: torch.Generator | None = getattr(loader, "generator", None)
        self.passes = 0
        self.position = 0  # batches taken in the current pass
        self.pass_states: dict | None = None  # the random states as the current pass began
        self._resume: tuple[int, dict] | None = None
        self._length: int | None = None

    def __len__(self) -> int:
        """Mini-batches in one pass; an iterable without len() is gone through once to count them."""
        if self._length is None:
            try:
                self._length = len(self.loader)
            except TypeError:
                self._length = sum(1 for _ in self.loader)
        return self._length

    def shuffle(self, generator: torch.Generator | None = None) -> None:
        if self.batch_order is not None:
            self.batch_order.order = torch.randperm(len(self.batch_order.order), generator=generator)

    def reset(self) -> None:
        """Nothing to rewind: each pass starts a new iterator."""

    def checkpoint_state(self) -> dict:
        return {
            "batches": len(self),
            "passes": self.passes,
            "position": self.position,
            "pass_states": self.pass_states,
            "order": None if self.batch_order is None else self.batch_order.order,
        }

    def resume_at(self, state: dict, within_pass: bool) -> None:
        """Continue from a checkpoint's `checkpoint_state()`: within its pass, or (the pass had
        ended) with the next one."""
        if self.batch_order is not None:
            self.batch_order.order = state["order"]
        self.passes = state["passes"] - 1 if within_pass else state["passes"]
        self._resume = (state["position"], state["pass_states"]) if within_pass else None

    def __iter__(self):
        self.passes += 1
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(self.passes)
        for sampler in (getattr(self.loader, "sampler", None), getattr(getattr(self.loader, "batch_sampler", None), "sampler", None)):
            if isinstance(sampler, DistributedSampler):  # its shuffle order is drawn from (seed, epoch)
                sampler.set_epoch(self.passes)
        self.position = 0
        if self._resume is None:
            self.pass_states = self._states()
            batches = iter(self.loader)
        else:
            (self.position, self.pass_states), self._resume = self._resume, None
            now = random_states()
            set_random_states(self.pass_states["global"])
            if self.generator is not None:
                self.generator.set_state(self.pass_states["loader"])
            batches = iter(self.loader)
            for _ in range(self.position):
                next(batches)
            set_random_states(now)
        for batch in batches:
            self.position += 1
            yield tuple(t.to(self.device, non_blocking=True) for t in self.split(batch))

    def _states(self) -> dict:
        return {"global": random_states(), "loader": None if self.generator is None else self.generator.get_state()}

    def first_batch(self) -> tuple[torch.Tensor, ...]:
        """The first mini-batch, on the CPU, for the checks before training (no worker started)."""
        if self.batch_order is not None:
            dataset = self.loader.dataset
            return self.split(default_collate([dataset[i] for i in range(min(self.batch_order.mini_batch_size, len(dataset)))]))
        for batch in self.loader:
            return self.split(batch)
        raise error("E801", "trainnet: the data has no batches")

    def all_batches(self, mini_batch_size: int, num_workers: int):
        """Every observation once, in order, as batches of tensors on the CPU (for the input
        normalisation's statistics): a Dataset trainnet batches without dropping the last partial
        batch; a user's loader as it comes."""
        loader = self.loader
        if self.batch_order is not None:
            loader = DataLoader(self.loader.dataset, batch_size=mini_batch_size, num_workers=num_workers, generator=self.loader.generator)
        return (self.split(batch) for batch in loader)


def data_queue(data, split: Callable, device: torch.device, *, mini_batch_size: int, num_workers: int, training: bool,
               shard: tuple[int, int] = (0, 1)) -> DataQueue:
    """The DataQueue of a Dataset, a DataLoader or an iterable of batches. A Dataset is batched
    by `mini_batch_size`, the last partial batch dropped when `training` (as MATLAB's trainnet
    does); a generator or another one-shot iterator is refused, since training goes through the
    data once per epoch. In distributed training (`shard`: (rank, processes)) a Dataset's
    mini-batches are shared out as MiniBatchQueue's; a DataLoader must shard its data itself with
    a DistributedSampler; other iterables and an IterableDataset are refused."""
    processes = shard[1]
    samplers = (getattr(data, "sampler", None), getattr(getattr(data, "batch_sampler", None), "sampler", None))
    sharded = isinstance(data, DataLoader) and any(isinstance(sampler, DistributedSampler) for sampler in samplers)
    if processes > 1 and training and not sharded and (isinstance(data, (DataLoader, IterableDataset)) or not isinstance(data, Dataset)):
        raise error(
            "E802",
            f"trainnet: in distributed training ({processes} processes) each process needs its own share of the data, and a "
            f"{type(data).__name__} gives every process all of it",
            help="give trainnet the Dataset (it shares each mini-batch out), or a DataLoader with a DistributedSampler",
        )
    if isinstance(data, DataLoader) or not isinstance(data, Dataset):
        # (iter() of a DataLoader would start its workers; a DataLoader is re-iterable anyway.)
        if not isinstance(data, DataLoader) and iter(data) is data:
            raise error(
                "E802",
                f"trainnet: the data is a {type(data).__name__}, which can be gone through only once, and training goes through "
                "the data once per epoch",
                help="give a list of batches, a torch DataLoader, or a Dataset of (X, T) pairs",
            )
        return DataQueue(data, split, device)
    # The workers' seeds come from this generator, seeded from torch's initial seed, so that they
    # are reproducible (torch.manual_seed) and drawing them leaves torch's global generator, which
    # the shuffle order and dropout use, as the arrays' path leaves it.
    generator = torch.Generator().manual_seed(torch.initial_seed())
    common = {"num_workers": num_workers, "pin_memory": device.type == "cuda", "generator": generator}
    if isinstance(data, IterableDataset):
        return DataQueue(DataLoader(data, batch_size=mini_batch_size, drop_last=training, **common), split, device)
    if training and mini_batch_size > len(data):
        raise error("E802", f"trainnet: the mini-batch size {mini_batch_size} is larger than the {len(data)} observations")
    if len(data) == 0:
        raise error("E801", "trainnet: the data has no observations")
    # Workers are not persistent: each pass forks them afresh, so a set_epoch reaches them.
    order = _BatchOrder(len(data), mini_batch_size, drop_last=training, shard=shard if training else (0, 1))
    return DataQueue(DataLoader(data, batch_sampler=order, **common), split, device, order)
