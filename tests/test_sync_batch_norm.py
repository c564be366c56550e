"""Synchronised batch normalisation: two real processes (gloo, on the CPU) each running its share of
a mini-batch through networks whose batch normalisations `synchronize_batch_norm` has replaced
give what one process's ordinary batch normalisation of the whole mini-batch gives: the outputs,
the gradients, the running statistics.

The two processes are started once for the module (the imports cost seconds) and do every
distributed check in that one run; the tests read what each process saved.
"""

from __future__ import annotations

import copy
import socket
from datetime import timedelta

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

import graphdl
from graphdl.catalog._torch_modules.normalization import BatchNormNd
from graphdl.train._sync_batch_norm import GlooSyncBatchNorm, synchronize_batch_norm

pytestmark = pytest.mark.slow  # each test starts processes of a process group

WORLD = 2
STEPS = 2


def _drawn(bn: nn.modules.batchnorm._BatchNorm, generator: torch.Generator) -> nn.Module:
    """`bn` in float64, in a container as a network holds it, with its learnables and running
    statistics drawn at random so that a channel mixed up shows."""
    with torch.no_grad():
        for t in (bn.weight, bn.bias, bn.running_mean):
            if t is not None:
                t.copy_(torch.randn(t.shape, generator=generator))
        if bn.running_var is not None:
            bn.running_var.copy_(torch.rand(bn.running_var.shape, generator=generator) + 0.5)
    return nn.Sequential(bn).double()


def _cases() -> dict[str, tuple[nn.Module, list[torch.Tensor]]]:
    """Each network, in training mode, and its mini-batches, one per step; the same in every process."""
    g = torch.Generator().manual_seed(0)

    def batches(*size):
        return [torch.randn(size, generator=g, dtype=torch.float64) * (step + 1) + step - 1 for step in range(STEPS)]

    text = 'network t {\n input = imageInput([5, 4, 3], normalization="none")\n c = convolution2d(3, 4)\n b = batchNormalization()\n r = relu()\n}\n'
    cases = {
        "2d": (_drawn(nn.BatchNorm2d(3), g), batches(8, 3, 5, 4)),
        # An odd mini-batch: the processes' shares differ (4 and 3).
        "1d-cumulative": (_drawn(nn.BatchNorm1d(4, momentum=None), g), batches(7, 4, 6)),
        "nd": (_drawn(BatchNormNd(2, eps=1e-3), g), batches(4, 2, 3, 2, 2, 2)),
        # Features, of which process 1 has a single sample: alone it could not normalise them.
        "plain": (_drawn(nn.BatchNorm1d(3, affine=False, track_running_stats=False), g), batches(3, 3)),
        # graphdl's compiled network: its generated forward looks up `self.b`.
        "graphdl": (graphdl.dlnetwork(graphdl.loads(text), seed=0).double(), batches(6, 3, 5, 4)),
    }
    for net, _ in cases.values():
        net.train()
    return cases


def _loss(y: torch.Tensor) -> torch.Tensor:
    """A loss that weighs each output differently: the mean over a process's share of the batch."""
    pattern = torch.linspace(-1, 2, y[0].numel(), dtype=y.dtype).view(y.shape[1:])
    return (y.pow(3) * pattern).mean()


def _statistics(net: nn.Module) -> dict[str, torch.Tensor]:
    parameters = {name for name, _ in net.named_parameters()}
    return {name: value.clone() for name, value in net.state_dict().items() if name not in parameters}


def _in_process(rank: int, port: int, directory: str) -> None:
    """One of the two processes: every case on this process's share, what it gives saved to
    `directory`/<rank>.pt."""
    # A collective one process makes and the other does not fails in seconds instead of hanging.
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD, timeout=timedelta(seconds=30))
    try:
        results = {}
        for name, (net, batches) in _cases().items():
            originals = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
            learnables = list(net.parameters())
            restore = synchronize_batch_norm(net)
            stand_ins = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
            steps = []
            for x in batches:
                share = x.tensor_split(WORLD)[rank].requires_grad_()
                y = net(share)
                dx, *grads = torch.autograd.grad(_loss(y), [share, *learnables])
                # DistributedDataParallel's averaging of the learnables' gradients.
                for grad in grads:
                    dist.all_reduce(grad)
                    grad /= WORLD
                steps.append({"y": y.detach(), "dx": dx, "grads": grads})
            net.eval()
            # Process 0 alone: a collective here would be paired with the all-reduce below.
            y_eval = net(batches[0].tensor_split(WORLD)[0]) if rank == 0 else None
            ranks = torch.tensor([float(rank)])
            dist.all_reduce(ranks)
            restore()
            results[name] = {
                "steps": steps,
                "statistics": _statistics(net),
                "y_eval": y_eval,
                "ranks": ranks.item(),
                "stand_ins": [type(m).__name__ for m in stand_ins],
                "restored": [a is b for a, b in zip(originals, [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)])],
                "restored_eval": all(not m.training for m in originals),
            }
        torch.save(results, f"{directory}/{rank}.pt")
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def distributed(tmp_path_factory):
    """What each of the two processes saved, in rank order."""
    directory = tmp_path_factory.mktemp("sync_batch_norm")
    mp.spawn(_in_process, args=(_free_port(), str(directory)), nprocs=WORLD, join=True)
    return [torch.load(directory / f"{rank}.pt") for rank in range(WORLD)]


@pytest.fixture(scope="module")
def reference():
    """One process's ordinary batch normalisation of the whole mini-batches. Its loss is the mean of
    the processes' losses, the objective whose gradient DistributedDataParallel's averaged
    gradients are: with equal shares, the mean loss of the whole mini-batch."""
    results = {}
    for name, (net, batches) in _cases().items():
        learnables = list(net.parameters())
        steps = []
        for x in batches:
            x = x.clone().requires_grad_()
            y = net(x)
            loss = sum(_loss(share) for share in y.tensor_split(WORLD)) / WORLD
            if x.shape[0] % WORLD == 0:
                torch.testing.assert_close(loss, _loss(y), rtol=1e-12, atol=0)
            dx, *grads = torch.autograd.grad(loss, [x, *learnables])
            steps.append({"y": y.detach(), "dx": dx, "grads": grads})
        net.eval()
        results[name] = {"steps": steps, "statistics": _statistics(net), "y_eval": net(batches[0].tensor_split(WORLD)[0])}
    return results


CASES = ["2d", "1d-cumulative", "nd", "plain", "graphdl"]
TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}


@pytest.mark.parametrize("case", CASES)
def test_each_process_normalises_its_share_with_the_statistics_of_the_whole_mini_batch(distributed, reference, case):
    for step in range(STEPS):
        y = torch.cat([distributed[rank][case]["steps"][step]["y"] for rank in range(WORLD)])
        torch.testing.assert_close(y, reference[case]["steps"][step]["y"], **TOLERANCE)


@pytest.mark.parametrize("case", CASES)
def test_the_gradients_are_those_of_batch_normalisation_of_the_whole_mini_batch(distributed, reference, case):
    for step in range(STEPS):
        expected = reference[case]["steps"][step]
        # Each process's input gets the gradient of the sum of the processes' losses, WORLD times
        # that of their mean.
        dx = torch.cat([distributed[rank][case]["steps"][step]["dx"] for rank in range(WORLD)])
        torch.testing.assert_close(dx / WORLD, expected["dx"], **TOLERANCE)
        for rank in range(WORLD):
            grads = distributed[rank][case]["steps"][step]["grads"]
            assert len(grads) == len(expected["grads"])
            for grad, expected_grad in zip(grads, expected["grads"]):
                torch.testing.assert_close(grad, expected_grad, **TOLERANCE)


@pytest.mark.parametrize("case", CASES)
def test_the_running_statistics_are_updated_as_one_process_updates_them(distributed, reference, case):
    expected = reference[case]["statistics"]
    for rank in range(WORLD):
        statistics = distributed[rank][case]["statistics"]
        assert statistics.keys() == expected.keys()
        for name, value in expected.items():
            torch.testing.assert_close(statistics[name], value, **TOLERANCE)
    if case != "plain":
        assert any(name.endswith("num_batches_tracked") and value.item() == STEPS for name, value in expected.items())


@pytest.mark.parametrize("case", CASES)
def test_in_eval_mode_the_running_statistics_normalise_without_a_collective(distributed, reference, case):
    # Process 0 alone ran the network in eval mode, and the next all-reduce still paired the two.
    assert [distributed[rank][case]["ranks"] for rank in range(WORLD)] == [1.0, 1.0]
    torch.testing.assert_close(distributed[0][case]["y_eval"], reference[case]["y_eval"], **TOLERANCE)


@pytest.mark.parametrize("case", CASES)
def test_the_stand_ins_are_gloo_ones_on_the_cpu_and_restore_puts_the_originals_back(distributed, case):
    for rank in range(WORLD):
        result = distributed[rank][case]
        assert result["stand_ins"] == ["GlooSyncBatchNorm"]
        assert result["restored"] == [True]
        assert result["restored_eval"]


def test_synchronize_batch_norm_shares_the_state_and_restore_gives_back_the_same_objects():
    shared, other = nn.BatchNorm2d(3), BatchNormNd(2, momentum=None)
    net = nn.Sequential(nn.Conv2d(1, 3, 1), shared, nn.Sequential(shared, other), nn.ReLU())
    state = dict([*net.named_parameters(), *net.named_buffers()])
    before = list(net.modules())
    restore = synchronize_batch_norm(net)
    stand_in = net[1]
    assert isinstance(stand_in, GlooSyncBatchNorm) and net[2][0] is stand_in and isinstance(net[2][1], GlooSyncBatchNorm)
    assert (stand_in.momentum, net[2][1].momentum, net[2][1].num_features) == (0.1, None, 2)
    for name, value in [*net.named_parameters(), *net.named_buffers()]:
        assert value is state[name]
    # A network moved to another device or type gets new buffer objects: restore hands them back.
    net.double().eval()
    restore()
    assert list(net.modules()) == before
    assert shared.running_mean.dtype == torch.float64 and shared.running_mean is net[1].running_mean
    assert not shared.training and not other.training
    with pytest.raises(TypeError):
        synchronize_batch_norm(shared)


@pytest.mark.parametrize("world", [None, 1])
def test_alone_it_is_torchs_batch_norm(world):
    """Without a process group, or in one of one process, in training and in eval mode."""
    expected = _drawn(nn.BatchNorm2d(3, momentum=None), torch.Generator().manual_seed(3))
    net = copy.deepcopy(expected)
    x = torch.randn(5, 3, 4, 2, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    if world:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{_free_port()}", rank=0, world_size=world)
    try:
        restore = synchronize_batch_norm(net)
        assert isinstance(net[0], GlooSyncBatchNorm)
        for mode in (True, True, False):
            net.train(mode)
            expected.train(mode)
            xs = x.clone().requires_grad_(), x.clone().requires_grad_()
            ys = net(xs[0]), expected(xs[1])
            assert torch.equal(ys[0], ys[1])
            grads = [torch.autograd.grad(_loss(y), [xi, *module.parameters()]) for y, xi, module in zip(ys, xs, (net, expected))]
            for a, b in zip(*grads):
                assert torch.equal(a, b)
        restore()
        for a, b in zip(net.state_dict().values(), expected.state_dict().values()):
            assert torch.equal(a, b)
    finally:
        if world:
            dist.destroy_process_group()
