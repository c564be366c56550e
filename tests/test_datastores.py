"""MATLAB's datastores as torch Datasets: image folders, array files, splits, augmentation, and the
check of data against a network."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import graphdl
from graphdl.datasets import digits
from graphdl.diagnostics import GraphdlError

EXAMPLES = Path(__file__).parent.parent / "examples"


@pytest.fixture(scope="module")
def data():
    return digits("train", 60)


def pixels(images: np.ndarray) -> np.ndarray:
    """Images as 8-bit PNG stores them, back in [0, 1]."""
    return np.round(images * 255).astype(np.uint8)


@pytest.fixture
def folder(tmp_path, data):
    """imageDatastore's layout: one subfolder per class."""
    root = tmp_path / "digits"
    for i, (image, label) in enumerate(zip(data.images, data.labels)):
        (root / data.classes[label]).mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels(image[0])).save(root / data.classes[label] / f"img{i:03}.png")
    return root


def test_image_datastore_reads_the_folder_back(folder, data):
    ds = graphdl.image_datastore(folder)
    assert ds.classes == data.classes
    assert len(ds) == len(data)
    for file, label in zip(ds.files, ds.labels):
        i = int(file.stem[3:])
        assert file.parent.name == data.classes[data.labels[i]]
        assert label == data.labels[i]
        image, target = ds[ds.files.index(file)]
        assert image.dtype == torch.float32 and image.shape == (1, 28, 28)
        assert target == data.labels[i]
        np.testing.assert_array_equal(image.numpy(), pixels(data.images[i]) / np.float32(255))


def test_classes_are_sorted_by_name_and_files_by_path(tmp_path):
    for name in ("b", "a", "10", "2"):
        (tmp_path / name).mkdir()
        Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / name / "x.png")
    ds = graphdl.image_datastore(tmp_path)
    assert ds.classes == ("10", "2", "a", "b")  # MATLAB's categorical order: by character
    assert [f.parent.name for f in ds.files] == ["10", "2", "a", "b"]
    assert ds.labels.tolist() == [0, 1, 2, 3]
    assert graphdl.image_datastore(tmp_path, "none")[0].shape == (1, 4, 4)


def test_channels_must_agree_unless_converted(tmp_path):
    (tmp_path / "a").mkdir()
    Image.fromarray(np.full((5, 6), 200, np.uint8)).save(tmp_path / "a" / "1.png")
    Image.fromarray(np.full((5, 6, 3), [255, 0, 0], np.uint8)).save(tmp_path / "a" / "2.png")
    ds = graphdl.image_datastore(tmp_path)
    assert ds[0][0].shape == (1, 5, 6)
    with pytest.raises(GraphdlError, match=r"2\.png has 3 channels") as e:
        ds[1]
    assert e.value.diagnostics[0].code == "E801"
    rgb = graphdl.image_datastore(tmp_path, color_preprocessing="gray2rgb")
    assert rgb[0][0].shape == (3, 5, 6) and torch.equal(rgb[0][0][0], rgb[0][0][2])
    gray = graphdl.image_datastore(tmp_path, color_preprocessing="rgb2gray")
    np.testing.assert_allclose(gray[1][0].numpy(), 0.298936021293775, rtol=1e-6)
    augmented = graphdl.augmented_image_datastore((5, 6), ds, color_preprocessing="gray2rgb")
    assert augmented[1][0].shape == (3, 5, 6)


def test_split_each_label(folder):
    ds = graphdl.image_datastore(folder)
    train, rest = graphdl.split_each_label(ds, 0.7, seed=1)
    assert len(train) + len(rest) == len(ds)
    assert not set(train.files) & set(rest.files)
    counts = np.bincount(ds.labels, minlength=10)
    assert np.bincount(train.labels, minlength=10).tolist() == [round(0.7 * c) for c in counts]
    again, _ = graphdl.split_each_label(ds, 0.7, seed=1)
    assert again.files == train.files
    other, _ = graphdl.split_each_label(ds, 0.7, seed=2)
    assert other.files != train.files
    first, _ = graphdl.split_each_label(ds, 2, randomized=False)
    assert np.bincount(first.labels).tolist() == [2] * 10
    assert first.files == [f for c in ds.classes for f in [g for g in ds.files if g.parent.name == c][:2]]
    with pytest.raises(GraphdlError, match="fraction"):
        graphdl.split_each_label(ds, 1.5)


def test_augmentation_is_seeded_shape_preserving_and_identity_at_zero(data):
    ds = graphdl.array_datastore(data.images, data.labels)
    augmenter = graphdl.image_data_augmenter(rand_rotation=(-20, 20), rand_x_translation=(-3, 3), rand_y_translation=(-3, 3),
                                             rand_scale=(0.9, 1.1), rand_x_reflection=True)
    a = graphdl.augmented_image_datastore((28, 28), ds, data_augmentation=augmenter, seed=7)
    b = graphdl.augmented_image_datastore((28, 28), ds, data_augmentation=augmenter, seed=7)
    assert a[3][0].shape == (1, 28, 28) and a[3][1] == data.labels[3]
    assert torch.equal(a[3][0], b[3][0])
    assert not torch.equal(a[3][0], ds[3][0])
    a.set_epoch(1)
    assert not torch.equal(a[3][0], b[3][0])  # another epoch, another transform
    still = graphdl.augmented_image_datastore((28, 28), ds, data_augmentation=graphdl.image_data_augmenter(), seed=7)
    assert torch.equal(still[3][0], ds[3][0])
    resized = graphdl.augmented_image_datastore((14, 20), ds, data_augmentation=augmenter, seed=7)
    assert resized[0][0].shape == (1, 14, 20)
    assert graphdl.augmented_image_datastore((14, 14), ds)[0][0].shape == (1, 14, 14)


def test_a_translation_moves_the_pixels():
    image = torch.zeros(1, 8, 8)
    image[0, 2, 3] = 1.0
    ds = graphdl.array_datastore(image[None], np.array([0]))
    shift = graphdl.image_data_augmenter(rand_x_translation=(2, 2), rand_y_translation=(1, 1))
    moved = graphdl.augmented_image_datastore((8, 8), ds, data_augmentation=shift, seed=0)[0][0]
    assert moved[0, 3, 5] == pytest.approx(1.0) and moved.sum() == pytest.approx(1.0)


def write_idx(path: Path, array: np.ndarray, code: int) -> None:
    """The IDX format: two zero bytes, a type code, the rank, big-endian sizes, big-endian data."""
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    raw = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    if path.suffix == ".gz":
        with gzip.open(path, "wb") as f:
            f.write(raw)
    else:
        path.write_bytes(raw)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, data, suffix):
    images = pixels(data.images[:, 0])
    write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", images, 0x08)
    write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", data.labels.astype(np.uint8), 0x08)
    ds = graphdl.array_datastore(tmp_path / f"train-images-idx3-ubyte{suffix}", tmp_path / f"train-labels-idx1-ubyte{suffix}")
    assert ds.classes == data.classes
    image, label = ds[5]
    assert image.shape == (1, 28, 28) and label == data.labels[5]
    np.testing.assert_array_equal(image.numpy(), images[5][None] / np.float32(255))
    floats = np.arange(6, dtype=np.float64).reshape(2, 3) / 7
    write_idx(tmp_path / "f.idx", floats, 0x0E)
    np.testing.assert_array_equal(graphdl.read_idx(tmp_path / "f.idx"), floats)
    (tmp_path / "bad.idx").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05ab")
    with pytest.raises(GraphdlError, match=r"bad\.idx"):
        graphdl.read_idx(tmp_path / "bad.idx")


def test_npy_and_npz_round_trip(tmp_path, data):
    np.save(tmp_path / "x.npy", data.images)
    np.save(tmp_path / "y.npy", data.labels)
    np.savez(tmp_path / "d.npz", images=data.images, labels=data.labels)
    np.savez(tmp_path / "many.npz", images=data.images, angles=data.angles, labels=data.labels)
    for ds in (graphdl.array_datastore(tmp_path / "x.npy", tmp_path / "y.npy"), graphdl.array_datastore(tmp_path / "d.npz")):
        assert len(ds) == len(data) and ds.classes == data.classes
        image, label = ds[7]
        np.testing.assert_array_equal(image.numpy(), data.images[7])
        assert label == data.labels[7]
    with pytest.raises(GraphdlError, match="responses="):
        graphdl.array_datastore(tmp_path / "many.npz")
    np.savez(tmp_path / "angles.npz", images=data.images, angles=data.angles)
    regression = graphdl.array_datastore(tmp_path / "angles.npz")
    assert regression.classes is None and regression[2][1] == pytest.approx(float(data.angles[2]))


def test_csv_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 3)).astype(np.float32)
    names = np.array(["setosa", "versicolor", "virginica"])[rng.integers(0, 3, 12)]
    lines = ["a,b,c,species"] + [f"{r[0]!r},{r[1]!r},{r[2]!r},{n}" for r, n in zip(x.tolist(), names)]
    (tmp_path / "iris.csv").write_text("\n".join(lines) + "\n")
    ds = graphdl.array_datastore(tmp_path / "iris.csv")
    assert ds.classes == ("setosa", "versicolor", "virginica")
    np.testing.assert_array_equal(ds.observations.numpy(), x)
    assert [ds.classes[label] for label in ds.labels] == names.tolist()
    lines = ["y,a,b"] + [f"{r[0] * 2:.1f},{r[1]!r},{r[2]!r}" for r in x.tolist()]
    (tmp_path / "reg.csv").write_text("\n".join(lines) + "\n")
    reg = graphdl.array_datastore(tmp_path / "reg.csv", "y")
    assert reg.classes is None and reg.observations.shape == (12, 2)
    assert reg[0][1] == pytest.approx(float(f"{x[0, 0] * 2:.1f}"))


@pytest.fixture(scope="module")
def net():
    return graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"), seed=0)


def test_check_reports_every_file_that_does_not_fit(folder, net):
    graphdl.check_datastore(graphdl.image_datastore(folder), net)  # all fit
    corrupt = folder / "3" / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    Image.fromarray(np.zeros((20, 28), np.uint8)).save(folder / "5" / "small.png")
    Image.fromarray(np.zeros((28, 28, 3), np.uint8)).save(folder / "7" / "colour.png")
    ds = graphdl.image_datastore(folder)
    with pytest.raises(GraphdlError) as e:
        graphdl.check_datastore(ds, net)
    d = e.value.diagnostics[0]
    assert d.code == "E801" and "3 problems" in d.message
    notes = "\n".join(d.notes)
    assert "corrupt.png" in notes and "small.png is of size 20x28x1" in notes and "colour.png is of size 28x28x3" in notes
    with pytest.raises(GraphdlError, match=r"corrupt\.png"):
        ds[ds.files.index(corrupt)]


def test_check_reports_labels_outside_the_classes(net, data):
    ds = graphdl.array_datastore(data.images[:3], np.array([0, 12, 3]), classes=[str(i) for i in range(13)])
    with pytest.raises(GraphdlError) as e:
        graphdl.check_datastore(ds, net, max_notes=1)
    assert "13 classes" in e.value.diagnostics[0].message
    assert e.value.diagnostics[0].notes[-1] == "... and 1 more"


def test_a_data_loader_over_an_image_folder_trains_the_network(folder):
    torch.manual_seed(0)
    net = graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"), seed=0)
    train, _ = graphdl.split_each_label(graphdl.image_datastore(folder), 0.8, seed=0)
    augmented = graphdl.augmented_image_datastore((28, 28), train, seed=0,
                                                  data_augmentation=graphdl.image_data_augmenter(rand_rotation=(-5, 5)))
    loader = torch.utils.data.DataLoader(augmented, batch_size=16, shuffle=True, generator=torch.Generator().manual_seed(0))
    optimizer = torch.optim.Adam(net.parameters(), lr=0.003)
    losses = []
    for epoch in range(4):
        augmented.set_epoch(epoch)
        for X, T in loader:
            assert X.shape[1:] == (1, 28, 28) and T.dtype == torch.int64
            loss = graphdl.crossentropy(net.forward(X), T)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    assert np.mean(losses[-3:]) < np.mean(losses[:3])  # the last epoch's against the first's


def test_a_path_that_is_not_there_is_a_file_error_not_a_wrong_kind(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file") as caught:
        graphdl.array_datastore(tmp_path / "missing.npz")
    assert caught.value.code == "E001"
    with pytest.raises(GraphdlError, match="a folder") as caught:
        graphdl.array_datastore(tmp_path)
    assert caught.value.code == "E001"
