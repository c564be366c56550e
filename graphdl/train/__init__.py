"""Training: the one-call `trainnet`, and the custom-loop primitives it is built from."""

from graphdl.train.data import MiniBatchQueue
from graphdl.train.gradients import dlfeval, dlgradient
from graphdl.train.loop import TrainingError, TrainingInfo, trainnet
from graphdl.train.losses import crossentropy, mse
from graphdl.train.monitor import TrainingProgressMonitor
from graphdl.train.options import TrainingOptions, training_options
from graphdl.train.schedules import Piecewise, TimeBasedDecay
from graphdl.train.updates import sgdmupdate

__all__ = [
    "MiniBatchQueue", "Piecewise", "TimeBasedDecay", "TrainingError", "TrainingInfo", "TrainingOptions",
    "TrainingProgressMonitor", "crossentropy", "dlfeval", "dlgradient", "mse", "sgdmupdate",
    "trainnet", "training_options",
]
