"""Exact resume: a run killed (SIGKILL) at any point, its checkpoint write included, and resumed
from its last whole checkpoint ends with the very weights of an uninterrupted run."""

from __future__ import annotations

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
# a checkpoint every 4 iterations of 8 per epoch.
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


def train(kind, folder, resume=None, **more):
    torch.manual_seed(0)
    data = digits("train", IMAGES, seed=0)
    net = graphdl.dlnetwork(graphdl.loads(SOURCE), seed=0)
    net, info = trainnet(data.images, data.labels, net, "crossentropy", options(kind, folder, **more), resume=resume)
    return net


def pause(marker):
    with open(marker, "w") as handle:
        handle.write("ready")
    time.sleep(600)


if __name__ == "__main__":
    kind, folder, mode, at, marker = sys.argv[1:]
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
    train(kind, folder, **more)
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


def kill(script, folder, kind, mode, at):
    path, _ = script
    marker = folder.parent / "ready"
    child = subprocess.Popen([sys.executable, str(path), kind, str(folder), mode, str(at), str(marker)], stderr=subprocess.PIPE)
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
KILLS = [("sgdm", "iteration"), ("adam", "writing"), ("torch", "renaming")]


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "mode"), KILLS)
def test_a_killed_run_resumes_to_the_uninterrupted_weights(script, tmp_path, kind, mode):
    at = random.randint(5, 23) if mode == "iteration" else random.randint(2, 6)  # iterations 1-24; checkpoints 1-6
    _, run = script
    folder = tmp_path / "checkpoints"
    kill(script, folder, kind, mode, at)
    if mode != "iteration":
        # The interrupted write left its partial file, which never replaced a whole checkpoint:
        # the checkpoints before it are there, whole.
        assert [p.name for p in folder.iterdir() if p.name.endswith(".partial")], "the kill left no partial file"
        assert [p.name for p in checkpoints_in(folder)] == [f"small_epoch{(4 * n - 1) // 8 + 1:03d}_iteration{4 * n}.pt" for n in range(1, at)]
    resumed = run.train(kind, folder, resume=folder)
    assert_same_weights(resumed, run.train(kind, tmp_path / "uninterrupted"))


def test_a_run_stopped_and_resumed_ends_as_an_uninterrupted_one(script, tmp_path):
    # In one process: Ctrl-C (KeyboardInterrupt in an output function) stops training at
    # iteration 11, between the checkpoints of iterations 8 (the end of epoch 1) and 12, so 3
    # steps are done again.
    _, run = script

    def interrupt(info):
        if info.iteration == 11 and info.state == "iteration":
            raise KeyboardInterrupt

    run.train("sgdm", tmp_path / "a", output_fcn=interrupt)
    assert [p.name for p in checkpoints_in(tmp_path / "a")] == [f"small_epoch{e:03d}_iteration{i}.pt" for e, i in ((1, 4), (1, 8))]
    resumed = run.train("sgdm", tmp_path / "a", resume=tmp_path / "a" / "small_epoch001_iteration8.pt")
    assert_same_weights(resumed, run.train("sgdm", tmp_path / "b"))


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


def test_training_on_a_dataset_writes_checkpoints_that_resume_refuses(tmp_path):
    # The weights and the solver's state are kept; the loader's order is not, so resuming is refused
    # before the network is touched rather than continued inexactly.
    X = torch.randn(64, 6, generator=torch.Generator().manual_seed(0))
    T = (X[:, 0] > 0).long()
    data = torch.utils.data.TensorDataset(X, T)
    net = graphdl.dlnetwork(graphdl.loads(DATASET_NET), seed=0)
    options = training_options("sgdm", max_epochs=1, mini_batch_size=16, checkpoint_path=str(tmp_path), verbose=False)
    net, _ = trainnet(data, net, "crossentropy", options)
    (checkpoint,) = tmp_path.glob("*.pt")
    assert graphdl.load_network(checkpoint).state_dict().keys() == net.state_dict().keys()
    fresh = graphdl.dlnetwork(graphdl.loads(DATASET_NET), seed=0)
    before = {key: value.clone() for key, value in fresh.state_dict().items()}
    with pytest.raises(GraphdlError, match="cannot be resumed yet") as caught:
        trainnet(data, fresh, "crossentropy", options, resume=tmp_path)
    assert caught.value.code == "E802"
    with pytest.raises(GraphdlError, match="whose order it does not keep"):
        trainnet(X, T, fresh, "crossentropy", options, resume=tmp_path)
    assert all(torch.equal(value, before[key]) for key, value in fresh.state_dict().items())


DATASET_NET = """network small {
 input = featureInput(6, normalization="zerocenter")
 fc = fullyConnected(2)
 prob = softmax()
}
"""
