"""MATLAB's datastores as `torch.utils.data.Dataset`s: image folders, arrays and array files,
augmentation, held-out splits by label, and a check of the data against a network before training.
Observations are in the network's run-time layout (images float32 (channels, height, width) in
[0, 1]), labels int64 indices into `classes`."""

from graphdl.train._datastores._arrays import ArrayDatastore, array_datastore, read_idx
from graphdl.train._datastores._augment import (
    AugmentedImageDatastore,
    ImageDataAugmenter,
    augmented_image_datastore,
    image_data_augmenter,
)
from graphdl.train._datastores._check import check_datastore, split_each_label
from graphdl.train._datastores._images import ImageDatastore, image_datastore

__all__ = [
    "ArrayDatastore",
    "AugmentedImageDatastore",
    "ImageDataAugmenter",
    "ImageDatastore",
    "array_datastore",
    "augmented_image_datastore",
    "check_datastore",
    "image_data_augmenter",
    "image_datastore",
    "read_idx",
    "split_each_label",
]
