"""Callbacks: code trainnet runs as training goes (Keras' Callback, with MATLAB's OutputFcn built
on it), and the two logs built the same way, a CSV file and TensorBoard.

Every hook receives a `ProgressInfo`, the fields of MATLAB's OutputFcn info in Python spelling.
Its losses and metrics are kept as tensors and read only when asked for, so a callback that does
not look at them costs a training step no host synchronisation; the logs keep the tensors of an
epoch and read them with one transfer at its end.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from graphdl.diagnostics import error


def _number(value) -> float:
    return float(value.detach().float().cpu()) if isinstance(value, torch.Tensor) else float(value)


@dataclass(frozen=True)
class ProgressInfo:
    """Where training is, as MATLAB's OutputFcn info: `state` is "start" (before the first
    iteration), "iteration" (after one), "done" (at the end), or "failed" (at the end, when an
    exception stopped training: on_train_end only, which output functions are not called for)."""

    epoch: int
    iteration: int
    time_elapsed: float  # seconds
    learn_rate: float
    state: str
    # The values recorded at this iteration (or, at "done", by the final validation), by the names
    # of info.history: "loss", "accuracy", "validation loss", ...; tensors until read.
    values: Mapping[str, object] = field(default_factory=dict, repr=False)

    def value(self, name: str) -> float | None:
        """A recorded value as a number (read back from the device now), None if not recorded."""
        value = self.values.get(name)
        return None if value is None else _number(value)

    @property
    def training_loss(self) -> float | None:
        return self.value("loss")

    @property
    def validation_loss(self) -> float | None:
        return self.value("validation loss")

    @property
    def training_accuracy(self) -> float | None:
        return self.value("accuracy")

    @property
    def validation_accuracy(self) -> float | None:
        return self.value("validation accuracy")


class Callback:
    """Code run as training goes; override the hooks you need. A hook that returns True stops
    training cleanly after the current iteration, and trainnet returns the network so far (as an
    OutputFcn returning true does in MATLAB). on_train_end runs however training ends, so a log
    is closed after an exception too (its info's state is then "failed").

    A custom loop drives callbacks itself: call each hook with a ProgressInfo where the loop is.
    """

    def on_train_begin(self, info: ProgressInfo) -> bool | None:
        return None

    def on_epoch_begin(self, info: ProgressInfo) -> bool | None:
        return None

    def on_iteration_end(self, info: ProgressInfo) -> bool | None:
        return None

    def on_epoch_end(self, info: ProgressInfo) -> bool | None:
        return None

    def on_train_end(self, info: ProgressInfo) -> None:
        return None


class OutputFcn(Callback):
    """MATLAB's OutputFcn: functions called with the info before training ("start"), after each
    iteration ("iteration") and at the end ("done"); one returning True stops training."""

    def __init__(self, functions: Callable | Sequence[Callable]):
        self.functions = [functions] if callable(functions) else list(functions)

    def _call(self, info: ProgressInfo) -> bool:
        # Every function is called, as MATLAB calls each, even when an earlier one asks to stop.
        answers = [function(info) is True for function in self.functions]
        return any(answers)

    def on_train_begin(self, info):
        return self._call(info)

    def on_iteration_end(self, info):
        return self._call(info)

    def on_train_end(self, info):
        if info.state == "done":
            self._call(info)


class _EpochLog(Callback):
    """A log that keeps each iteration's values as tensors and reads an epoch's worth with one
    transfer, at the end of the epoch and of training."""

    def __init__(self) -> None:
        self._pending: list[tuple[ProgressInfo, dict]] = []

    def on_iteration_end(self, info):
        self._pending.append((info, dict(info.values)))

    def on_epoch_end(self, info):
        self._flush()

    def on_train_end(self, info):
        # The final validation (when the last iteration was not a validation one) comes only here.
        validation = {name: value for name, value in info.values.items() if name.startswith("validation")}
        if validation:
            self._pending.append((info, validation))
        self._flush()
        self._close()

    def _flush(self) -> None:
        if not self._pending:
            return
        tensors = [v.float().reshape(()) for _, values in self._pending for v in values.values() if isinstance(v, torch.Tensor)]
        numbers = iter(torch.stack(tensors).cpu().tolist() if tensors else [])
        rows = [(info, {name: next(numbers) if isinstance(v, torch.Tensor) else float(v) for name, v in values.items()}) for info, values in self._pending]
        self._pending = []
        self._write(rows)

    def _write(self, rows: list[tuple[ProgressInfo, dict[str, float]]]) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        return None


class CSVLogger(_EpochLog):
    """The history as a CSV file: one row per iteration (and one for a final validation), with
    the columns epoch, iteration, time_elapsed, learn_rate and then the metrics in info.history's
    order, a validation value only on the rows of validation iterations. Rows are written and
    flushed at the end of each epoch, so a crash leaves the rows of the finished epochs readable."""

    def __init__(self, path: str | Path, metrics: Sequence[str]):
        super().__init__()
        self.path, self.metrics = Path(path), list(metrics)
        self._file = None

    def on_train_begin(self, info):
        self._file = self.path.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file)
        self._writer.writerow(["epoch", "iteration", "time_elapsed", "learn_rate", *self.metrics])
        self._file.flush()

    def _write(self, rows):
        for info, values in rows:
            cells = [info.epoch, info.iteration, f"{info.time_elapsed:.4f}", f"{info.learn_rate:.6g}"]
            self._writer.writerow(cells + [f"{values[m]:.6g}" if m in values else "" for m in self.metrics])
        self._file.flush()

    def _close(self):
        if self._file is not None:
            self._file.close()


class TensorBoardLogger(_EpochLog):
    """The history as TensorBoard scalars (each metric against the iteration, and the learn
    rate), written at the end of each epoch. Needs the tensorboard package (graphdl[tensorboard])."""

    def __init__(self, log_dir: str | Path):
        super().__init__()
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as e:
            raise error("E008", "tensorboard_dir needs the package tensorboard", help='pip install "graphdl[tensorboard]"') from e
        self.log_dir = Path(log_dir)
        self._writer_class = SummaryWriter
        self._writer = None

    def on_train_begin(self, info):
        self._writer = self._writer_class(log_dir=str(self.log_dir))

    def _write(self, rows):
        for info, values in rows:
            for name, value in values.items():
                self._writer.add_scalar(name, value, info.iteration)
            if info.state == "iteration":
                self._writer.add_scalar("learn rate", info.learn_rate, info.iteration)
        self._writer.flush()

    def _close(self):
        if self._writer is not None:
            self._writer.close()
