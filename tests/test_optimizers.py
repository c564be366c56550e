"""PyTorch's parts plug in: parameter groups that carry MATLAB's learn-rate and L2 factors,
trainnet driven by a torch.optim optimizer and lr_scheduler, and the learn-rate schedules of
MATLAB's solvers."""

from __future__ import annotations

import math

import pytest
import torch

import graphdl
from conftest import EXAMPLES
from graphdl.datasets import digits
from graphdl.diagnostics import GraphdlError
from graphdl.train import Cosine, MiniBatchQueue, Piecewise, TimeBasedDecay, Warmup, crossentropy, training_options, trainnet

SMALL = """network small {
 input = featureInput(6, normalization="none")
 fc1 = fullyConnected(5)
 bn = batchNormalization()
 relu = relu()
 fc2 = fullyConnected(3)
 prob = softmax()
}
"""


def small_net():
    return graphdl.dlnetwork(graphdl.loads(SMALL), seed=0)


def small_data(n=48, seed=1):
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 6, generator=generator)
    return X, (X[:, 0] > 0).long() + (X[:, 1] > 0).long()


# ---- param_groups -------------------------------------------------------------------------------


def test_param_groups_carry_the_factors_and_leave_frozen_layers_out():
    net = small_net()
    net.set_learn_rate_factor("fc2", "weight", 2)
    net.freeze("bn")
    groups = net.param_groups(learn_rate=0.1, l2_regularization=1e-3)
    by_factors = {(g["learn_rate_factor"], g["l2_factor"]): g for g in groups}
    # Weights have L2 factor 1, fully connected biases 0 (MATLAB's); fc2's weight learns twice as fast.
    assert set(by_factors) == {(1.0, 1.0), (1.0, 0.0), (2.0, 1.0)}
    assert [p is net.fc1.weight for p in by_factors[(1.0, 1.0)]["params"]] == [True]
    assert {id(p) for p in by_factors[(1.0, 0.0)]["params"]} == {id(net.fc1.bias), id(net.fc2.bias)}
    assert by_factors[(2.0, 1.0)]["params"] == [net.fc2.weight]
    for (factor, l2), group in by_factors.items():
        assert group["lr"] == 0.1 * factor and group["weight_decay"] == 1e-3 * l2
    grouped = {id(p) for g in groups for p in g["params"]}
    assert id(net.bn.weight) not in grouped and id(net.bn.bias) not in grouped
    assert len(grouped) == 4
    # A learn-rate factor of 0 leaves a learnable out as freezing does.
    net.set_learn_rate_factor("fc1", None, 0)
    assert {id(p) for g in net.param_groups(0.1) for p in g["params"]} == {id(net.fc2.weight), id(net.fc2.bias)}


def test_a_torch_scheduler_keeps_the_ratios_of_the_factors():
    net = small_net()
    net.set_learn_rate_factor("fc2", None, 0.5)
    optimizer = torch.optim.SGD(net.param_groups(learn_rate=0.2), momentum=0.9)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)
    for _ in range(3):
        optimizer.step()
        scheduler.step()
    for group in optimizer.param_groups:
        assert group["initial_lr"] == 0.2 * group["learn_rate_factor"]
        assert group["lr"] == pytest.approx(0.2 * group["learn_rate_factor"] * (1 + math.cos(math.pi * 3 / 10)) / 2)


# ---- trainnet with a torch optimizer ----------------------------------------------------------------


def test_trainnet_with_torch_sgd_is_the_hand_written_torch_loop():
    X, T = small_data()
    loss = lambda Y, T: crossentropy(Y, T)  # noqa: E731
    factory = lambda params: torch.optim.SGD(params, lr=0.05, momentum=0.9, weight_decay=1e-3)  # noqa: E731
    options = training_options(factory, max_epochs=3, mini_batch_size=16, shuffle="every-epoch", verbose=False, reset_input_normalization=False)
    torch.manual_seed(7)
    trained, info = trainnet(X, T, small_net(), loss, options)

    net = small_net()
    optimizer = torch.optim.SGD(net.param_groups(learn_rate=0.05, l2_regularization=1e-3), momentum=0.9)
    queue = MiniBatchQueue(X, T, mini_batch_size=16, partial="discard")
    torch.manual_seed(7)
    for _ in range(3):
        queue.shuffle()
        for Xb, Tb in queue:
            optimizer.zero_grad()
            loss(net(Xb), Tb).backward()
            optimizer.step()
    assert info.iterations == 9
    for key, value in net.state_dict().items():
        torch.testing.assert_close(trained.state_dict()[key], value, rtol=1e-6, atol=1e-6)
    assert all(p.grad is None for p in trained.parameters())  # trainnet leaves no .grad behind


def test_a_torch_optimizer_honours_the_factors_and_frozen_layers():
    X, T = small_data()
    net = small_net()
    net.freeze("fc1")
    net.set_learn_rate_factor("fc2", "bias", 0)
    before = {key: value.clone() for key, value in net.state_dict().items()}
    options = training_options(torch.optim.Adam, max_epochs=1, mini_batch_size=16, verbose=False, reset_input_normalization=False)
    trainnet(X, T, net, "crossentropy", options)
    after = net.state_dict()
    for key in ("fc1.weight", "fc1.bias", "fc2.bias"):
        assert torch.equal(after[key], before[key])
    assert not torch.equal(after["fc2.weight"], before["fc2.weight"])


def test_gradient_clipping_applies_before_a_torch_optimizer_steps():
    net = small_net()
    before = net.fc2.weight.detach().clone()
    huge = lambda Y, T: 1e6 * Y[:, 0].sum()  # noqa: E731
    options = training_options(
        lambda params: torch.optim.SGD(params, lr=1.0),
        max_epochs=1,
        mini_batch_size=8,
        gradient_threshold=0.01,
        gradient_threshold_method="absolute-value",
        verbose=False,
    )
    trainnet(torch.randn(8, 6), torch.zeros(8, dtype=torch.long), net, huge, options)
    moved = (net.fc2.weight - before).abs()
    assert moved.max() <= 0.01 + 1e-7 and moved.max() > 0.005


def test_an_lr_scheduler_steps_per_iteration_or_per_epoch():
    X, T = small_data()
    for step, expected in (("iteration", 0.1 * 0.5**6), ("epoch", 0.1 * 0.5**2)):
        made = []

        def scheduler(optimizer, made=made):
            made.append(torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5))
            return made[-1]

        options = training_options(
            lambda params: torch.optim.SGD(params, lr=0.1),
            lr_scheduler=scheduler,
            lr_scheduler_step=step,
            max_epochs=2,
            mini_batch_size=16,
            verbose=False,
        )
        trainnet(X, T, small_net(), "crossentropy", options)
        assert made[0].get_last_lr()[0] == pytest.approx(expected)


def test_torch_optimizer_options_are_checked():
    adamw = torch.optim.AdamW
    cases = [
        ({"solver": adamw, "initial_learn_rate": 0.1}, "its own `lr`"),
        ({"solver": adamw, "learn_rate_schedule": "cosine"}, "takes lr_scheduler"),
        ({"solver": "sgdm", "lr_scheduler": torch.optim.lr_scheduler.StepLR}, "MATLAB's solvers take learn_rate_schedule"),
        ({"solver": adamw, "lr_scheduler_step": "batch"}, "lr_scheduler_step"),
        ({"solver": 3}, "torch.optim.Optimizer class or factory"),
        ({"learn_rate_schedule": "linear"}, "learn_rate_schedule must be one of"),
    ]
    for options, message in cases:
        with pytest.raises(GraphdlError, match=message) as caught:
            graphdl.TrainingOptions(**options)
        assert caught.value.code == "E802"
    X, T = small_data()
    for options, message in (
        (training_options(lambda params: torch.optim.SGD(params, lr=-1), mini_batch_size=16), "could not make an optimizer.*Invalid learning rate"),
        (training_options(lambda params: "sgd", mini_batch_size=16), "must make a torch.optim.Optimizer"),
        (training_options(adamw, lr_scheduler=torch.optim.lr_scheduler.ReduceLROnPlateau, mini_batch_size=16), "steps on a metric"),
    ):
        # Zero-centred, so that a reset of the input normalisation would show in the state.
        net = graphdl.dlnetwork(graphdl.loads(SMALL.replace('normalization="none"', 'normalization="zerocenter"')), seed=0)
        before = {key: value.clone() for key, value in net.state_dict().items()}
        with pytest.raises(GraphdlError, match=message) as caught:
            trainnet(X, T, net, "crossentropy", options)
        assert caught.value.code == "E802"
        # Refused before the network is touched: its input normalisation was not reset either.
        assert all(torch.equal(value, before[key]) for key, value in net.state_dict().items())


@pytest.mark.slow
def test_adamw_with_onecycle_trains_the_seed_network_as_sgdm_does():
    train, test = digits("train", 2000, seed=0), digits("test", 500, seed=0)
    epochs, batch = 2, 64
    steps = epochs * (len(train.labels) // batch)
    accuracies = {}
    for name, options in (
        ("sgdm", training_options("sgdm", max_epochs=epochs, mini_batch_size=batch, verbose=False)),
        (
            "adamw",
            training_options(
                lambda params: torch.optim.AdamW(params, lr=1e-3),
                lr_scheduler=lambda optimizer: torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-2, total_steps=steps),
                max_epochs=epochs,
                mini_batch_size=batch,
                verbose=False,
            ),
        ),
    ):
        torch.manual_seed(0)
        net, info = trainnet(train.images, train.labels, graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"), seed=0), "crossentropy", options)
        assert info.iterations == steps
        accuracies[name] = (net.predict(test.images).argmax(1) == torch.as_tensor(test.labels)).float().mean().item()
    assert min(accuracies.values()) >= 0.9, accuracies


# ---- schedules of MATLAB's solvers -------------------------------------------------------------------


def test_schedules_follow_their_formulas():
    assert [TimeBasedDecay(0.01, decay=0.01)(i) for i in (1, 100)] == [0.01 / 1.01, 0.01 / 2]
    assert [Piecewise(0.1, 0.5, 2)(1, e) for e in (1, 2, 3, 5)] == [0.1, 0.1, 0.05, 0.025]
    warmup = Warmup(0.01, initial_factor=0.2, final_factor=1, num_steps=4)
    assert [warmup(i) for i in (1, 2, 3, 5, 50)] == pytest.approx([0.002, 0.004, 0.006, 0.01, 0.01])
    by_epoch = Warmup(0.01, num_steps=2, frequency_unit="epoch")
    assert [by_epoch(7, e) for e in (1, 2, 3)] == pytest.approx([0.001, 0.0055, 0.01])
    cosine = Cosine(0.1, period=4)
    half = [0.1 * (1 + math.cos(math.pi * t / 4)) / 2 for t in (0, 1, 2, 3)]
    assert [cosine(99, e) for e in (1, 2, 3, 4, 5)] == pytest.approx([*half, 0.1])  # restarts after the period
    floor = Cosine(1.0, period=2, final_factor=0.1, frequency_unit="iteration")
    assert [floor(i) for i in (1, 2, 3)] == pytest.approx([1.0, 0.55, 1.0])
    for bad in ({"num_steps": 0}, {"frequency_unit": "batch"}):
        with pytest.raises(GraphdlError, match="E802"):
            Warmup(0.01, **bad)


def test_trainnet_takes_matlab_schedule_names_and_functions():
    X, T = small_data()

    def train(schedule, **options):
        torch.manual_seed(0)
        options = training_options("sgdm", learn_rate_schedule=schedule, max_epochs=3, mini_batch_size=16, verbose=False, **options)
        return trainnet(X, T, small_net(), "crossentropy", options)[0].state_dict()

    def same(a, b):
        return all(torch.equal(a[key], b[key]) for key in a)

    assert same(train("cosine", initial_learn_rate=0.05), train(Cosine(0.05, period=3)))
    assert same(train("warmup", initial_learn_rate=0.05), train(Warmup(0.05)))
    assert same(train(TimeBasedDecay(0.01)), train(lambda iteration, epoch: 0.01 / (1 + 0.01 * iteration)))
    assert not same(train("cosine", initial_learn_rate=0.05), train("none", initial_learn_rate=0.05))
    seen = []
    train(lambda iteration, epoch: seen.append((iteration, epoch)) or 0.01)
    assert seen == [(i, (i - 1) // 3 + 1) for i in range(1, 10)]
