"""Training: the one-call `trainnet`, and the custom-loop primitives it is built from."""

from graphdl.train._callbacks import Callback, ProgressInfo
from graphdl.train._data import MiniBatchQueue
from graphdl.train._gradients import clip_gradients, dlfeval, dlgradient
from graphdl.train._loop import TrainingError, TrainingInfo, trainnet
from graphdl.train._losses import binary_crossentropy, crossentropy, mse
from graphdl.train._monitor import TrainingProgressMonitor
from graphdl.train._options import PLOT_FORMATS, TrainingOptions, training_options
from graphdl.train._schedules import Cosine, Piecewise, TimeBasedDecay, Warmup
from graphdl.train._updates import adamupdate, dlupdate, rmspropupdate, sgdmupdate

__all__ = [
    "PLOT_FORMATS",
    "Callback",
    "Cosine",
    "MiniBatchQueue",
    "Piecewise",
    "ProgressInfo",
    "TimeBasedDecay",
    "TrainingError",
    "TrainingInfo",
    "TrainingOptions",
    "TrainingProgressMonitor",
    "Warmup",
    "adamupdate",
    "binary_crossentropy",
    "clip_gradients",
    "crossentropy",
    "dlfeval",
    "dlgradient",
    "dlupdate",
    "mse",
    "rmspropupdate",
    "sgdmupdate",
    "training_options",
    "trainnet",
]
