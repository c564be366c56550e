"""Training: the one-call `trainnet`, and the custom-loop primitives it is built from."""

from graphdl.train.data import MiniBatchQueue
from graphdl.train.gradients import clip_gradients, dlfeval, dlgradient
from graphdl.train.loop import TrainingError, TrainingInfo, trainnet
from graphdl.train.losses import crossentropy, mse
from graphdl.train.monitor import TrainingProgressMonitor
from graphdl.train.options import TrainingOptions, training_options
from graphdl.train.schedules import Piecewise, TimeBasedDecay
from graphdl.train.updates import adamupdate, dlupdate, rmspropupdate, sgdmupdate

__all__ = [
    "MiniBatchQueue", "Piecewise", "TimeBasedDecay", "TrainingError", "TrainingInfo", "TrainingOptions",
    "TrainingProgressMonitor", "adamupdate", "clip_gradients", "crossentropy", "dlfeval", "dlgradient",
    "dlupdate", "mse", "rmspropupdate", "sgdmupdate", "trainnet", "training_options",
]
