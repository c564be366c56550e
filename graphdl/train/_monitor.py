"""Watching training: a progress bar on the terminal and the training-progress plot in a file.

A `TrainingProgressMonitor` (after MATLAB's trainingProgressMonitor) records metrics per
iteration. A recorded value may be a tensor still on the GPU: it is read only when the bar is
redrawn (a few times a second at most) or when the history is asked for, so recording costs a
training step no host synchronisation.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from graphdl.diagnostics import error, suggest


def _number(value) -> float:
    return float(value.detach().float().cpu()) if isinstance(value, torch.Tensor) else float(value)


class TrainingProgressMonitor:
    def __init__(
        self,
        metrics: Sequence[str] = ("loss",),
        *,
        x_label: str = "Iteration",
        stream=None,
        bar: bool | None = None,
        refresh_seconds: float = 0.2,
    ):
        self.metrics = tuple(metrics)
        self.x_label = x_label
        self.stream = stream if stream is not None else sys.stdout
        self.bar = self.stream.isatty() if bar is None else bar
        self.refresh_seconds = refresh_seconds
        self.progress = 0.0  # percent
        self.info: dict[str, object] = {}
        self.epoch_starts: list[int] = []
        self._records: dict[str, list[tuple[int, object]]] = {m: [] for m in self.metrics}
        self._read: dict[str, list[float]] = {m: [] for m in self.metrics}  # values read back so far
        self._drawn_at = 0.0
        self._bar_shown = False

    # ---- recording ----------------------------------------------------------------------------------

    def record(self, iteration: int, **values) -> None:
        """Record metric values (numbers or scalar tensors) at an iteration."""
        for name, value in values.items():
            if name not in self._records:
                raise error("E805", f"unknown metric {name!r}; this monitor records {', '.join(self.metrics)}", help=suggest(name, self.metrics))
            self._records[name].append((iteration, value.detach() if isinstance(value, torch.Tensor) else value))
        self._maybe_draw()

    def update_info(self, **info) -> None:
        """Information shown beside the bar (epoch, learn rate, ...)."""
        self.info.update(info)
        self._maybe_draw()

    def mark_epoch(self, iteration: int) -> None:
        """Note that an epoch starts at `iteration`, for the plot's epoch bands."""
        self.epoch_starts.append(iteration)

    def history(self, metric: str) -> tuple[list[int], list[float]]:
        """The iterations and values recorded for a metric. Values not read yet are read with one
        transfer from the device; values read once are not read again."""
        records, read = self._records[metric], self._read[metric]
        pending = [v for _, v in records[len(read) :]]
        tensors = [v.float().reshape(()) for v in pending if isinstance(v, torch.Tensor)]
        numbers = iter(torch.stack(tensors).cpu().tolist() if tensors else [])
        read.extend(next(numbers) if isinstance(v, torch.Tensor) else float(v) for v in pending)
        return [i for i, _ in records], list(read)

    def last(self, metric: str) -> float | None:
        records = self._records[metric]
        return _number(records[-1][1]) if records else None

    # ---- the terminal -----------------------------------------------------------------------------

    def _maybe_draw(self) -> None:
        if not self.bar:
            return
        now = time.monotonic()
        if now - self._drawn_at >= self.refresh_seconds:
            self._drawn_at = now
            self.draw()

    def draw(self) -> None:
        width = 24
        filled = int(width * min(max(self.progress, 0.0), 100.0) / 100)
        parts = [f"[{'#' * filled}{'.' * (width - filled)}] {self.progress:3.0f}%"]
        parts += [f"{name} {value}" for name, value in self.info.items()]
        parts += [f"{name} {self.last(name):.4f}" for name in self.metrics if self._records[name]]
        self.stream.write("\r" + "  ".join(parts) + "\x1b[K")
        self.stream.flush()
        self._bar_shown = True

    def print(self, line: str) -> None:
        """Print a line above the bar."""
        if self._bar_shown:
            self.stream.write("\r\x1b[K")
            self._bar_shown = False
        self.stream.write(line + "\n")
        self.stream.flush()
        self._drawn_at = 0.0

    def close(self) -> None:
        if self._bar_shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._bar_shown = False

    # ---- the plot ---------------------------------------------------------------------------------

    def save(self, path: str | Path, title: str = "Training progress") -> Path:
        """Write the plot of every metric against the iteration to an image file (any format
        matplotlib writes: .png, .svg, .pdf). Metrics with "accuracy" in their name share one
        panel, the others (losses) another; validation metrics are drawn dashed."""
        # A bare Figure draws without pyplot, so no GUI backend or global state is involved.
        from matplotlib.figure import Figure

        panels = [[m for m in self.metrics if "accuracy" in m], [m for m in self.metrics if "accuracy" not in m]]
        panels = [p for p in panels if any(self._records[m] for m in p)]
        figure = Figure(figsize=(9, 3.2 * max(len(panels), 1)), layout="constrained")
        axes = figure.subplots(max(len(panels), 1), 1, squeeze=False)[:, 0]
        figure.suptitle(title)
        for ax, names in zip(axes, panels):
            for name in names:
                x, y = self.history(name)
                if name.startswith("validation"):
                    ax.plot(x, y, "--o", color="black", markersize=3, label=name)
                else:
                    line = ax.plot(x, y, alpha=0.35, linewidth=1)[0]
                    ax.plot(x, _smooth(y), color=line.get_color(), linewidth=1.6, label=f"{name} (smoothed)")
            last = max((records[-1][0] for records in self._records.values() if records), default=0)
            bounds = [*self.epoch_starts, last + 1]
            for i in range(1, len(self.epoch_starts), 2):  # every other epoch shaded, as MATLAB does
                ax.axvspan(bounds[i] - 0.5, bounds[i + 1] - 0.5, color="0.93", zorder=0)
            ax.set_ylabel("Accuracy (%)" if "accuracy" in names[0] else "Loss")
            ax.grid(alpha=0.3)
            ax.legend(loc="best", fontsize="small")
        axes[-1].set_xlabel(self.x_label)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial{path.suffix}")
        figure.savefig(partial, dpi=110)
        os.replace(partial, path)
        return path


def _smooth(values: list[float], weight: float = 0.6) -> list[float]:
    """Exponential moving average, as the smoothed line of MATLAB's plot."""
    out, current = [], None
    for v in values:
        current = v if current is None else weight * current + (1 - weight) * v
        out.append(current)
    return out
