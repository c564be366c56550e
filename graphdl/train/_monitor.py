"""Watching training: a progress bar (tqdm's) or plain lines, and the training-progress plot, in a
file or live in a Jupyter notebook.

A `TrainingProgressMonitor` (after MATLAB's trainingProgressMonitor) records metrics per
iteration. A recorded value may be a tensor still on the GPU: it is read only when the bar is
redrawn (a few times a second at most), when the live plot is redrawn (every few seconds) or when
the history is asked for, so recording costs a training step no host synchronisation.
"""

from __future__ import annotations

import io
import math
import os
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import torch

# tqdm.auto picks the Jupyter widget in a notebook kernel, the text bar elsewhere. In a notebook
# without ipywidgets it warns once on import and falls back to the text bar; that fallback is
# what we want, and the warning would be an error under `-W error`, so it is silenced here.
with warnings.catch_warnings():
    from tqdm import TqdmWarning

    warnings.simplefilter("ignore", TqdmWarning)
    from tqdm import auto as _tqdm_auto

from graphdl.diagnostics import error, suggest

# Whether tqdm.auto chose the notebook widget, which draws in the notebook, not on a stream.
_NOTEBOOK = _tqdm_auto.notebook_tqdm is not _tqdm_auto.std_tqdm

_DPI = 110  # the plot's resolution, in a file and live alike
# The live plot is redrawn at most every this many seconds, and never sooner than this many times
# the last redraw's duration after it, so that drawing takes at most 1/51 (2%) of training's time.
_PLOT_SECONDS, _PLOT_SHARE = 2.0, 50


def _in_kernel() -> bool:
    """Whether this runs in a Jupyter kernel, which has a page to draw on (a terminal IPython has no
    `kernel`). IPython is not imported to find out: a kernel has always imported it, and elsewhere
    the import would cost a second for nothing."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and hasattr(shell, "kernel")


def _number(value) -> float:
    return float(value.detach().float().cpu()) if isinstance(value, torch.Tensor) else float(value)


class TrainingProgressMonitor:
    """Records metrics per iteration and shows them.

    `bar=None` shows tqdm's bar (rate, time left, the last values) when the stream is a terminal, or
    its widget in a Jupyter notebook, and nothing live otherwise: a log gets only the lines given to
    `print`. `bar=False` never draws. `refresh_seconds` bounds how often the bar redraws, and so how
    often the last values are read back from the device.

    `live_plot=True` draws the training-progress plot live when running inside a Jupyter kernel,
    where there is a page to draw on: one picture, redrawn in place as values are recorded, no more
    often than every few seconds (so that it costs at most about 2% of the time), and at `close`
    with the final values. Elsewhere it does nothing; `save` writes the plot to a file either way."""

    def __init__(
        self,
        metrics: Sequence[str] = ("loss",),
        *,
        x_label: str = "Iteration",
        stream=None,
        bar: bool | None = None,
        refresh_seconds: float = 0.2,
        live_plot: bool = True,
    ):
        self.metrics = tuple(metrics)
        self.x_label = x_label
        self.stream = stream if stream is not None else sys.stdout
        if bar is None:
            bar = self.stream.isatty() or (_NOTEBOOK and self.stream is sys.stdout)
        self.bar = bar
        self.refresh_seconds = refresh_seconds
        self.info: dict[str, object] = {}
        self.epoch_starts: list[int] = []
        self._records: dict[str, list[tuple[int, object]]] = {m: [] for m in self.metrics}
        self._read: dict[str, list[float]] = {m: [] for m in self.metrics}  # values read back so far
        self._iteration = 0  # the last iteration recorded
        self._progress, self._progress_iteration = 0.0, 0
        self._drawn_at = -math.inf
        self._tqdm = None  # made at the first draw, so that a monitor that is never drawn prints nothing
        self._live = live_plot and _in_kernel()
        self._picture = None  # the live plot's display handle, made at its first draw
        self._plotted_at, self._plot_seconds = -math.inf, 0.0

    @property
    def progress(self) -> float:
        """Percent done (MATLAB's monitor.Progress)."""
        return self._progress

    @progress.setter
    def progress(self, percent: float) -> None:
        # The iteration the percentage was given at gives the bar its total, hence its time left.
        self._progress, self._progress_iteration = float(percent), self._iteration

    # ---- recording ----------------------------------------------------------------------------------

    def record(self, iteration: int, **values) -> None:
        """Record metric values (numbers or scalar tensors) at an iteration."""
        for name, value in values.items():
            if name not in self._records:
                raise error("E805", f"unknown metric {name!r}; this monitor records {', '.join(self.metrics)}", help=suggest(name, self.metrics))
            self._records[name].append((iteration, value.detach() if isinstance(value, torch.Tensor) else value))
        self._iteration = max(self._iteration, iteration)
        self._maybe_draw()
        if self._live and time.monotonic() - self._plotted_at >= max(_PLOT_SECONDS, _PLOT_SHARE * self._plot_seconds):
            self.plot()

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

    # ---- the bar ----------------------------------------------------------------------------------

    def _maybe_draw(self) -> None:
        if not self.bar:
            return
        now = time.monotonic()
        if now - self._drawn_at >= self.refresh_seconds:
            self._drawn_at = now
            self.draw()

    def draw(self) -> None:
        """Redraw the bar now, reading the last value of each metric back from the device."""
        if self._tqdm is None:
            # dynamic_ncols: the bar fits the terminal's width, read again at every redraw. We
            # decide when to redraw (mininterval 0, miniters 1), so that the values beside the bar
            # are read only then.
            self._tqdm = _tqdm_auto.tqdm(file=self.stream, dynamic_ncols=True, mininterval=0, miniters=1, unit="it", leave=True)
        bar = self._tqdm
        if self._progress > 0:
            bar.total = max(round(self._progress_iteration * 100 / self._progress), self._iteration)
        values = {name: self.last(name) for name in self.metrics if self._records[name]}
        parts = [f"{name} {v:.2f}%" if "accuracy" in name else f"{name} {v:.4f}" for name, v in values.items()]
        parts += [f"{name} {value}" for name, value in self.info.items()]
        bar.set_postfix_str("  ".join(parts), refresh=False)
        if self._iteration > bar.n:
            bar.update(self._iteration - bar.n)  # redraws, and times the steps for the rate
        else:
            bar.refresh()

    def print(self, line: str) -> None:
        """Print a line; on a terminal it goes above the bar, which is redrawn at the next record."""
        if self._tqdm is not None:
            self._tqdm.clear()
        self.stream.write(line + "\n")
        self.stream.flush()
        self._drawn_at = -math.inf

    def close(self) -> None:
        """Draw the bar a last time and leave it (the run's total time and rate) in place, and the
        live plot with the final values."""
        if self._tqdm is not None:
            self.draw()
            self._tqdm.close()
            self._tqdm = None
        self.plot()

    # ---- the plot ---------------------------------------------------------------------------------

    def save(self, path: str | Path, title: str = "Training progress") -> Path:
        """Write the plot of every metric against the iteration to an image file (any format
        matplotlib writes: .png, .svg, .pdf). Metrics with "accuracy" in their name share one
        panel, the others (losses) another; validation metrics are drawn dashed."""
        figure = self._figure(title)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial{path.suffix}")
        figure.savefig(partial, dpi=_DPI)
        os.replace(partial, path)
        return path

    def plot(self) -> None:
        """Redraw the live plot now with every value recorded so far (`record` redraws it every few
        seconds, `close` at the end). It does nothing outside a Jupyter kernel, with
        `live_plot=False`, or before anything is recorded."""
        if not self._live or not any(self._records.values()):
            return
        # matplotlib is imported before the clock starts: the first draw would otherwise count its
        # import, and the wait before the second draw would be fifty times that.
        import matplotlib.figure  # noqa: F401
        from IPython.display import Image, display

        started = time.monotonic()
        png = io.BytesIO()
        self._figure("Training progress").savefig(png, format="png", dpi=_DPI)
        picture = Image(data=png.getvalue(), format="png")
        if self._picture is None:
            self._picture = display(picture, display_id=True)
        else:
            self._picture.update(picture)
        self._plotted_at = time.monotonic()
        self._plot_seconds = self._plotted_at - started

    def _figure(self, title: str):
        """The plot, for a file and for the live picture alike."""
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
        return figure


def _smooth(values: list[float], weight: float = 0.6) -> list[float]:
    """Exponential moving average, as the smoothed line of MATLAB's plot."""
    out, current = [], None
    for v in values:
        current = v if current is None else weight * current + (1 - weight) * v
        out.append(current)
    return out
