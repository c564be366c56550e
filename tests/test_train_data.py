"""trainnet and `graphdl train` on data as users have it: Datasets, DataLoaders, iterables of
batches, image folders and array files."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader, TensorDataset

import graphdl
from conftest import EXAMPLES, ROOT
from graphdl.datasets import digits
from graphdl.diagnostics import GraphdlError
from graphdl.train import training_options, trainnet

SEED = EXAMPLES / "mnist.dlg"


def _digits(n: int, split: str = "train"):
    data = digits(split, n, seed=0)
    return torch.as_tensor(data.images), torch.as_tensor(data.labels)


def _train(*data, epochs: int = 1, **options):
    torch.manual_seed(0)
    net = graphdl.dlnetwork(graphdl.load(SEED), seed=0)
    return trainnet(*data, net, "crossentropy", training_options(max_epochs=epochs, verbose=False, **options))


def _accuracy(net, X, T) -> float:
    return (net.predict(X).argmax(1) == T).float().mean().item() * 100


def _write_folder(folder, images, labels):
    """imageDatastore's layout: one subfolder per class, 8-bit grey PNGs."""
    for i, (image, label) in enumerate(zip(images, labels)):
        (folder / str(int(label))).mkdir(parents=True, exist_ok=True)
        Image.fromarray((image[0].numpy() * 255).round().astype(np.uint8)).save(folder / str(int(label)) / f"{i:05d}.png")


@pytest.mark.slow
def test_a_dataset_trains_exactly_as_its_arrays():
    # trainnet's own DataLoader draws the shuffle order as the arrays' queue does and leaves
    # torch's generator as the arrays' path leaves it, so the weights are the same to the bit.
    X, T = _digits(200)
    by_arrays, _ = _train(X, T, epochs=2, mini_batch_size=32, shuffle="every-epoch", reset_input_normalization=False)
    by_dataset, info = _train(TensorDataset(X, T), epochs=2, mini_batch_size=32, shuffle="every-epoch", reset_input_normalization=False)
    assert info.iterations == 2 * (200 // 32)
    for (name, a), b in zip(by_arrays.state_dict().items(), by_dataset.state_dict().values()):
        assert torch.equal(a, b), name


def test_input_normalization_from_a_dataset_is_the_arrays_one():
    X, T = _digits(300)
    for text in ('imageInput([28, 28, 1], normalization="zscore")', 'imageInput([28, 28, 1], normalization="rescale-symmetric")'):
        graph = graphdl.loads(f"network n {{\n input = {text}\n fc = fullyConnected(10)\n prob = softmax()\n}}\n")
        by_arrays, by_batches = graphdl.dlnetwork(graph, seed=0), graphdl.dlnetwork(graph, seed=0)
        by_arrays.reset_input_normalization(X)
        by_batches.reset_input_normalization_from((X[i : i + 64],) for i in range(0, 300, 64))  # a partial last batch
        for (name, a), b in zip(by_arrays.state_dict().items(), by_batches.state_dict().values()):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)
    # and through trainnet, which reads a Dataset whole, the partial batch too
    (dataset_net, _), (array_net, _) = _train(TensorDataset(X, T)), _train(X, T)
    torch.testing.assert_close(dataset_net.input.mean, array_net.input.mean, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_a_dataloader_of_a_dataset_trains_the_seed_network_as_arrays_do():
    X, T = _digits(3000)
    Xt, Tt = _digits(1000, "test")
    array_net, _ = _train(X, T, epochs=3)
    loader = DataLoader(TensorDataset(X, T), batch_size=128, shuffle=True, drop_last=True, generator=torch.Generator().manual_seed(0))
    loader_net, info = _train(loader, epochs=3, validation_data=TensorDataset(Xt, Tt), validation_frequency=20)
    assert "validation accuracy" in info.history
    assert abs(_accuracy(loader_net, Xt, Tt) - _accuracy(array_net, Xt, Tt)) < 3
    assert _accuracy(loader_net, Xt, Tt) > 90


@pytest.mark.slow
def test_an_iterable_of_batches_trains_and_a_generator_is_refused():
    X, T = _digits(256)
    batches = [(X[i : i + 32], T[i : i + 32]) for i in range(0, 256, 32)]
    _, info = _train(batches, epochs=2)
    assert info.iterations == 16
    assert info.final("loss") < info.history["loss"][1][0]
    fresh = graphdl.dlnetwork(graphdl.load(SEED), seed=0)
    before = {k: v.clone() for k, v in fresh.state_dict().items()}
    with pytest.raises(GraphdlError) as caught:
        trainnet((batch for batch in batches), fresh, "crossentropy", training_options(max_epochs=1, verbose=False))
    assert caught.value.code == "E802" and "once per epoch" in str(caught.value)
    assert all(torch.equal(before[k], v) for k, v in fresh.state_dict().items())


def test_data_that_does_not_fit_is_refused_before_the_network_is_touched(tmp_path):
    X, T = _digits(64)
    net = graphdl.dlnetwork(graphdl.load(SEED), seed=0)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    wrong_size = TensorDataset(torch.rand(64, 1, 20, 20), T)
    unlabelled = TensorDataset(X)
    for data in (wrong_size, unlabelled, [(X, T, T)]):
        with pytest.raises(GraphdlError) as caught:
            trainnet(data, net, "crossentropy", training_options(max_epochs=1, mini_batch_size=16, verbose=False))
        assert caught.value.code == "E801"
    with pytest.raises(GraphdlError, match="holds its targets"):
        trainnet(TensorDataset(X, T), T, net)
    # a datastore is read whole: each file that does not fit is named
    _write_folder(tmp_path, X[:20], T[:20])
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(tmp_path / "3" / "small.png")
    with pytest.raises(GraphdlError) as caught:
        trainnet(graphdl.image_datastore(tmp_path), net, "crossentropy", training_options(max_epochs=1, mini_batch_size=4, verbose=False))
    assert caught.value.code == "E801" and "small.png" in str(caught.value)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


def _graphdl_train(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "graphdl", "train", str(SEED), *args], capture_output=True, text=True, cwd=cwd, timeout=900
    )


@pytest.mark.slow
def test_graphdl_train_on_a_folder_of_png_digits(tmp_path):
    # The built-in path reaches >= 95% with 5,000 images and 4 epochs (test_examples); 4,000 of
    # the same images here train, 1,000 held out by class.
    X, T = _digits(5000)
    _write_folder(tmp_path / "digits", X, T)
    result = _graphdl_train("--data", str(tmp_path / "digits"), "--validation-split", "0.2", "--log-csv", "history.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "on 4000 observations" in result.stdout and "epoch 4/4" in result.stdout
    accuracy = float(re.search(r"validation accuracy: ([\d.]+)% on 1000 held-out", result.stdout).group(1))
    assert accuracy >= 95.0, result.stdout
    assert (tmp_path / "history.csv").read_text().startswith("epoch,iteration")


@pytest.mark.slow
@pytest.mark.parametrize("bad", ["corrupt", "wrong-size"])
def test_graphdl_train_names_a_bad_file_before_training(tmp_path, bad):
    X, T = _digits(40)
    _write_folder(tmp_path / "digits", X, T)
    name = tmp_path / "digits" / "7" / f"{bad}.png"
    if bad == "corrupt":
        name.write_bytes(b"\x89PNG\r\n\x1a\n not an image")
    else:
        Image.fromarray(np.zeros((32, 32), np.uint8)).save(name)
    result = _graphdl_train("--data", str(tmp_path / "digits"), "--validation-split", "0.25", "--mini-batch-size", "8", cwd=ROOT)
    assert result.returncode == 1
    assert f"{bad}.png" in result.stderr and "E801" in result.stderr
    assert "Traceback" not in result.stderr and "epoch 1/" not in result.stdout


@pytest.mark.slow
def test_graphdl_train_takes_an_npz_file_and_validation_data(tmp_path):
    X, T = _digits(300)
    np.savez(tmp_path / "train.npz", X[:200].numpy(), T[:200].numpy())
    np.savez(tmp_path / "val.npz", X[200:].numpy(), T[200:].numpy())
    result = _graphdl_train(
        "--data", "train.npz", "--validation-data", "val.npz", "--max-epochs", "1", "--mini-batch-size", "50",
        "--metrics", "accuracy,fscore", "--learn-rate-schedule", "piecewise", "--learn-rate-drop-period", "1", cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "fscore" in result.stdout and "validation accuracy" in result.stdout and "on 100 held-out" in result.stdout
    refused = _graphdl_train("--validation-split", "0.2", cwd=tmp_path)
    assert refused.returncode == 2 and "--data" in refused.stderr
