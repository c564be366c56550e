"""Training options: MATLAB's trainingOptions, with its names in Python's spelling and its
defaults."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path

# What the training-progress plot can be written as (formats matplotlib writes without extras).
PLOT_FORMATS = ("png", "svg", "pdf", "jpg", "jpeg")


@dataclass(frozen=True)
class TrainingOptions:
    solver: str = "sgdm"
    initial_learn_rate: float = 0.01
    max_epochs: int = 30
    mini_batch_size: int = 128
    shuffle: str = "once"  # "once", "every-epoch" or "never"
    momentum: float = 0.9
    l2_regularization: float = 1e-4
    learn_rate_schedule: str = "none"  # "none" or "piecewise"
    learn_rate_drop_factor: float = 0.1
    learn_rate_drop_period: int = 10
    validation_data: tuple | None = None  # (X, T)
    validation_frequency: int = 50  # iterations
    verbose: bool = True
    verbose_frequency: int = 50  # iterations between reads of the loss: how soon a NaN loss stops training
    plots: str = "none"  # "none" or "training-progress"
    plots_path: str = "training-progress.png"  # where "training-progress" writes its picture
    checkpoint_path: str | None = None  # a folder: a checkpoint there after each epoch
    execution_environment: str = "auto"  # "auto", "cpu" or "gpu"
    reset_input_normalization: bool = True

    def __post_init__(self) -> None:
        checks = [
            (self.solver == "sgdm", 'solver must be "sgdm"'),
            (self.initial_learn_rate > 0, "initial_learn_rate must be positive"),
            (isinstance(self.max_epochs, int) and self.max_epochs >= 1, "max_epochs must be a positive integer"),
            (isinstance(self.mini_batch_size, int) and self.mini_batch_size >= 1, "mini_batch_size must be a positive integer"),
            (self.shuffle in ("once", "every-epoch", "never"), 'shuffle must be "once", "every-epoch" or "never"'),
            (0 <= self.momentum <= 1, "momentum must be in [0, 1]"),
            (self.l2_regularization >= 0, "l2_regularization must be non-negative"),
            (self.learn_rate_schedule in ("none", "piecewise"), 'learn_rate_schedule must be "none" or "piecewise"'),
            (self.learn_rate_drop_period >= 1, "learn_rate_drop_period must be positive"),
            (self.validation_frequency >= 1 and self.verbose_frequency >= 1, "frequencies must be positive"),
            (self.plots in ("none", "training-progress"), 'plots must be "none" or "training-progress"'),
            (Path(self.plots_path).suffix.lower().lstrip(".") in PLOT_FORMATS, f"plots_path must end in one of {', '.join('.' + f for f in PLOT_FORMATS)}"),
            (self.execution_environment in ("auto", "cpu", "gpu"), 'execution_environment must be "auto", "cpu" or "gpu"'),
        ]
        problems = [message for ok, message in checks if not ok]
        if problems:
            raise ValueError("invalid training options: " + "; ".join(problems))


def training_options(solver: str = "sgdm", **options) -> TrainingOptions:
    """MATLAB's `trainingOptions("sgdm", InitialLearnRate=0.01, MaxEpochs=4)` is
    `training_options("sgdm", initial_learn_rate=0.01, max_epochs=4)`."""
    known = {f.name for f in fields(TrainingOptions)}
    unknown = sorted(set(options) - known)
    if unknown:
        from graphdl.diagnostics import suggest

        hint = suggest(unknown[0], known)
        raise TypeError(f"unknown training option {unknown[0]!r}" + (f"; {hint}" if hint else ""))
    return replace(TrainingOptions(solver=solver), **options)
