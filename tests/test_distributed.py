"""Distributed data parallel training on the CPU: two processes with the gloo backend, started by
torchrun as a user starts them, against one process trained on the same global mini-batches."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import torch

from conftest import EXAMPLES

# One script, run by one process alone and by torchrun in two: the seed network, shuffled every
# epoch, the mini-batch of 32 shared out 16 and 16, batch normalisation over the whole mini-batch.
SCRIPT = '''
import os
import sys
from pathlib import Path

import torch

import graphdl
from graphdl.datasets import digits
from graphdl.train import training_options, trainnet

out, data_kind, modes = Path(sys.argv[1]), sys.argv[2], sys.argv[3].split(",")
resume, every = (sys.argv[5], int(sys.argv[6])) if len(sys.argv) > 5 else (None, None)
rank = int(os.environ.get("RANK", "0"))
torch.manual_seed(0)
data = digits("train", 256, seed=0)
net = graphdl.dlnetwork(graphdl.load(sys.argv[4]), seed=0)
options = training_options(
    "sgdm", max_epochs=2, mini_batch_size=32, shuffle="every-epoch", sync_batch_norm="sync" in modes, fully_shard="fsdp" in modes,
    verbose=True, verbose_frequency=4,
    checkpoint_path=str(out / "checkpoints"), plots=str(out / "progress.png"), log_csv=str(out / "log.csv"),
    **({"checkpoint_frequency": every, "checkpoint_frequency_unit": "iteration"} if every else {}),
)
if data_kind == "arrays":
    net, info = trainnet(data.images, data.labels, net, "crossentropy", options, resume=resume if resume != "-" else None)
else:
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(data.images), torch.from_numpy(data.labels))
    net, info = trainnet(dataset, net, "crossentropy", options, resume=resume if resume != "-" else None)
torch.save({"state": net.state_dict(), "loss": info.history["loss"][1]}, out / f"result{rank}.pt")
print(f"process {rank} trained {info.iterations} iterations")
'''


@pytest.fixture(scope="module")
def script(tmp_path_factory):
    path = tmp_path_factory.mktemp("ddp") / "train.py"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


def torchrun(*args, processes=2):
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes), *map(str, args)]


def run(command, **kwargs):
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=environment, **kwargs)


@pytest.mark.slow
@pytest.mark.parametrize("data", ["arrays", "dataset"])
def test_two_processes_train_as_one_on_the_same_global_batches(script, tmp_path, data):
    one, two = tmp_path / "one", tmp_path / "two"
    alone = run([sys.executable, script, one, data, "sync", EXAMPLES / "mnist.dlg"])
    assert alone.returncode == 0, alone.stderr
    together = run(torchrun(script, two, data, "sync", EXAMPLES / "mnist.dlg"))
    assert together.returncode == 0, together.stderr
    single = torch.load(one / "result0.pt", weights_only=True)
    first, second = (torch.load(two / f"result{rank}.pt", weights_only=True) for rank in (0, 1))
    for key, value in single["state"].items():
        assert torch.equal(first["state"][key], second["state"][key]), f"the processes' copies of {key} differ"
        torch.testing.assert_close(first["state"][key], value, atol=1e-5, rtol=0, msg=lambda m, key=key: f"{key}: {m}")
    # The loss shown is the whole mini-batch's, as the single process's.
    torch.testing.assert_close(torch.tensor(first["loss"]), torch.tensor(single["loss"]), atol=1e-4, rtol=0)
    # Process 0 alone writes the checkpoints, the plot and the log, and prints the progress.
    assert sorted(p.name for p in (two / "checkpoints").iterdir()) == ["mnist_epoch001_iteration8.pt", "mnist_epoch002_iteration16.pt"]
    assert (two / "progress.png").exists() and (two / "log.csv").read_text().count("\n") == 17
    assert together.stdout.count("epoch 2/2  iteration 16") == 1, together.stdout
    assert "process 0 trained 16 iterations" in together.stdout and "process 1 trained 16 iterations" in together.stdout


@pytest.mark.slow
def test_fully_sharded_training_follows_one_process_and_writes_whole_checkpoints(script, tmp_path):
    # fully_shard: each process holds half of every layer's learnables, gradients and velocity;
    # checkpoints and the network returned are whole, ordinary ones.
    alone = run([sys.executable, script, tmp_path / "one", "arrays", "sync", EXAMPLES / "mnist.dlg"])
    assert alone.returncode == 0, alone.stderr
    sharded = run(torchrun(script, tmp_path / "two", "arrays", "sync,fsdp", EXAMPLES / "mnist.dlg", "-", 3))
    assert sharded.returncode == 0, sharded.stderr
    expected = torch.load(tmp_path / "one" / "result0.pt", weights_only=True)["state"]
    for rank in (0, 1):
        state = torch.load(tmp_path / "two" / f"result{rank}.pt", weights_only=True)["state"]
        for key, value in expected.items():
            torch.testing.assert_close(state[key], value, atol=1e-5, rtol=0, msg=lambda m, key=key, rank=rank: f"process {rank}, {key}: {m}")
    import graphdl

    checkpoint = tmp_path / "two" / "checkpoints" / "mnist_epoch001_iteration6.pt"
    assert graphdl.load_network(checkpoint).fc.weight.shape == (10, 3920)
    resumed = run(torchrun(script, tmp_path / "resumed", "arrays", "sync,fsdp", EXAMPLES / "mnist.dlg", checkpoint, 3))
    assert resumed.returncode == 0, resumed.stderr
    final = torch.load(tmp_path / "two" / "result0.pt", weights_only=True)["state"]
    for key, value in torch.load(tmp_path / "resumed" / "result0.pt", weights_only=True)["state"].items():
        assert torch.equal(value, final[key]), key


@pytest.mark.slow
def test_per_process_batch_statistics_keep_the_copies_equal(script, tmp_path):
    together = run(torchrun(script, tmp_path, "arrays", "per-process", EXAMPLES / "mnist.dlg"))
    assert together.returncode == 0, together.stderr
    first, second = (torch.load(tmp_path / f"result{rank}.pt", weights_only=True) for rank in (0, 1))
    for key, value in first["state"].items():
        assert torch.equal(second["state"][key], value), key
    losses = first["loss"]
    assert sum(losses[-4:]) < sum(losses[:4])


@pytest.mark.slow
def test_a_process_that_dies_stops_the_other_with_a_clear_message(tmp_path):
    # Started without torchrun (whose agent would stop the survivor itself), so that the survivor
    # meets the failure in its own collective and says so.
    script = tmp_path / "dies.py"
    script.write_text(
        f"""
import os
import sys
import torch
import torch.distributed as dist
import graphdl
from graphdl.datasets import digits
from graphdl.train import training_options, trainnet

rank = int(sys.argv[1])
dist.init_process_group("gloo", init_method="tcp://127.0.0.1:" + sys.argv[2], rank=rank, world_size=2)
torch.manual_seed(0)
data = digits("train", 256, seed=0)
net = graphdl.dlnetwork(graphdl.load({str(EXAMPLES / "mnist.dlg")!r}), seed=0)
calls = []


def loss(Y, T):  # process 1 dies (SIGKILL) in its third step
    calls.append(1)
    if rank == 1 and len(calls) == 3:
        os.kill(os.getpid(), 9)
    return graphdl.crossentropy(Y, T)


options = training_options(max_epochs=5, mini_batch_size=32, verbose=False, checkpoint_path=sys.argv[3])
try:
    trainnet(data.images, data.labels, net, loss, options)
except graphdl.GraphdlError as e:
    print(e.code, e)
    sys.exit(3)
""",
        encoding="utf-8",
    )
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    children = [
        subprocess.Popen([sys.executable, str(script), str(rank), str(port), str(tmp_path / "checkpoints")], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=environment)
        for rank in (0, 1)
    ]
    try:
        out, err = children[0].communicate(timeout=120)
        children[1].communicate(timeout=60)
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.communicate()
    assert children[1].returncode == -signal.SIGKILL
    assert children[0].returncode == 3, err
    assert "E804" in out and "in process 0 of 2, exchanging data with the other processes failed" in out, out
    assert "most likely because another process stopped" in out


@pytest.mark.slow
def test_graphdl_train_runs_under_torchrun(tmp_path):
    # `torchrun --nproc_per_node 2 -m graphdl train ...`, as the docs say; process 0 alone reports.
    result = run(torchrun(
        "-m", "graphdl", "train", EXAMPLES / "mnist.dlg", "--train-size", "512", "--test-size", "256", "--max-epochs", "1",
        "--mini-batch-size", "64", "--precision", "bf16", "--sync-batch-norm", "--fully-shard", "--checkpoint-path", tmp_path,
    ))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("test accuracy:") == 1, result.stdout
    assert result.stdout.count("training `mnist` on 512 built-in digit images") == 1
    assert [p.name for p in tmp_path.iterdir()] == ["mnist_epoch001_iteration8.pt"]


@pytest.mark.slow
def test_a_distributed_run_resumes_to_the_uninterrupted_weights(script, tmp_path):
    # Checkpoints every 3 iterations; resumed in two processes from the one of iteration 6, within
    # the first epoch, with dropout-free per-process statistics: every process's random state and
    # process 0's buffers come back.
    whole = run(torchrun(script, tmp_path / "whole", "dataset", "per-process", EXAMPLES / "mnist.dlg", "-", 3))
    assert whole.returncode == 0, whole.stderr
    checkpoint = tmp_path / "whole" / "checkpoints" / "mnist_epoch001_iteration6.pt"
    assert torch.load(checkpoint, weights_only=True)["training"]["processes"] == 2
    resumed = run(torchrun(script, tmp_path / "resumed", "dataset", "per-process", EXAMPLES / "mnist.dlg", checkpoint, 3))
    assert resumed.returncode == 0, resumed.stderr
    expected = torch.load(tmp_path / "whole" / "result0.pt", weights_only=True)["state"]
    for rank in (0, 1):
        state = torch.load(tmp_path / "resumed" / f"result{rank}.pt", weights_only=True)["state"]
        for key, value in expected.items():
            assert torch.equal(state[key], value), f"process {rank}: {key}"
    # One process cannot continue a run of two (each process's random state is in the file).
    alone = run([sys.executable, script, tmp_path / "alone", "dataset", "per-process", EXAMPLES / "mnist.dlg", checkpoint, "3"])
    assert alone.returncode != 0 and "1 process, and the checkpoint's run had 2" in alone.stderr


FSDP_SCRIPT = '''
import os
import sys

import torch
import torch.distributed as dist

import graphdl

SOURCE = (
    "network mlp {\\n input = featureInput(32, normalization=\\"none\\")\\n fc1 = fullyConnected(64)\\n relu = relu()\\n"
    " fc2 = fullyConnected(4)\\n prob = softmax()\\n}\\n"
)
distributed = "WORLD_SIZE" in os.environ
if distributed:
    from torch.distributed.fsdp import fully_shard

    dist.init_process_group("gloo")
rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
generator = torch.Generator().manual_seed(0)
X, T = torch.randn(64, 32, generator=generator), torch.randint(0, 4, (64,), generator=generator)
net = graphdl.dlnetwork(graphdl.loads(SOURCE), seed=0)
if distributed:  # each layer's learnables sharded across the processes, then the whole network
    fully_shard(net.fc1)
    fully_shard(net.fc2)
    fully_shard(net)
queue = graphdl.MiniBatchQueue(X, T, mini_batch_size=16, shard=(rank, world))


def model_gradients(net, X, T):
    loss = graphdl.crossentropy(net(X), T)
    return graphdl.dlgradient(loss, net.learnables), loss


velocity = None
for X_, T_ in queue:
    gradients, loss = graphdl.dlfeval(model_gradients, net, X_, T_)
    net, velocity = graphdl.sgdmupdate(net, gradients, velocity, 0.1, 0.9)
state = {key: value.full_tensor() if hasattr(value, "full_tensor") else value for key, value in net.state_dict().items()}
if rank == 0:
    torch.save(state, sys.argv[1])
if distributed:
    dist.barrier()
    dist.destroy_process_group()
'''


@pytest.mark.slow
def test_the_primitives_train_an_fsdp_sharded_network_as_one_process(tmp_path):
    # fully_shard's learnables are DTensors, each process holding half of each; dlgradient gives
    # the sharded gradients FSDP has averaged, and sgdmupdate steps the shards.
    script = tmp_path / "fsdp.py"
    script.write_text(FSDP_SCRIPT, encoding="utf-8")
    alone = run([sys.executable, script, tmp_path / "alone.pt"])
    assert alone.returncode == 0, alone.stderr
    sharded = run(torchrun(script, tmp_path / "sharded.pt"))
    assert sharded.returncode == 0, sharded.stderr
    expected = torch.load(tmp_path / "alone.pt", weights_only=True)
    for key, value in torch.load(tmp_path / "sharded.pt", weights_only=True).items():
        torch.testing.assert_close(value, expected[key], atol=1e-5, rtol=0, msg=lambda m, key=key: f"{key}: {m}")


@pytest.mark.slow
def test_the_parallel_environment_starts_its_own_processes():
    # MATLAB's ExecutionEnvironment "parallel": trainnet forks the processes itself, each training
    # its share with DDP; the network given takes process 0's weights, which equal one process's.
    import graphdl
    from graphdl.datasets import digits
    from graphdl.train import training_options, trainnet

    data = digits("train", 256, seed=0)
    results = {}
    for environment in ("cpu", "parallel"):
        torch.manual_seed(0)
        net = graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"), seed=0)
        options = training_options(
            "sgdm", max_epochs=2, mini_batch_size=32, shuffle="every-epoch", sync_batch_norm=True, verbose=False,
            execution_environment=environment, workers=2,
        )
        trained, info = trainnet(data.images, data.labels, net, "crossentropy", options)
        assert trained is net and info.iterations == 16
        results[environment] = net.state_dict()
    for key, value in results["cpu"].items():
        torch.testing.assert_close(results["parallel"][key], value, atol=1e-5, rtol=0, msg=lambda m, key=key: f"{key}: {m}")


@pytest.mark.slow
def test_a_failure_in_a_started_process_is_reported_by_trainnet():
    import graphdl
    from graphdl.datasets import digits
    from graphdl.diagnostics import GraphdlError
    from graphdl.train import training_options, trainnet

    data = digits("train", 128, seed=0)
    net = graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"), seed=0)

    def loss(Y, T):
        if os.environ.get("RANK") == "1":
            raise ValueError("a loss that fails in process 1")
        return graphdl.crossentropy(Y, T)

    options = training_options(max_epochs=1, mini_batch_size=32, verbose=False, execution_environment="parallel", workers=2)
    with pytest.raises(GraphdlError, match=r"training in 2 processes stopped: process 1 of 2: .*a loss that fails in process 1") as caught:
        trainnet(data.images, data.labels, net, loss, options)
    assert caught.value.code == "E804"


@pytest.mark.slow
def test_validation_and_early_stopping_agree_across_processes(tmp_path):
    # Per-process batch statistics differ after each step; validation uses process 0's in every
    # process, so the processes see the same validation outputs and stop at the same iteration.
    import graphdl
    from graphdl.datasets import digits
    from graphdl.train import training_options, trainnet

    data, held_out = digits("train", 256, seed=0), digits("test", 64, seed=0)

    def outputs(Y, T):  # a metric, called in every process: the validation batch's outputs kept
        if len(Y) == 32:  # validation batches are whole (32); training ones are each process's 16
            with open(tmp_path / f"validation{os.environ['RANK']}.txt", "a") as handle:
                handle.write(f"{Y.double().sum().item():.12f}\n")
        return torch.zeros(())

    torch.manual_seed(0)
    net = graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"), seed=0)
    options = training_options(
        "sgdm", initial_learn_rate=0.5, max_epochs=8, mini_batch_size=32, verbose=False, validation_data=(held_out.images, held_out.labels),
        validation_frequency=2, validation_patience=2, metrics=[outputs], execution_environment="parallel", workers=2,
    )
    _, info = trainnet(data.images, data.labels, net, "crossentropy", options)
    assert info.stop_reason.startswith("met the validation criterion"), info.stop_reason
    first, second = ((tmp_path / f"validation{rank}.txt").read_text().split() for rank in (0, 1))
    assert first == second and len(first) >= 3


def _constant_loss_scale(value):  # module level: a spawned process can unpickle it
    return value * 2


def _spawned_work():
    import torch.distributed as dist

    total = torch.tensor([float(dist.get_rank() + 1)])
    dist.all_reduce(total)
    return _constant_loss_scale(total.item())


@pytest.mark.slow
def test_spawned_processes_as_multi_gpu_starts_them_receive_pickled_work():
    # "multi-gpu" spawns its processes (CUDA cannot be forked); the same machinery on the CPU:
    # work defined at module level arrives and runs, a lambda is refused before any process starts.
    from graphdl.train._distributed import run_in_processes

    assert run_in_processes(_spawned_work, 2, cuda=False, start_method="spawn") == 6.0  # (1 + 2) * 2
    with pytest.raises(TypeError, match="receive trainnet's arguments pickled"):
        run_in_processes(lambda: 1, 2, cuda=False, start_method="spawn")
