"""MATLAB's augmentedImageDatastore and imageDataAugmenter, in torch alone: one affine resampling
(affine_grid and grid_sample) both resizes and transforms each image."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from graphdl.diagnostics import error
from graphdl.train._datastores._images import ImageDatastore, check_color_preprocessing, convert_color


def _range(name: str, value) -> tuple[float, float]:
    low, high = (value, value) if isinstance(value, (int, float)) else tuple(value)
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        raise error("E802", f"{name} must be a range (low, high) with low <= high, not {value!r}")
    return float(low), float(high)


@dataclass(frozen=True)
class ImageDataAugmenter:
    """MATLAB's imageDataAugmenter: each image gets a random affine transform drawn from these
    ranges (low, high), uniformly. Rotations and shears are in degrees, positive counter-clockwise
    as seen; translations in pixels of the source image; reflections happen with probability 1/2.
    `rand_scale` scales both axes alike; when it is (1, 1), `rand_x_scale` and `rand_y_scale` apply.
    Pixels from outside the image take `fill_value`."""

    rand_x_reflection: bool = False
    rand_y_reflection: bool = False
    rand_rotation: tuple[float, float] = (0.0, 0.0)
    rand_scale: tuple[float, float] = (1.0, 1.0)
    rand_x_scale: tuple[float, float] = (1.0, 1.0)
    rand_y_scale: tuple[float, float] = (1.0, 1.0)
    rand_x_shear: tuple[float, float] = (0.0, 0.0)
    rand_y_shear: tuple[float, float] = (0.0, 0.0)
    rand_x_translation: tuple[float, float] = (0.0, 0.0)
    rand_y_translation: tuple[float, float] = (0.0, 0.0)
    fill_value: float = 0.0

    def __post_init__(self) -> None:
        for name in ("rand_rotation", "rand_scale", "rand_x_scale", "rand_y_scale", "rand_x_shear", "rand_y_shear",
                     "rand_x_translation", "rand_y_translation"):
            object.__setattr__(self, name, _range(name, getattr(self, name)))
        for name in ("rand_scale", "rand_x_scale", "rand_y_scale"):
            if getattr(self, name)[0] <= 0:
                raise error("E802", f"{name} must be positive, not {getattr(self, name)}")
        for name in ("rand_x_shear", "rand_y_shear"):
            if max(abs(v) for v in getattr(self, name)) >= 90:
                raise error("E802", f"{name} must lie within (-90, 90) degrees, not {getattr(self, name)}")

    def transform(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The affine map (matrix, offset) in pixels about the image centre, x right and y down,
        from ten uniform numbers in [0, 1): always ten, in a fixed order, so that a seed gives the
        same transform whichever ranges are set."""

        def pick(k: int, bounds: tuple[float, float]) -> float:
            return bounds[0] + (bounds[1] - bounds[0]) * float(u[k])

        flip_x = -1.0 if self.rand_x_reflection and u[0] < 0.5 else 1.0
        flip_y = -1.0 if self.rand_y_reflection and u[1] < 0.5 else 1.0
        angle = math.radians(pick(2, self.rand_rotation))
        if self.rand_scale != (1.0, 1.0):
            sx = sy = pick(3, self.rand_scale)
        else:
            sx, sy = pick(4, self.rand_x_scale), pick(5, self.rand_y_scale)
        shear_x, shear_y = math.tan(math.radians(pick(6, self.rand_x_shear))), math.tan(math.radians(pick(7, self.rand_y_shear)))
        # Counter-clockwise on screen, where y grows downwards.
        rotation = np.array([[math.cos(angle), math.sin(angle)], [-math.sin(angle), math.cos(angle)]])
        shear = np.array([[1.0, shear_x], [shear_y, 1.0]])
        matrix = rotation @ shear @ np.diag([sx, sy]) @ np.diag([flip_x, flip_y])
        return matrix, np.array([pick(8, self.rand_x_translation), pick(9, self.rand_y_translation)])


def image_data_augmenter(**ranges) -> ImageDataAugmenter:
    """MATLAB's `imageDataAugmenter(RandRotation=[-20 20], ...)`: `image_data_augmenter(rand_rotation=(-20, 20))`."""
    unknown = sorted(set(ranges) - set(ImageDataAugmenter.__dataclass_fields__))
    if unknown:
        raise error("E802", f"image_data_augmenter has no option {unknown[0]!r}; it takes {sorted(ImageDataAugmenter.__dataclass_fields__)}")
    return ImageDataAugmenter(**ranges)


class AugmentedImageDatastore(Dataset):
    """Images of another datastore resized to `output_size` (height, width), with color
    preprocessing and random augmentation; items are what the source's are (image, label).

    With a `seed`, item i's transform is drawn from (seed, epoch, i) alone, so it is the same in
    any DataLoader worker and any order; `set_epoch` draws new transforms for another epoch. Without
    one, transforms come from torch's global generator (`torch.manual_seed`), as MATLAB's from rng.
    """

    def __init__(self, output_size, source: Dataset, data_augmentation: ImageDataAugmenter | None = None,
                 color_preprocessing: str = "none", seed: int | None = None):
        size = tuple(int(s) for s in output_size)
        if len(size) not in (2, 3) or min(size) < 1:
            raise error("E802", f"output_size must be (height, width) or (height, width, channels), not {output_size!r}")
        self.output_size = size[:2]
        self.output_channels = size[2] if len(size) == 3 else None
        self.color_preprocessing = check_color_preprocessing(color_preprocessing)
        if isinstance(source, ImageDatastore):  # convert as the files are read, before their channels are compared
            source = source.with_color_preprocessing(color_preprocessing)
        self.source = source
        self.data_augmentation = data_augmentation
        self.seed = seed
        self.epoch = 0

    @property
    def classes(self):
        return getattr(self.source, "classes", None)

    @property
    def labels(self):
        return getattr(self.source, "labels", None)

    def __len__(self) -> int:
        return len(self.source)

    def describe(self, index: int) -> str:
        describe = getattr(self.source, "describe", None)
        return describe(index) if describe else f"observation {index}"

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def subset(self, indices) -> AugmentedImageDatastore:
        return AugmentedImageDatastore((*self.output_size, *([self.output_channels] if self.output_channels else [])),
                                       self.source.subset(indices), self.data_augmentation, self.color_preprocessing, self.seed)

    def __getitem__(self, index: int):
        item = self.source[index]
        image, rest = (item[0], tuple(item[1:])) if isinstance(item, tuple) else (item, None)
        image = self.augment(convert_color(image, self.color_preprocessing), index)
        if self.output_channels is not None and image.shape[0] != self.output_channels:
            raise error("E801", f"{self.describe(index)} has {image.shape[0]} channels, output_size {self.output_channels}",
                        help='color_preprocessing="gray2rgb" or "rgb2gray" converts')
        return image if rest is None else (image, *rest)

    def augment(self, image: torch.Tensor, index: int) -> torch.Tensor:
        if image.ndim != 3:
            raise error("E801", f"{self.describe(index)} is of size {tuple(image.shape)}, not an image (channels, height, width)")
        height, width = image.shape[1:]
        if self.data_augmentation is None:
            if (height, width) == self.output_size:
                return image
            return F.interpolate(image[None], size=self.output_size, mode="bilinear", antialias=True, align_corners=False)[0]
        if self.seed is None:
            u = torch.rand(10, dtype=torch.float64).numpy()
        else:
            u = np.random.default_rng([self.seed, self.epoch, index]).random(10)
        matrix, offset = self.data_augmentation.transform(u)
        if np.array_equal(matrix, np.eye(2)) and not offset.any() and (height, width) == self.output_size:
            return image  # exact: resampling would round
        # grid_sample maps each output pixel to a source pixel, in coordinates normalised to [-1, 1]
        # over each image; the output covers the source's extent, which is the resize.
        half = np.diag([width / 2, height / 2])
        inverse = np.linalg.inv(matrix)
        linear = np.linalg.inv(half) @ inverse @ half
        theta = torch.tensor(np.hstack([linear, (-np.linalg.inv(half) @ inverse @ offset)[:, None]]), dtype=image.dtype)
        fill = self.data_augmentation.fill_value
        batch = torch.cat([image, torch.ones_like(image[:1])])[None] if fill else image[None]
        grid = F.affine_grid(theta[None], [1, batch.shape[1], *self.output_size], align_corners=False)
        out = F.grid_sample(batch, grid, mode="bilinear", padding_mode="zeros", align_corners=False)[0]
        if fill:  # the extra channel of ones says how much of each pixel came from inside the image
            out = out[:-1] + fill * (1 - out[-1:])
        return out


def augmented_image_datastore(output_size, ds: Dataset, *, data_augmentation: ImageDataAugmenter | None = None,
                              color_preprocessing: str = "none", seed: int | None = None) -> AugmentedImageDatastore:
    """MATLAB's `augmentedImageDatastore(outputSize, imds, DataAugmentation=augmenter,
    ColorPreprocessing="gray2rgb")`: the images of `ds` (an image datastore, or any Dataset of
    (image, label) or images (channels, height, width)) resized to `output_size` and augmented."""
    return AugmentedImageDatastore(output_size, ds, data_augmentation, color_preprocessing, seed)
