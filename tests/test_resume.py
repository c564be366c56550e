"""Exact resume: a run killed (SIGKILL) at any point, its checkpoint write included, and resumed
from its last whole checkpoint ends with the very weights of an uninterrupted run."""

from __future__ import annotations

import dataclasses
import importlib.util
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

import graphdl
from graphdl.diagnostics import GraphdlError
from graphdl.train import training_options, trainnet
from graphdl.train._checkpoints import checkpoints_in

# The run, shared by the child process (which is killed) and this one (uninterrupted and
# resumed): a small network with dropout (so the random state matters), shuffled every epoch,
# a checkpoint every 4 iterations of 8 per epoch. The data are arrays, a Dataset that trainnet
# batches, or a DataLoader that shuffles and reads in two worker processes; the Dataset adds
# noise to each image from torch's generator (a worker's own, in the DataLoader's workers), so
# that where the random states stand when a batch is read matters too.
SCRIPT = '''
import os
import sys
import time

import torch

import graphdl
from graphdl.datasets import digits
from graphdl.train import training_options, trainnet

SOURCE = """network small {
    input = imageInput([28, 28, 1])
    conv = convolution2d(3, 2)
    relu = relu()
    pool = maxPooling2d(2, stride=2)
    drop = dropout(0.3)
    fc = fullyConnected(10)
    prob = softmax()
}
"""
EPOCHS, BATCH, IMAGES = 3, 16, 128


class Noisy(torch.utils.data.Dataset):
    def __init__(self, images, labels):
        self.images, self.labels = torch.from_numpy(images), torch.from_numpy(labels)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i] + 0.05 * torch.randn(self.images[i].shape), self.labels[i]


def options(kind, folder, **more):
    solver = {
        "sgdm": "sgdm",
        "adam": "adam",
        "torch": lambda groups: torch.optim.AdamW(groups, lr=0.01),
    }[kind]
    if kind == "torch":
        more["lr_scheduler"] = lambda opt: torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.02, total_steps=EPOCHS * (IMAGES // BATCH))
    return training_options(
        solver, max_epochs=EPOCHS, mini_batch_size=BATCH, shuffle="every-epoch", verbose=False, checkpoint_path=str(folder),
        checkpoint_frequency=4, checkpoint_frequency_unit="iteration", **more
    )


def train(kind, folder, resume=None, data="arrays", **more):
    torch.manual_seed(0)
    digits_ = digits("train", IMAGES, seed=0)
    net = graphdl.dlnetwork(graphdl.loads(SOURCE), seed=0)
    if data == "arrays":
        net, info = trainnet(digits_.images, digits_.labels, net, "crossentropy", options(kind, folder, **more), resume=resume)
        return net
    dataset = Noisy(digits_.images, digits_.labels)
    if data == "loader":
        dataset = torch.utils.data.DataLoader(dataset, batch_size=BATCH, shuffle=True, drop_last=True, num_workers=2)
    net, info = trainnet(dataset, net, "crossentropy", options(kind, folder, **more), resume=resume)
    return net


def pause(marker):
    with open(marker, "w") as handle:
        handle.write("ready")
    time.sleep(600)


if __name__ == "__main__":
    kind, data, folder, mode, at, marker = sys.argv[1:]
    at = int(at)
    if mode == "iteration":  # killed between two steps, after iteration `at`
        more = {"output_fcn": lambda info: info.iteration == at and pause(marker)}
    else:
        more = {}
        writes = []
        real_save, real_replace = torch.save, os.replace

        def save(obj, f):
            writes.append(f)
            if mode == "writing" and len(writes) == at:  # killed halfway through the file
                import io
                buffer = io.BytesIO()
                real_save(obj, buffer)
                with open(f, "wb") as handle:
                    handle.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
                pause(marker)
            real_save(obj, f)

        def replace(source, target):
            if mode == "renaming" and len(writes) == at:  # killed with the new file whole, not yet renamed
                pause(marker)
            real_replace(source, target)

        torch.save, os.replace = save, replace
    train(kind, folder, data=data, **more)
'''


@pytest.fixture(scope="module")
def script(tmp_path_factory):
    path = tmp_path_factory.mktemp("resume") / "run.py"
    path.write_text(SCRIPT, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("resume_run", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return path, module


def assert_same_weights(a, b):
    left, right = a.state_dict(), b.state_dict()
    assert left.keys() == right.keys()
    different = [key for key in left if not torch.equal(left[key], right[key])]
    assert not different, f"weights differ: {different}"


def kill(script, folder, kind, mode, at, data="arrays"):
    path, _ = script
    marker = folder.parent / "ready"
    child = subprocess.Popen([sys.executable, str(path), kind, data, str(folder), mode, str(at), str(marker)], stderr=subprocess.PIPE)
    try:
        while not marker.exists():
            if child.poll() is not None:
                pytest.fail(f"the training process ended before it was killed: {child.stderr.read().decode()}")
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
        child.stderr.close()


# Where each solver's run is killed: between steps, halfway through writing a checkpoint, and
# with a checkpoint written whole but not yet renamed into place; the point itself is random.
KILLS = [("sgdm", "iteration", "arrays"), ("adam", "writing", "arrays"), ("torch", "renaming", "arrays"),
         ("sgdm", "iteration", "loader"), ("adam", "writing", "dataset")]


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "mode", "data"), KILLS)
def test_a_killed_run_resumes_to_the_uninterrupted_weights(script, tmp_path, kind, mode, data):
    at = random.randint(5, 23) if mode == "iteration" else random.randint(2, 6)  # iterations 1-24; checkpoints 1-6
    _, run = script
    folder = tmp_path / "checkpoints"
    kill(script, folder, kind, mode, at, data)
    if mode != "iteration":
        # The interrupted write left its partial file, which never replaced a whole checkpoint:
        # the checkpoints before it are there, whole.
        assert [p.name for p in folder.iterdir() if p.name.endswith(".partial")], "the kill left no partial file"
        assert [p.name for p in checkpoints_in(folder)] == [f"small_epoch{(4 * n - 1) // 8 + 1:03d}_iteration{4 * n}.pt" for n in range(1, at)]
    resumed = run.train(kind, folder, resume=folder, data=data)
    assert_same_weights(resumed, run.train(kind, tmp_path / "uninterrupted", data=data))


@pytest.mark.slow
@pytest.mark.parametrize("data", ["arrays", "dataset", "loader", "batches"])
def test_a_run_stopped_and_resumed_ends_as_an_uninterrupted_one(script, tmp_path, data):
    # In one process: Ctrl-C (KeyboardInterrupt in an output function) stops training at
    # iteration 11, between the checkpoints of iterations 8 (the end of epoch 1) and 12, so 3
    # steps are done again. Resumed from iteration 4 as well, within the first epoch, where a
    # Dataset or a loader reads the epoch's first batches again. "batches" is a list of (X, T)
    # batches, in the same order every epoch.
    _, run = script
    if data == "batches":
        run = _BatchesRun(run)

    def interrupt(info):
        if info.iteration == 11 and info.state == "iteration":
            raise KeyboardInterrupt

    run.train("sgdm", tmp_path / "a", output_fcn=interrupt, data=data)
    assert [p.name for p in checkpoints_in(tmp_path / "a")] == [f"small_epoch{e:03d}_iteration{i}.pt" for e, i in ((1, 4), (1, 8))]
    uninterrupted = run.train("sgdm", tmp_path / "b", data=data)
    for checkpoint in ("small_epoch001_iteration8.pt", "small_epoch001_iteration4.pt"):
        resumed = run.train("sgdm", tmp_path / "c", resume=tmp_path / "a" / checkpoint, data=data)
        assert_same_weights(resumed, uninterrupted)


class _BatchesRun:
    """The script's run, its data a list of (X, T) batches."""

    def __init__(self, run):
        self.run = run

    def train(self, kind, folder, resume=None, data="batches", **more):
        torch.manual_seed(0)
        digits = self.run.digits("train", self.run.IMAGES, seed=0)
        X, T = torch.from_numpy(digits.images), torch.from_numpy(digits.labels)
        batches = [(X[i : i + self.run.BATCH], T[i : i + self.run.BATCH]) for i in range(0, len(X), self.run.BATCH)]
        net = graphdl.dlnetwork(graphdl.loads(self.run.SOURCE), seed=0)
        net, _ = trainnet(batches, net, "crossentropy", self.run.options(kind, folder, **more), resume=resume)
        return net


def test_checkpoints_every_n_epochs_and_the_newest_kept(script, tmp_path):
    _, run = script
    data = run.digits("train", 64, seed=0)
    net = graphdl.dlnetwork(graphdl.loads(run.SOURCE), seed=0)
    options = training_options(max_epochs=5, mini_batch_size=32, verbose=False, checkpoint_path=str(tmp_path), checkpoint_frequency=2, checkpoints_kept=1)
    _, info = trainnet(data.images, data.labels, net, "crossentropy", options)
    assert [p.name for p in checkpoints_in(tmp_path)] == ["small_epoch004_iteration8.pt"]
    assert info.last_checkpoint.name == "small_epoch004_iteration8.pt"
    # A checkpoint is a network file to every reader, with weights_only.
    assert graphdl.load_network(info.last_checkpoint).state_dict().keys() == net.state_dict().keys()
    assert torch.load(info.last_checkpoint, weights_only=True)["version"] == 2


def test_resuming_from_what_is_not_a_checkpoint_is_refused(script, tmp_path):
    _, run = script
    data = run.digits("train", 64, seed=0)
    net = graphdl.dlnetwork(graphdl.loads(run.SOURCE), seed=0)
    network_file = graphdl.save_network(net, tmp_path / "net.pt")
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint")
    before = {key: value.clone() for key, value in net.state_dict().items()}
    for path in (network_file, garbage, tmp_path / "empty"):
        (tmp_path / "empty").mkdir(exist_ok=True)
        with pytest.raises(GraphdlError) as caught:
            trainnet(data.images, data.labels, net, "crossentropy", training_options(mini_batch_size=32, verbose=False), resume=path)
        assert caught.value.code == "E007", str(caught.value)
    assert all(torch.equal(value, net.state_dict()[key]) for key, value in before.items())


def test_resuming_with_other_options_is_refused_before_training(script, tmp_path):
    _, run = script
    data = run.digits("train", 64, seed=0)
    net = graphdl.dlnetwork(graphdl.loads(run.SOURCE), seed=0)
    options = training_options(max_epochs=1, mini_batch_size=32, verbose=False, checkpoint_path=str(tmp_path))
    _, info = trainnet(data.images, data.labels, net, "crossentropy", options)
    before = {key: value.clone() for key, value in net.state_dict().items()}
    cases = [
        (data.images, data.labels, training_options("adam", mini_batch_size=32), "solver 'adam', and the checkpoint's is 'sgdm'"),
        (data.images, data.labels, training_options(mini_batch_size=16), "mini_batch_size 16, and the checkpoint's is 32"),
        (data.images[:48], data.labels[:48], training_options(mini_batch_size=32), "48 training observations, and the checkpoint's run had 64"),
    ]
    for images, labels, options, message in cases:
        with pytest.raises(GraphdlError, match=message) as caught:
            trainnet(images, labels, net, "crossentropy", options, resume=info.last_checkpoint)
        assert caught.value.code == "E802"
    assert all(torch.equal(value, net.state_dict()[key]) for key, value in before.items())


def test_a_checkpoint_refuses_state_that_weights_only_cannot_read(tmp_path):
    net = graphdl.dlnetwork(graphdl.loads('network n {\n input = featureInput(2)\n fc = fullyConnected(2)\n}\n'), seed=0)
    with pytest.raises(GraphdlError, match=r"training\['f'\] is a function") as caught:
        graphdl.interop.save_checkpoint(net, tmp_path / "c.pt", {"f": lambda: None})
    assert caught.value.code == "E229"
    assert not list(tmp_path.iterdir())


def test_a_checkpoint_resumes_only_the_kind_of_data_that_wrote_it(tmp_path):
    # Arrays and a Dataset keep different positions, so each refuses the other's checkpoint, as
    # a loader of another length does, before the network is touched.
    X = torch.randn(64, 6, generator=torch.Generator().manual_seed(0))
    T = (X[:, 0] > 0).long()
    data = torch.utils.data.TensorDataset(X, T)
    net = graphdl.dlnetwork(graphdl.loads(DATASET_NET), seed=0)
    options = training_options("sgdm", max_epochs=1, mini_batch_size=16, verbose=False)
    _, on_dataset = trainnet(data, net, "crossentropy", dataclasses.replace(options, checkpoint_path=str(tmp_path / "d")))
    _, on_arrays = trainnet(X, T, net, "crossentropy", dataclasses.replace(options, checkpoint_path=str(tmp_path / "a")))
    fresh = graphdl.dlnetwork(graphdl.loads(DATASET_NET), seed=0)
    before = {key: value.clone() for key, value in fresh.state_dict().items()}
    loader = torch.utils.data.DataLoader(data, batch_size=16)
    cases = [
        ((X, T), on_dataset, "arrays, and the checkpoint was written by training on a Dataset"),
        ((data,), on_arrays, "a Dataset, a DataLoader or an iterable of batches, and the checkpoint was written by training on arrays"),
        ((torch.utils.data.Subset(data, range(48)),), on_dataset, "3 mini-batches a pass, and the checkpoint's run had 4"),
        ((loader,), on_dataset, None),  # the same batches a pass: resumable
    ]
    for args, info, message in cases:
        if message is None:
            trainnet(*args, graphdl.dlnetwork(graphdl.loads(DATASET_NET), seed=0), "crossentropy", options, resume=info.last_checkpoint)
            continue
        with pytest.raises(GraphdlError, match=message) as caught:
            trainnet(*args, fresh, "crossentropy", options, resume=info.last_checkpoint)
        assert caught.value.code == "E802"
    assert all(torch.equal(value, before[key]) for key, value in fresh.state_dict().items())


DATASET_NET = """network small {
 input = featureInput(6, normalization="zerocenter")
 fc = fullyConnected(2)
 prob = softmax()
}
"""
