"""Training options: MATLAB's trainingOptions, with its names in Python's spelling and its
defaults. Some defaults depend on the solver, as in MATLAB (the learn rate is 0.01 for sgdm and
0.001 for adam and rmsprop): left as None, they take the solver's when the options are made, so
`training_options("adam")` is the way to another solver (`dataclasses.replace(options,
solver="adam")` keeps the values the options already have)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import torch

from graphdl.diagnostics import Diagnostic, GraphdlError, error, suggest
from graphdl.train._callbacks import Callback
from graphdl.train._metrics import CLASSIFICATION_METRICS, REGRESSION_METRICS, named_metric
from graphdl.train._precision import PRECISIONS

# What the training-progress plot can be written as (formats matplotlib writes without extras).
PLOT_FORMATS = ("png", "svg", "pdf", "jpg", "jpeg")

SOLVERS = ("sgdm", "adam", "rmsprop")
LEARN_RATE_SCHEDULES = ("none", "piecewise", "warmup", "cosine")
# The options whose MATLAB default depends on the solver.
_SOLVER_DEFAULTS = {
    "sgdm": {"initial_learn_rate": 0.01, "squared_gradient_decay_factor": 0.999},
    "adam": {"initial_learn_rate": 0.001, "squared_gradient_decay_factor": 0.999},
    "rmsprop": {"initial_learn_rate": 0.001, "squared_gradient_decay_factor": 0.9},
}
GRADIENT_THRESHOLD_METHODS = ("l2norm", "global-l2norm", "absolute-value")
OUTPUT_NETWORKS = ("auto", "last-iteration", "best-validation-loss")


@dataclass(frozen=True)
class TrainingOptions:
    # "sgdm", "adam" or "rmsprop"; or a torch.optim.Optimizer class or factory (`lambda params:
    # torch.optim.AdamW(params, lr=1e-3)`), given the network's param_groups: its lr and
    # weight_decay are the base values the factors multiply (initial_learn_rate stays unset)
    solver: str | Callable = "sgdm"
    initial_learn_rate: float | None = None  # 0.01 for sgdm, 0.001 for adam and rmsprop
    max_epochs: int = 30
    mini_batch_size: int = 128
    shuffle: str = "once"  # "once", "every-epoch" or "never"
    momentum: float = 0.9  # sgdm
    gradient_decay_factor: float = 0.9  # adam
    squared_gradient_decay_factor: float | None = None  # adam (0.999) and rmsprop (0.9)
    epsilon: float = 1e-8  # adam and rmsprop
    gradient_threshold: float = math.inf  # clip gradients above this (inf: never)
    gradient_threshold_method: str = "l2norm"  # "l2norm", "global-l2norm" or "absolute-value"
    l2_regularization: float = 1e-4
    # MATLAB's solvers: "none", "piecewise", "warmup", "cosine" (over max_epochs), or a function
    # `schedule(iteration, epoch)` giving the learn rate itself (TimeBasedDecay(0.01), Warmup, ...)
    learn_rate_schedule: str | Callable = "none"
    learn_rate_drop_factor: float = 0.1
    learn_rate_drop_period: int = 10
    # (X, T) arrays as trainnet takes them, or a Dataset, a DataLoader or a re-iterable of batches
    validation_data: tuple | object | None = None
    validation_frequency: int = 50  # iterations
    validation_patience: float = math.inf  # stop after this many validations without a lower loss
    output_network: str = "auto"  # "auto", "last-iteration" or "best-validation-loss"
    verbose: bool = True
    verbose_frequency: int = 50  # print a line every this many iterations (MATLAB's); a NaN loss is caught then
    # "none", "training-progress" (written to plots_path at each epoch's end), or the picture's file
    # name; either of the last two also shows the plot live when trainnet runs in a Jupyter notebook
    plots: str = "none"
    plots_path: str = "training-progress.png"  # where "training-progress" writes its picture
    checkpoint_path: str | None = None  # a folder: checkpoints there, to resume from (trainnet's resume=)
    checkpoint_frequency: int = 1  # a checkpoint every this many epochs or iterations
    checkpoint_frequency_unit: str = "epoch"  # "epoch" or "iteration"
    checkpoints_kept: int | None = None  # keep the newest this many checkpoints (None: all)
    # "auto" (a GPU if torch sees one), "cpu", "gpu", or a torch device ("cuda:1", "mps"); under
    # torchrun, each process takes its own GPU (LOCAL_RANK) or the CPU. "parallel" and "multi-gpu"
    # (MATLAB's) start `workers` processes themselves: on the CPU (one a core), or one a GPU
    execution_environment: str = "auto"
    workers: int | None = None  # "parallel" / "multi-gpu": how many processes (default: one a core, one a GPU)
    # "fp32", or mixed precision: "bf16" or "fp16" autocast of the forward pass and the loss
    # (fp16 with dynamic loss scaling); the learnables and the solver's state stay float32
    precision: str = "fp32"
    channels_last: bool = False  # images (and convolution weights) in channels-last memory layout
    # with several processes (torchrun), batch normalisation over the whole distributed mini-batch
    # (SyncBatchNorm) instead of each process's share of it
    sync_batch_norm: bool = False
    # with several processes, split each layer's learnables, gradients and solver state among them
    # (FSDP's fully_shard) instead of a whole copy in each: for a network too large for one device
    fully_shard: bool = False
    reset_input_normalization: bool = True
    num_workers: int = 0  # DataLoader worker processes reading a Dataset (0: in the training process)
    # A torch optimizer's schedule: a torch.optim.lr_scheduler class or factory given the
    # optimizer (`lambda opt: OneCycleLR(opt, max_lr=0.01, total_steps=n)`), stepped after every
    # iteration or every epoch as lr_scheduler_step says.
    lr_scheduler: Callable | None = None
    lr_scheduler_step: str = "iteration"  # "iteration" or "epoch"
    # MATLAB's OutputFcn: a function or a list of them, called with a ProgressInfo before
    # training, after each iteration and at the end; one returning True stops training.
    output_fcn: Callable | Sequence[Callable] | None = None
    # MATLAB's Metrics: names ("accuracy", "top5-accuracy", "fscore", "rmse") or functions
    # f(Y, T) -> scalar tensor; left empty, the accuracy of each output trained on class indices.
    metrics: Sequence[str | Callable] = ()
    callbacks: Sequence = ()  # Callback objects (graphdl.train.Callback), run in this order
    log_csv: str | Path | None = None  # a CSV file: one row per iteration, written each epoch
    tensorboard_dir: str | Path | None = None  # TensorBoard scalars there (graphdl[tensorboard])

    def __post_init__(self) -> None:
        torch_solver = not isinstance(self.solver, str)
        if (torch_solver and not callable(self.solver)) or (not torch_solver and self.solver not in SOLVERS):
            names = ", ".join(map(repr, SOLVERS))
            raise error("E802", f"invalid training option: solver must be one of {names}, not {self.solver!r} (or a torch.optim.Optimizer class or factory)")
        if torch_solver and self.initial_learn_rate is not None:
            raise error("E802", "invalid training option: a torch optimizer takes its learn rate as its own `lr`, not initial_learn_rate")
        # A torch optimizer uses none of these; the decay factor takes a value only to be valid.
        solver_defaults = {"squared_gradient_decay_factor": 0.999} if torch_solver else _SOLVER_DEFAULTS[self.solver]
        for name, default in solver_defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, default)
        numbers = [f.name for f in fields(self) if f.type in ("float", "float | None", "int") and not (torch_solver and f.name == "initial_learn_rate")]
        wrong = [f"{name} must be a number, not {getattr(self, name)!r}" for name in numbers if not _is_number(getattr(self, name))]
        counts = ("max_epochs", "mini_batch_size", "learn_rate_drop_period", "validation_frequency", "verbose_frequency", "checkpoint_frequency")
        wrong += [
            f"{name} must be a whole number, not {getattr(self, name)!r}"
            for name in counts
            if _is_number(getattr(self, name)) and not isinstance(getattr(self, name), int)
        ]
        validation = self.validation_data
        pair = isinstance(validation, (tuple, list)) and len(validation) == 2
        # An array or a tensor alone is iterable, yet not data with targets.
        source = not hasattr(validation, "__array__") and (hasattr(validation, "__iter__") or hasattr(validation, "__getitem__"))
        if validation is not None and not (pair or source):
            wrong.append("validation_data must be a pair (X, T), a Dataset, a DataLoader or an iterable of batches")
        if type(self.num_workers) is not int or self.num_workers < 0:
            wrong.append(f"num_workers must be a whole number, 0 or more, not {self.num_workers!r}")
        if wrong:
            raise _invalid(wrong)
        checks = [
            (torch_solver or 0 < self.initial_learn_rate < math.inf, "initial_learn_rate must be positive and finite"),
            (isinstance(self.max_epochs, int) and self.max_epochs >= 1, "max_epochs must be a positive integer"),
            (isinstance(self.mini_batch_size, int) and self.mini_batch_size >= 1, "mini_batch_size must be a positive integer"),
            (self.shuffle in ("once", "every-epoch", "never"), 'shuffle must be "once", "every-epoch" or "never"'),
            (0 <= self.momentum <= 1, "momentum must be in [0, 1]"),
            (0 <= self.gradient_decay_factor < 1, "gradient_decay_factor must be in [0, 1)"),
            (0 <= self.squared_gradient_decay_factor < 1, "squared_gradient_decay_factor must be in [0, 1)"),
            (self.epsilon > 0, "epsilon must be positive"),
            (self.gradient_threshold > 0, "gradient_threshold must be positive (inf: no clipping)"),
            (self.gradient_threshold_method in GRADIENT_THRESHOLD_METHODS, f"gradient_threshold_method must be one of {', '.join(GRADIENT_THRESHOLD_METHODS)}"),
            (self.validation_patience >= 1, "validation_patience must be at least 1 (inf: never stop early)"),
            (self.output_network in OUTPUT_NETWORKS, f"output_network must be one of {', '.join(OUTPUT_NETWORKS)}"),
            (self.output_network != "best-validation-loss" or self.validation_data is not None, 'output_network "best-validation-loss" needs validation_data'),
            (self.l2_regularization >= 0, "l2_regularization must be non-negative"),
            (
                self.learn_rate_schedule in LEARN_RATE_SCHEDULES or callable(self.learn_rate_schedule),
                f"learn_rate_schedule must be one of {', '.join(map(repr, LEARN_RATE_SCHEDULES))} or a function (iteration, epoch) -> learn rate",
            ),
            (not torch_solver or self.learn_rate_schedule == "none", "learn_rate_schedule is for MATLAB's solvers: a torch optimizer takes lr_scheduler"),
            (torch_solver or self.lr_scheduler is None, "lr_scheduler is for a torch optimizer (solver): MATLAB's solvers take learn_rate_schedule"),
            (self.lr_scheduler is None or callable(self.lr_scheduler), "lr_scheduler must be a torch.optim.lr_scheduler class or a function of the optimizer"),
            (self.lr_scheduler_step in ("iteration", "epoch"), 'lr_scheduler_step must be "iteration" or "epoch"'),
            (self.learn_rate_drop_period >= 1, "learn_rate_drop_period must be positive"),
            (self.validation_frequency >= 1 and self.verbose_frequency >= 1 and self.checkpoint_frequency >= 1, "frequencies must be positive"),
            (self.checkpoint_frequency_unit in ("epoch", "iteration"), 'checkpoint_frequency_unit must be "epoch" or "iteration"'),
            (
                self.checkpoints_kept is None or (type(self.checkpoints_kept) is int and self.checkpoints_kept >= 1),
                "checkpoints_kept must be a positive whole number (None: keep all)",
            ),
            (
                isinstance(self.plots, (str, Path)) and (self.plots in ("none", "training-progress") or _is_picture(self.plots)),
                f'plots must be "none", "training-progress" or a file name ending in one of {", ".join("." + f for f in PLOT_FORMATS)}',
            ),
            (_is_picture(self.plots_path), f"plots_path must end in one of {', '.join('.' + f for f in PLOT_FORMATS)}"),
            (
                _is_environment(self.execution_environment),
                'execution_environment must be "auto", "cpu", "gpu", "multi-gpu", "parallel" or a torch device such as "cuda:1" or "mps"',
            ),
            (self.precision in PRECISIONS, f"precision must be one of {', '.join(map(repr, PRECISIONS))}"),
            (isinstance(self.channels_last, bool), "channels_last must be True or False"),
            (isinstance(self.sync_batch_norm, bool), "sync_batch_norm must be True or False"),
            (isinstance(self.fully_shard, bool), "fully_shard must be True or False"),
            (self.workers is None or (type(self.workers) is int and self.workers >= 1), "workers must be a positive whole number (None: one a core or a GPU)"),
            (
                not (self.fully_shard and torch_solver and self.checkpoint_path),
                "fully_shard with a torch optimizer cannot write checkpoints (its state is sharded): use sgdm, adam or rmsprop",
            ),
            (
                self.output_fcn is None or callable(self.output_fcn) or (_is_list(self.output_fcn) and all(map(callable, self.output_fcn))),
                "output_fcn must be a function of the training info, or a list of them",
            ),
            (_is_list(self.callbacks) and all(isinstance(c, Callback) for c in self.callbacks), "callbacks must be a list of graphdl.train.Callback objects"),
            (self.log_csv is None or isinstance(self.log_csv, (str, Path)), "log_csv must be a file name"),
            (self.tensorboard_dir is None or isinstance(self.tensorboard_dir, (str, Path)), "tensorboard_dir must be a folder name"),
        ]
        if not _is_list(self.metrics):
            checks.append((False, "metrics must be a list of metric names or functions f(Y, T)"))
        else:
            known = ", ".join(map(repr, CLASSIFICATION_METRICS + REGRESSION_METRICS))
            checks += [
                (callable(m) or (isinstance(m, str) and named_metric(m) is not None), f"unknown metric {m!r}: use {known} or a function f(Y, T)")
                for m in self.metrics
            ]
        problems = [message for ok, message in checks if not ok]
        if problems:
            raise _invalid(problems)


    @property
    def plot_file(self) -> Path | None:
        """Where the training-progress plot is written: `plots` itself when it is a file name,
        `plots_path` for "training-progress", None for "none"."""
        if self.plots == "none":
            return None
        return Path(self.plots_path if self.plots == "training-progress" else self.plots)


def _is_environment(environment) -> bool:
    if environment in ("auto", "cpu", "gpu", "parallel", "multi-gpu"):
        return True
    try:
        torch.device(environment)
    except (RuntimeError, TypeError):
        return False
    return True


def _is_picture(path) -> bool:
    return isinstance(path, (str, Path)) and Path(path).suffix.lower().lstrip(".") in PLOT_FORMATS


def _invalid(problems: list[str]) -> GraphdlError:
    """One diagnostic per option that is wrong, so that all are fixed at once."""
    return GraphdlError([Diagnostic("E802", f"invalid training option: {problem}") for problem in problems])


def _is_list(value: object) -> bool:
    return isinstance(value, (list, tuple))


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def training_options(solver: str | Callable = "sgdm", **options) -> TrainingOptions:
    """MATLAB's `trainingOptions("adam", InitialLearnRate=0.01, MaxEpochs=4)` is
    `training_options("adam", initial_learn_rate=0.01, max_epochs=4)`. The options, with
    MATLAB's names and the defaults, are listed below (TrainingOptions' fields).

    `plots="training-progress"` writes the training-progress plot to `plots_path` at each epoch's
    end (`plots="progress.png"` writes it to that file), and in a Jupyter notebook also shows it
    live, as MATLAB does: one picture, redrawn in place every few seconds and at the end.
    """
    known = {f.name for f in fields(TrainingOptions)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise error("E802", f"unknown training option {unknown[0]!r}", help=suggest(unknown[0], known))
    return TrainingOptions(solver=solver, **options)


# The options MATLAB's trainingOptions has no counterpart of; the others are its names in CamelCase.
_GRAPHDL_ONLY = (
    "plots_path", "lr_scheduler", "lr_scheduler_step", "callbacks", "log_csv", "tensorboard_dir", "checkpoints_kept", "num_workers",
    "precision", "channels_last", "sync_batch_norm", "fully_shard", "workers",
)


def _option_lines() -> str:
    """One line per option (name, MATLAB's name, default), from the dataclass itself, so that
    the docstring cannot leave one out."""
    lines = []
    for f in fields(TrainingOptions):
        matlab = None if f.name in _GRAPHDL_ONLY else "".join(part[:1].upper() + part[1:] for part in f.name.split("_"))
        default = _SOLVER_TEXT.get(f.name, repr(f.default))
        lines.append(f"    {f.name} ({matlab or 'graphdl only'}): default {default}")
    return "\n".join(lines)


_SOLVER_TEXT = {
    "initial_learn_rate": "0.01 for sgdm, 0.001 for adam and rmsprop",
    "squared_gradient_decay_factor": "0.999 for sgdm and adam, 0.9 for rmsprop",
}
training_options.__doc__ += "\n" + _option_lines() + "\n"
