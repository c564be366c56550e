"""Training: the one-call `trainnet`, and the custom-loop primitives it is built from."""

from graphdl.train._callbacks import Callback, ProgressInfo
from graphdl.train._data import MiniBatchQueue
from graphdl.train._datastores import (
    ArrayDatastore,
    AugmentedImageDatastore,
    ImageDataAugmenter,
    ImageDatastore,
    array_datastore,
    augmented_image_datastore,
    check_datastore,
    image_data_augmenter,
    image_datastore,
    read_idx,
    split_each_label,
)
from graphdl.train._gradients import clip_gradients, dlfeval, dlgradient
from graphdl.train._loop import TrainingError, TrainingInfo, trainnet
from graphdl.train._losses import binary_crossentropy, crossentropy, mse
from graphdl.train._monitor import TrainingProgressMonitor
from graphdl.train._options import PLOT_FORMATS, TrainingOptions, training_options
from graphdl.train._precision import LossScaler
from graphdl.train._schedules import Cosine, Piecewise, TimeBasedDecay, Warmup
from graphdl.train._updates import adamupdate, dlupdate, rmspropupdate, sgdmupdate

__all__ = [
    "PLOT_FORMATS",
    "ArrayDatastore",
    "AugmentedImageDatastore",
    "Callback",
    "Cosine",
    "ImageDataAugmenter",
    "ImageDatastore",
    "LossScaler",
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
    "array_datastore",
    "augmented_image_datastore",
    "binary_crossentropy",
    "check_datastore",
    "clip_gradients",
    "crossentropy",
    "dlfeval",
    "dlgradient",
    "dlupdate",
    "image_data_augmenter",
    "image_datastore",
    "mse",
    "read_idx",
    "rmspropupdate",
    "sgdmupdate",
    "split_each_label",
    "training_options",
    "trainnet",
]
