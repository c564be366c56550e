"""Tests of the synthetic digit data (graphdl.datasets).

Whether a network can learn the data is checked by hand, not here: training takes too long for the
suite.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from graphdl.datasets import Digits, digits

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def train() -> Digits:
    return digits()


@pytest.fixture(scope="module")
def test_split() -> Digits:
    return digits("test")


def _equal(a: Digits, b: Digits) -> bool:
    return (np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)
            and np.array_equal(a.angles, b.angles))


def test_shapes_and_dtypes(train: Digits) -> None:
    assert len(train) == 5000
    assert train.images.shape == (5000, 1, 28, 28)
    assert train.images.dtype == np.float32
    assert train.labels.shape == (5000,)
    assert train.labels.dtype == np.int64
    assert train.angles.shape == (5000,)
    assert train.angles.dtype == np.float32
    assert train.classes == ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")


def test_size_is_honoured() -> None:
    small = digits("test", 7, seed=3)
    assert len(small) == 7
    assert small.images.shape == (7, 1, 28, 28)
    assert len(digits(size=1)) == 1


def test_bright_strokes_on_a_dark_background_in_range(train: Digits) -> None:
    images = train.images[:, 0]
    assert images.min() >= 0.0
    assert images.max() <= 1.0
    assert np.median(images) < 0.05
    assert images.max(axis=(1, 2)).min() > 0.5  # every image has a stroke
    # Strokes cover a fair share of the image, not a dot and not a blot.
    ink = (images > 0.5).mean(axis=(1, 2))
    assert ink.min() > 0.015 and ink.max() < 0.5


def test_digits_stay_inside_the_frame(train: Digits) -> None:
    images = train.images[:, 0]
    border = np.concatenate([images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]],
                            axis=1)
    # Only noise reaches the outermost pixels.
    assert border.mean(axis=1).max() < 0.06
    assert border.max() < 0.5


def test_same_arguments_give_identical_arrays() -> None:
    assert _equal(digits("train", 300, seed=5), digits("train", 300, seed=5))
    assert _equal(digits("test", 300, seed=5), digits("test", 300, seed=5))


def test_train_and_test_differ(train: Digits, test_split: Digits) -> None:
    assert not np.array_equal(train.images, test_split.images)
    assert not np.array_equal(train.labels, test_split.labels)
    assert not np.array_equal(train.angles, test_split.angles)
    # Not one image of the test split reappears in the training split.
    seen = {image.tobytes() for image in train.images}
    assert not any(image.tobytes() in seen for image in test_split.images)


def test_different_seeds_differ() -> None:
    a, b = digits("train", 300, seed=0), digits("train", 300, seed=1)
    assert not np.array_equal(a.images, b.images)
    assert not np.array_equal(a.angles, b.angles)
    # A smaller request is not a prefix of a larger one with another seed either.
    assert not np.array_equal(a.images[:10], digits("train", 10, seed=1).images)


def test_classes_are_balanced_and_shuffled(train: Digits) -> None:
    assert np.bincount(train.labels, minlength=10).tolist() == [500] * 10
    odd = digits("train", 1003, seed=2)
    assert np.bincount(odd.labels, minlength=10).tolist() == [101] * 3 + [100] * 7
    # Shuffled: the first hundred images hold most classes, not a run of one.
    assert len(np.unique(train.labels[:100])) == 10
    assert np.count_nonzero(np.diff(train.labels)) > 4000


def test_angles_are_in_range_and_spread(train: Digits) -> None:
    assert train.angles.min() >= -45.0
    assert train.angles.max() <= 45.0
    assert train.angles.std() > 20.0  # uniform on [-45, 45] has 26
    assert train.angles.min() < -40.0 and train.angles.max() > 40.0


def test_angles_describe_the_drawing(train: Digits) -> None:
    """A 1 is mostly a stem: its tilt, measured from the pixels, follows the reported angle."""
    ones = train.images[train.labels == 1, 0].astype(np.float64)
    angles = train.angles[train.labels == 1]
    rows, cols = np.mgrid[0:28, 0:28]
    weights = ones / ones.sum(axis=(1, 2), keepdims=True)

    def moment(f: np.ndarray) -> np.ndarray:
        return (weights * f).sum(axis=(1, 2))

    x = cols - moment(cols)[:, None, None]
    y = rows - moment(rows)[:, None, None]
    # Angle of the main axis from the vertical, counter-clockwise as seen with row 0 at the top.
    tilt = np.degrees(0.5 * np.arctan2(2 * moment(x * y), moment(y * y) - moment(x * x)))
    assert np.corrcoef(tilt, angles)[0, 1] > 0.9
    # The slant of handwriting leans a little clockwise, but not by much.
    assert abs(np.mean(tilt - angles)) < 15.0
    # And the same digit at opposite angles looks clearly different.
    left = ones[angles > 30].mean(axis=0)
    right = ones[angles < -30].mean(axis=0)
    assert np.abs(left - right).max() > 0.3


def test_no_two_images_of_a_split_are_identical(train: Digits) -> None:
    flat = train.images.reshape(len(train), -1)
    assert len(np.unique(flat, axis=0)) == len(train)


def test_each_class_looks_different(train: Digits) -> None:
    means = np.stack([train.images[train.labels == c, 0].mean(axis=0) for c in range(10)])
    distances = np.sqrt(((means[:, None] - means[None]) ** 2).sum(axis=(2, 3)))
    off_diagonal = distances[~np.eye(10, dtype=bool)]
    assert off_diagonal.min() > 1.0


@pytest.mark.parametrize("split", ["validation", "Train", "", None, ["train"]])
def test_invalid_split_is_refused(split: object) -> None:
    with pytest.raises(ValueError, match=r"split must be one of \['test', 'train'\]"):
        digits(split)  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [0, -5, 2.5, "100", True, None])
def test_invalid_size_is_refused(size: object) -> None:
    with pytest.raises(ValueError, match="size must be a positive integer"):
        digits("train", size)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", [-1, 1.5, "0", None])
def test_invalid_seed_is_refused(seed: object) -> None:
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        digits("train", 10, seed=seed)  # type: ignore[arg-type]


def test_numpy_integers_are_accepted() -> None:
    assert _equal(digits("train", np.int64(20), seed=np.int32(4)), digits("train", 20, seed=4))


def test_does_not_import_torch() -> None:
    code = "import graphdl.datasets, sys; assert 'torch' not in sys.modules, 'torch was imported'"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
