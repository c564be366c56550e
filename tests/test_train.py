"""The training toolkit: losses, gradients, updates, schedules, mini-batches, monitors,
checkpoints, and trainnet assembled from them."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

import graphdl
from conftest import EXAMPLES
from graphdl.compiler import Table
from graphdl.datasets import digits
from graphdl.diagnostics import GraphdlError
from graphdl.train import (
    MiniBatchQueue,
    Piecewise,
    TimeBasedDecay,
    TrainingError,
    TrainingOptions,
    TrainingProgressMonitor,
    adamupdate,
    clip_gradients,
    crossentropy,
    dlfeval,
    dlgradient,
    dlupdate,
    mse,
    rmspropupdate,
    sgdmupdate,
    training_options,
    trainnet,
)

TINY = 'network tiny {\n input = featureInput(4, normalization="none")\n fc = fullyConnected(3)\n prob = softmax()\n}\n'


def tiny(seed=0):
    return graphdl.dlnetwork(graphdl.loads(TINY), seed=seed)


# ---- losses -----------------------------------------------------------------------------------------


def test_crossentropy_with_indices_one_hot_and_logits_agree():
    logits = torch.randn(6, 4)
    Y = torch.softmax(logits, 1)
    T = torch.tensor([0, 1, 2, 3, 1, 0])
    expected = F.cross_entropy(logits, T)
    torch.testing.assert_close(crossentropy(Y, T), expected)
    torch.testing.assert_close(crossentropy(Y, F.one_hot(T, 4).float()), expected)
    assert torch.isfinite(crossentropy(torch.tensor([[1.0, 0.0]]), torch.tensor([1])))
    with pytest.raises(ValueError, match="do not match"):
        crossentropy(Y, torch.zeros(6, 3))


def test_mse_is_matlabs_half_squared_error_per_observation():
    Y, T = torch.tensor([[1.0, 2.0], [3.0, 4.0]]), torch.tensor([[0.0, 0.0], [3.0, 2.0]])
    assert mse(Y, T).item() == pytest.approx(0.5 * (1 + 4 + 0 + 4) / 2)


# ---- gradients and updates ----------------------------------------------------------------------------


def test_dlgradient_equals_backward_and_gives_zeros_to_unused_learnables():
    net = tiny()
    X, T = torch.randn(5, 4), torch.tensor([0, 1, 2, 0, 1])
    with torch.no_grad():  # dlfeval turns tracing on even here
        gradients = dlfeval(lambda: dlgradient(crossentropy(net(X), T), net.learnables))
    crossentropy(net(X), T).backward()
    assert gradients.keys == net.learnables.keys
    torch.testing.assert_close(gradients["fc", "weight"], net.fc.weight.grad)
    torch.testing.assert_close(gradients["fc", "bias"], net.fc.bias.grad)
    unused = dlgradient(net(X)[:, 0].sum() * 0 + net.fc.bias.sum(), net.learnables)
    assert torch.count_nonzero(unused["fc", "weight"]) == 0
    with pytest.raises(ValueError, match="scalar"):
        dlgradient(net(X), net.learnables)


def test_dlgradient_leaves_grad_as_it_was():
    # dlgradient goes through .grad for speed, and puts back what a user's loop had there.
    net = tiny()
    X, T = torch.randn(5, 4), torch.tensor([0, 1, 2, 0, 1])
    crossentropy(net(X), T).backward()
    before = {name: p.grad.clone() for name, p in net.named_parameters()}
    expected = torch.autograd.grad(crossentropy(net(2 * X), T), list(net.parameters()))
    gradients = dlgradient(crossentropy(net(2 * X), T), net.learnables)
    for (name, p), grad, value in zip(net.named_parameters(), expected, gradients.values):
        assert torch.equal(p.grad, before[name]), name
        torch.testing.assert_close(value, grad)
    for p in net.parameters():
        p.grad = None
    dlgradient(crossentropy(net(X), T), net.learnables)
    assert all(p.grad is None for p in net.parameters())


def test_sgdmupdate_follows_matlabs_rule_in_place_and_on_tables():
    net = tiny()
    w0 = net.fc.weight.detach().clone()
    g = Table((layer, parameter, torch.full_like(value, 0.5)) for layer, parameter, value in net.learnables)
    net2, velocity = sgdmupdate(net, g, None, 0.1, 0.9)
    assert net2 is net
    torch.testing.assert_close(net.fc.weight, w0 - 0.05)
    torch.testing.assert_close(velocity["fc", "weight"], torch.full_like(w0, -0.05))
    net, velocity = sgdmupdate(net, g, velocity, 0.1, 0.9)
    # v2 = 0.9 * -0.05 - 0.05 = -0.095
    torch.testing.assert_close(net.fc.weight, w0 - 0.05 - 0.095)
    values = Table([("a", "w", torch.ones(2))])
    new, _ = sgdmupdate(values, Table([("a", "w", torch.ones(2))]), None, 1.0)
    torch.testing.assert_close(new["a", "w"], torch.zeros(2))
    torch.testing.assert_close(values["a", "w"], torch.ones(2))  # a plain table is not changed
    with pytest.raises(ValueError, match="rows"):
        sgdmupdate(net, Table([("a", "w", torch.ones(2))]), None, 0.1)


def _random_gradients(net, generator):
    return Table((layer, parameter, torch.randn(value.shape, generator=generator)) for layer, parameter, value in net.learnables)


@pytest.mark.parametrize(
    "solver",
    [
        ("adam", lambda params: torch.optim.Adam(params, lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
        ("rmsprop", lambda params: torch.optim.RMSprop(params, lr=0.01, alpha=0.8, eps=1e-6)),
        ("sgdm", lambda params: torch.optim.SGD(params, lr=0.01, momentum=0.9)),
    ],
    ids=lambda s: s[0],
)
def test_update_rules_take_the_steps_of_torch_optim(solver):
    name, make_optimizer = solver
    net = graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"), seed=0)
    reference = [value.detach().clone().requires_grad_(True) for value in net.learnables.values]
    optimizer = make_optimizer(reference)
    generator = torch.Generator().manual_seed(0)
    first = second = None
    for iteration in range(1, 6):
        gradients = _random_gradients(net, generator)
        for tensor, gradient in zip(reference, gradients.values):
            tensor.grad = gradient.clone()
        optimizer.step()
        if name == "adam":
            net, first, second = adamupdate(net, gradients, first, second, iteration, 0.01, 0.8, 0.99, 1e-6)
        elif name == "rmsprop":
            net, first = rmspropupdate(net, gradients, first, 0.01, 0.8, 1e-6)
        else:
            # torch's SGD keeps velocity = momentum * velocity + gradient and steps by lr times it: the
            # same path as MATLAB's rule, with its velocity scaled by -lr.
            net, first = sgdmupdate(net, gradients, first, 0.01, 0.9)
    for value, expected in zip(net.learnables.values, reference):
        torch.testing.assert_close(value, expected.detach(), rtol=1e-5, atol=1e-6)


def test_adam_on_a_table_returns_new_tables_and_honours_factors():
    values = Table([("a", "w", torch.ones(3)), ("b", "w", torch.ones(2))])
    gradients = Table([("a", "w", torch.full((3,), 2.0)), ("b", "w", torch.full((2,), -1.0))])
    new, average, square = adamupdate(values, gradients, None, None, 1, learn_rate=0.1)
    # On the first step Adam moves each element by the learn rate, against the gradient's sign.
    torch.testing.assert_close(new["a", "w"], torch.full((3,), 0.9))
    torch.testing.assert_close(new["b", "w"], torch.full((2,), 1.1))
    torch.testing.assert_close(values["a", "w"], torch.ones(3))
    torch.testing.assert_close(average["a", "w"], torch.full((3,), 0.2))
    torch.testing.assert_close(square["b", "w"], torch.full((2,), 0.001))
    net = tiny()
    net.set_learn_rate_factor("fc", "bias", 0)
    net.set_learn_rate_factor("fc", "weight", 2)
    bias, weight = net.fc.bias.detach().clone(), net.fc.weight.detach().clone()
    net, average, square = adamupdate(net, Table((layer, parameter, torch.ones_like(value)) for layer, parameter, value in net.learnables), None, None, 1, 0.1)
    torch.testing.assert_close(net.fc.bias, bias)
    torch.testing.assert_close(net.fc.weight, weight - 0.2)
    assert torch.count_nonzero(average["fc", "bias"]) == 0  # a frozen learnable's state stays as it was
    with pytest.raises(ValueError, match="iteration counts the steps from 1"):
        adamupdate(net, average, None, None, 0)


def test_clip_gradients_as_matlabs_gradient_threshold_methods():
    gradients = Table([("a", "w", torch.tensor([3.0, 4.0])), ("b", "w", torch.tensor([0.3, 0.4])), ("c", "w", torch.zeros(2))])
    each = clip_gradients(gradients, 1.0)
    torch.testing.assert_close(each["a", "w"], torch.tensor([0.6, 0.8]))
    torch.testing.assert_close(each["b", "w"], torch.tensor([0.3, 0.4]))  # under the threshold: unchanged
    torch.testing.assert_close(each["c", "w"], torch.zeros(2))
    together = clip_gradients(gradients, 1.0, "global-l2norm")
    reference = [value.clone().requires_grad_(True) for value in gradients.values]
    for tensor, gradient in zip(reference, gradients.values):
        tensor.grad = gradient.clone()
    torch.nn.utils.clip_grad_norm_(reference, 1.0)
    for value, tensor in zip(together.values, reference):
        torch.testing.assert_close(value, tensor.grad)
    clamped = clip_gradients(gradients, 0.35, "absolute-value")
    torch.testing.assert_close(clamped["a", "w"], torch.tensor([0.35, 0.35]))
    torch.testing.assert_close(clamped["b", "w"], torch.tensor([0.3, 0.35]))
    with pytest.raises(ValueError, match="method must be"):
        clip_gradients(gradients, 1.0, "max")


def test_dlupdate_applies_a_function_to_a_network_or_a_table():
    net = tiny()
    weight = net.fc.weight.detach().clone()
    assert dlupdate(lambda w: 2 * w, net) is net
    torch.testing.assert_close(net.fc.weight, 2 * weight)
    halved = dlupdate(lambda w, g: w - g, net.learnables, net.learnables)
    torch.testing.assert_close(halved["fc", "weight"], torch.zeros_like(weight))
    torch.testing.assert_close(net.fc.weight, 2 * weight)


def test_schedules():
    decay = TimeBasedDecay(0.01, 0.01)
    assert decay(0) == 0.01 and decay(100) == pytest.approx(0.005)
    piecewise = Piecewise(1.0, 0.5, 2)
    assert [piecewise(1, epoch) for epoch in (1, 2, 3, 4, 5)] == [1.0, 1.0, 0.5, 0.5, 0.25]


# ---- data ---------------------------------------------------------------------------------------------


def test_minibatch_queue():
    X, T = torch.arange(10.0).reshape(10, 1), torch.arange(10)
    queue = MiniBatchQueue(X, T, mini_batch_size=4)
    assert len(queue) == 3
    assert [len(x) for x, _ in queue] == [4, 4, 2]
    assert not queue.has_data()
    with pytest.raises(StopIteration, match="reset"):
        queue.next()
    queue.reset()
    x, t = queue.next()
    assert torch.equal(x[:, 0], t.float())
    discard = MiniBatchQueue(X.numpy(), T.numpy(), mini_batch_size=4, partial="discard")
    assert len(discard) == 2 and [len(x) for x, _ in discard] == [4, 4]
    assert discard.data[0].dtype == torch.float32 and discard.data[1].dtype == torch.int64
    discard.shuffle(torch.Generator().manual_seed(0))
    seen = torch.cat([t for _, t in discard])
    assert len(set(seen.tolist())) == 8 and not torch.equal(seen, torch.arange(8))
    with pytest.raises(ValueError, match="different numbers"):
        MiniBatchQueue(X, T[:3])


# ---- options ------------------------------------------------------------------------------------------


def test_training_options_have_matlabs_defaults_and_names():
    options = training_options("sgdm")
    assert (options.initial_learn_rate, options.max_epochs, options.mini_batch_size) == (0.01, 30, 128)
    assert (options.momentum, options.l2_regularization, options.shuffle) == (0.9, 1e-4, "once")
    assert (options.validation_frequency, options.plots) == (50, "none")
    assert training_options("sgdm", max_epochs=4).max_epochs == 4
    with pytest.raises(ValueError, match="did you mean `max_epochs`") as caught:
        training_options("sgdm", max_epoch=4)
    assert isinstance(caught.value, GraphdlError) and caught.value.code == "E802"
    with pytest.raises(ValueError, match="shuffle must be"):
        training_options("sgdm", shuffle="always")
    with pytest.raises(ValueError, match="solver must be one of 'sgdm', 'adam', 'rmsprop', not 'adagrad'"):
        TrainingOptions(solver="adagrad")


def test_defaults_that_depend_on_the_solver_follow_matlab():
    defaults = {solver: training_options(solver) for solver in ("sgdm", "adam", "rmsprop")}
    assert [defaults[s].initial_learn_rate for s in ("sgdm", "adam", "rmsprop")] == [0.01, 0.001, 0.001]
    assert (defaults["adam"].gradient_decay_factor, defaults["adam"].squared_gradient_decay_factor, defaults["adam"].epsilon) == (0.9, 0.999, 1e-8)
    assert defaults["rmsprop"].squared_gradient_decay_factor == 0.9
    assert training_options("adam", initial_learn_rate=0.05).initial_learn_rate == 0.05
    with pytest.raises(ValueError, match="needs validation_data"):
        training_options("sgdm", output_network="best-validation-loss")
    with pytest.raises(ValueError, match="gradient_threshold_method must be one of"):
        training_options("sgdm", gradient_threshold_method="max")


# ---- the monitor ----------------------------------------------------------------------------------------


def test_monitor_records_without_reading_and_draws_a_bar(tmp_path):
    stream = io.StringIO()
    monitor = TrainingProgressMonitor(["loss", "accuracy"], stream=stream, bar=True, refresh_seconds=0)
    monitor.mark_epoch(1)
    for i in range(1, 6):
        monitor.record(i, loss=torch.tensor(1.0 / i), accuracy=10.0 * i)
        monitor.progress = 20 * i
        monitor.update_info(epoch=1)
    assert monitor.history("loss") == ([1, 2, 3, 4, 5], pytest.approx([1, 0.5, 1 / 3, 0.25, 0.2]))
    assert "100%" in stream.getvalue() and "loss 0.2000" in stream.getvalue()
    monitor.print("done")
    assert stream.getvalue().endswith("done\n")
    for suffix in ("png", "svg"):
        path = monitor.save(tmp_path / f"progress.{suffix}")
        assert path.stat().st_size > 1000
    assert (tmp_path / "progress.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(KeyError, match=r"E805.*unknown metric") as caught:
        monitor.record(6, speed=1.0)
    assert isinstance(caught.value, GraphdlError)


# ---- trainnet -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_digits():
    return digits("train", 640, seed=3), digits("test", 256, seed=3)


def test_trainnet_learns_and_reports(small_digits, tmp_path, capsys):
    train, test = small_digits
    options = training_options(
        "sgdm",
        max_epochs=2,
        mini_batch_size=64,
        validation_data=(test.images, test.labels),
        validation_frequency=5,
        plots="training-progress",
        plots_path=str(tmp_path / "progress.png"),
        checkpoint_path=str(tmp_path / "checkpoints"),
    )
    torch.manual_seed(0)
    net, info = trainnet(train.images, train.labels, graphdl.load(EXAMPLES / "mnist.dlg"), "crossentropy", options)
    assert info.iterations == 20 and info.epochs == 2 and info.stop_reason == "max epochs completed"
    iterations, losses = info.history["loss"]
    assert iterations == list(range(1, 21))
    assert sum(losses[-5:]) / 5 < 0.5 * sum(losses[:5]) / 5
    assert info.history["validation accuracy"][0] == [5, 10, 15, 20]
    assert info.final("validation accuracy") > 60
    out = capsys.readouterr().out
    assert "epoch 1/2  iteration 10  loss" in out and "epoch 2/2  iteration 20" in out
    assert (tmp_path / "progress.png").read_bytes()[:4] == b"\x89PNG"
    checkpoints = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert checkpoints == ["mnist_epoch001_iteration10.pt", "mnist_epoch002_iteration20.pt"]
    assert info.last_checkpoint.name == checkpoints[-1]
    state = torch.load(info.last_checkpoint, weights_only=True)["state_dict"]
    torch.testing.assert_close(state["fc.weight"], net.fc.weight)
    # trainnet computed the zero-centre statistics from the training data: one per channel.
    torch.testing.assert_close(net.input.mean, torch.as_tensor(train.images).mean().reshape(1, 1, 1))


def test_l2_regularisation_decays_weights_but_not_biases_as_matlab():
    graph = graphdl.loads('network n {\n input = featureInput(4)\n fc = fullyConnected(3, biasInitializer="ones")\n bn = batchNormalization()\n}\n')
    net = graphdl.dlnetwork(graph, seed=0)
    w0 = net.fc.weight.detach().clone()
    options = training_options("sgdm", max_epochs=1, mini_batch_size=4, l2_regularization=0.5, initial_learn_rate=0.1, verbose=False)
    zero_loss = lambda Y, T: (Y * 0).sum()  # noqa: E731  (no gradient but the L2 term)
    trainnet(torch.randn(4, 4), torch.zeros(4), net, zero_loss, options)
    torch.testing.assert_close(net.fc.weight, w0 * (1 - 0.1 * 0.5))
    torch.testing.assert_close(net.fc.bias, torch.ones(3))  # BiasL2Factor 0
    torch.testing.assert_close(net.bn.weight, torch.full((3,), 1 - 0.1 * 0.5))  # batch-norm scale: factor 1


def test_a_failure_names_the_moment_and_keeps_the_last_checkpoint(tmp_path):
    calls = []

    def failing_loss(Y, T):
        calls.append(1)
        if len(calls) == 6:  # in the second epoch
            raise RuntimeError("out of memory")
        return crossentropy(Y, T)

    options = training_options("sgdm", max_epochs=3, mini_batch_size=2, checkpoint_path=str(tmp_path), verbose=False)
    X, T = torch.randn(8, 4), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    intact = r"the last checkpoint, .*tiny_epoch001_iteration4\.pt, is intact"
    with pytest.raises(TrainingError, match=r"epoch 2, iteration 6: RuntimeError: out of memory; " + intact):
        trainnet(X, T, tiny(), failing_loss, options)
    assert torch.load(tmp_path / "tiny_epoch001_iteration4.pt", weights_only=True)["metadata"]["epoch"] == 1


def test_a_diverging_loss_stops_training_with_advice():
    options = training_options("sgdm", max_epochs=2, mini_batch_size=4, initial_learn_rate=1e30, verbose=False)
    big = lambda Y, T: crossentropy(Y, T) * 1e30  # noqa: E731
    with pytest.raises(TrainingError, match=r"the training loss is (nan|inf).*no checkpoint was written.*lower the initial learn rate"):
        trainnet(torch.randn(8, 4) * 100, torch.tensor([0, 1, 2, 0, 1, 2, 0, 1]), tiny(), big, options)


def test_trainnet_says_when_the_data_does_not_fit_the_network():
    with pytest.raises(ValueError, match=r"takes 4 observations, tensors of size \(N, 4\), but the data has size \(8, 5\)"):
        trainnet(torch.randn(8, 5), torch.zeros(8, dtype=torch.long), tiny(), "crossentropy", TrainingOptions(verbose=False))
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        trainnet(torch.randn(8, 4), torch.zeros(8, dtype=torch.long), tiny(), "hinge", TrainingOptions(verbose=False))
    with pytest.raises(ValueError, match="larger than the 8 observations"):
        trainnet(torch.randn(8, 4), torch.zeros(8, dtype=torch.long), tiny(), "crossentropy", TrainingOptions(verbose=False))


def test_interrupting_training_returns_the_network_so_far():
    def interrupting_loss(Y, T):
        raise KeyboardInterrupt

    options = training_options("sgdm", max_epochs=2, mini_batch_size=4, verbose=False)
    net, info = trainnet(torch.randn(8, 4), torch.zeros(8, dtype=torch.long), tiny(), interrupting_loss, options)
    assert info.stop_reason == "stopped by the user at epoch 1, iteration 1"
    assert isinstance(net, graphdl.DLNetwork)


def test_tables_map_row_by_row_as_dlupdate():
    net = tiny()
    doubled = net.learnables.map(lambda w: 2 * w)
    torch.testing.assert_close(doubled["fc", "weight"], 2 * net.fc.weight)
    summed = doubled.map(lambda a, b: a - b, net.learnables)
    torch.testing.assert_close(summed["fc", "bias"], net.fc.bias)
    assert not summed.live and net.learnables.live
    with pytest.raises(graphdl.GraphdlError, match="same rows"):
        doubled.map(lambda a, b: a, Table([("x", "y", torch.ones(1))]))


# ---- solvers, clipping and validation in trainnet ------------------------------------------------------


@pytest.mark.parametrize("solver", ["sgdm", "adam", "rmsprop"])
def test_trainnet_steps_as_a_custom_loop_with_the_same_primitives(solver):
    generator = torch.Generator().manual_seed(0)
    X, T = torch.randn(16, 4, generator=generator), torch.randint(0, 3, (16,), generator=generator)
    options = training_options(solver, max_epochs=2, mini_batch_size=4, shuffle="never", l2_regularization=0, gradient_threshold=0.5, verbose=False)
    trained, info = trainnet(X, T, tiny(), "crossentropy", options)
    net, first, second = tiny(), None, None
    for iteration in range(1, 9):
        start = (iteration - 1) % 4 * 4
        Xb, Tb = X[start : start + 4], T[start : start + 4]
        gradients = clip_gradients(dlgradient(crossentropy(net(Xb), Tb), net.learnables), 0.5)
        if solver == "sgdm":
            net, first = sgdmupdate(net, gradients, first, options.initial_learn_rate, options.momentum)
        elif solver == "adam":
            net, first, second = adamupdate(net, gradients, first, second, iteration, options.initial_learn_rate)
        else:
            net, first = rmspropupdate(net, gradients, first, options.initial_learn_rate)
    assert info.iterations == 8
    for value, expected in zip(trained.learnables.values, net.learnables.values):
        torch.testing.assert_close(value, expected)


def test_validation_patience_stops_training_when_the_loss_stops_falling():
    X, T = torch.randn(16, 4), torch.randint(0, 3, (16,))
    # A learn rate too small to change the loss: every validation after the first is no better.
    options = training_options(
        "sgdm", max_epochs=10, mini_batch_size=4, initial_learn_rate=1e-30, validation_data=(X, T), validation_frequency=1, validation_patience=2, verbose=False
    )
    _, info = trainnet(X, T, tiny(), "crossentropy", options)
    assert info.iterations == 3 and info.epochs == 1
    assert info.stop_reason == "met the validation criterion: the validation loss did not fall in 2 validations"


def test_with_validation_data_trainnet_returns_the_network_of_the_lowest_validation_loss():
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(32, 4, generator=generator)
    T = X[:, :3].argmax(1)
    # Trained on wrong labels, the network gets worse on the right ones after its first steps.
    wrong = (T + 1) % 3
    options = training_options("sgdm", max_epochs=5, mini_batch_size=8, initial_learn_rate=0.5, validation_data=(X, T), validation_frequency=2, verbose=False)
    net, info = trainnet(X, wrong, tiny(), "crossentropy", options)
    iterations, losses = info.history["validation loss"]
    best = min(range(len(losses)), key=losses.__getitem__)
    assert info.output_iteration == iterations[best] < info.iterations
    assert crossentropy(net.predict(X), T).item() == pytest.approx(losses[best], rel=1e-5)
    last, last_info = trainnet(X, wrong, tiny(), "crossentropy", replace(options, output_network="last-iteration"))
    assert last_info.output_iteration == last_info.iterations
    assert crossentropy(last.predict(X), T).item() == pytest.approx(last_info.history["validation loss"][1][-1], rel=1e-5)


# ---- several inputs and outputs ------------------------------------------------------------------------

TWO_BY_TWO = """network two {
    a = featureInput(4, normalization="none")
    b = featureInput(2, normalization="none")
    cat = concatenation(1, 2)
    fc_class = fullyConnected(3)
    prob = softmax()
    fc_value = fullyConnected(1)
    a -> cat/in1
    b -> cat/in2
    cat -> fc_class -> prob
    cat -> fc_value
}
"""


def test_trainnet_trains_several_inputs_and_outputs_as_a_custom_loop():
    generator = torch.Generator().manual_seed(0)
    A, B = torch.randn(16, 4, generator=generator), torch.randn(16, 2, generator=generator)
    labels, values = torch.randint(0, 3, (16,), generator=generator), torch.randn(16, 1, generator=generator)
    options = training_options("sgdm", max_epochs=2, mini_batch_size=4, shuffle="never", l2_regularization=0, verbose=False)
    trained, info = trainnet((A, B), (labels, values), graphdl.dlnetwork(graphdl.loads(TWO_BY_TWO), seed=0), ("crossentropy", "mse"), options)
    assert set(info.history) == {"loss", "prob accuracy"}
    net, velocity = graphdl.dlnetwork(graphdl.loads(TWO_BY_TWO), seed=0), None
    for step in range(8):
        rows = slice(step % 4 * 4, step % 4 * 4 + 4)
        probabilities, predicted = net(A[rows], B[rows])
        loss = crossentropy(probabilities, labels[rows]) + mse(predicted, values[rows])
        net, velocity = sgdmupdate(net, dlgradient(loss, net.learnables), velocity, 0.01)
    for value, expected in zip(trained.learnables.values, net.learnables.values):
        torch.testing.assert_close(value, expected)
    # A function of the outputs then the targets, as MATLAB's lossFcn(Y1, Y2, T1, T2), is the same loss.
    weighted, _ = trainnet(
        (A, B), (labels, values), graphdl.dlnetwork(graphdl.loads(TWO_BY_TWO), seed=0), lambda Y1, Y2, T1, T2: crossentropy(Y1, T1) + mse(Y2, T2), options
    )
    for value, expected in zip(weighted.learnables.values, net.learnables.values):
        torch.testing.assert_close(value, expected)


def test_trainnet_says_how_to_give_the_data_of_several_inputs_and_outputs():
    net = graphdl.dlnetwork(graphdl.loads(TWO_BY_TWO), seed=0)
    A, B, labels, values = torch.randn(8, 4), torch.randn(8, 2), torch.zeros(8, dtype=torch.long), torch.zeros(8, 1)
    options = training_options("sgdm", max_epochs=1, mini_batch_size=4, verbose=False)
    with pytest.raises(ValueError, match=r"`two` has 2 inputs \(a, b\): give X as a tuple of 2 arrays, one per input in that order, not one array"):
        trainnet(A, (labels, values), net, ("crossentropy", "mse"), options)
    with pytest.raises(ValueError, match=r"has 2 outputs \(prob, fc_value\): give T as a tuple of 2 arrays"):
        trainnet((A, B), labels, net, ("crossentropy", "mse"), options)
    with pytest.raises(ValueError, match=r"has 2 outputs \(prob, fc_value\): give one loss per output"):
        trainnet((A, B), (labels, values), net, "crossentropy", options)
    with pytest.raises(ValueError, match=r"crossentropy takes probabilities, but the output `fc_value` is a fullyConnected layer"):
        trainnet((A, B), (labels, values), net, ("crossentropy", "crossentropy"), options)
    with pytest.raises(ValueError, match=r"the network's input `b` takes .* but the data has size \(8, 3\)"):
        trainnet((A, torch.randn(8, 3)), (labels, values), net, ("crossentropy", "mse"), options)
    with pytest.raises(ValueError, match=r"must be as many: the arrays hold 8, 8, 7, 8"):
        trainnet((A, B), (labels[:7], values), net, ("crossentropy", "mse"), options)
    with pytest.raises(ValueError, match=r"give validation X as a tuple of 2 arrays"):
        trainnet((A, B), (labels, values), net, ("crossentropy", "mse"), replace(options, validation_data=(A, (labels, values))))


def test_a_refused_call_leaves_the_network_as_it_was():
    graph = graphdl.loads('network z {\n input = featureInput(4, normalization="zscore")\n fc = fullyConnected(3)\n prob = softmax()\n}\n')
    net = graphdl.dlnetwork(graph, seed=0)
    before = {key: value.clone() for key, value in net.state_dict().items()}
    X, T = torch.randn(16, 4) * 5 + 3, torch.randint(0, 3, (16,))
    for options, message in [
        (training_options("sgdm", verbose=False, mini_batch_size=4, validation_data=(X[:, :3], T)), r"validation data has size \(16, 3\)"),
        (training_options("sgdm", verbose=False, mini_batch_size=100), "larger than the 16 observations"),
        (training_options("sgdm", verbose=False, mini_batch_size=4, validation_data=(X[:0], T[:0])), "the validation data has no observations"),
    ]:
        with pytest.raises(ValueError, match=message):
            trainnet(X, T, net, "crossentropy", options)
        assert all(torch.equal(before[key], value) for key, value in net.state_dict().items())


def test_bad_options_and_data_are_errors_not_tracebacks():
    for options, message in [
        ({"initial_learn_rate": "0.1"}, "initial_learn_rate must be a number, not '0.1'"),
        ({"max_epochs": True}, "max_epochs must be a number, not True"),
        ({"validation_frequency": 2.5}, "validation_frequency must be a whole number"),
        ({"validation_data": torch.zeros(3)}, r"validation_data must be a pair \(X, T\)"),
        ({"initial_learn_rate": float("inf")}, "initial_learn_rate must be positive and finite"),
    ]:
        with pytest.raises(ValueError, match=message):
            training_options("adam", **options)
    X, T = torch.randn(8, 4), torch.zeros(8, dtype=torch.long)
    options = training_options("sgdm", max_epochs=1, mini_batch_size=4, verbose=False)
    with pytest.raises(ValueError, match=r"`tiny` has one input \(input\): give X as one array, not a tuple of 2"):
        trainnet((X, X), T, tiny(), "crossentropy", options)
    with pytest.raises(ValueError, match="X for the input `input` is not an array of numbers"):
        trainnet("abc", T, tiny(), "crossentropy", options)
    with pytest.raises(TrainingError, match="the loss must be a scalar tensor computed from the network, not a float"):
        trainnet(X, T, tiny(), lambda Y, T: 1.0, options)


def test_a_failure_in_the_last_validation_is_a_training_error(tmp_path, capsys):
    X, T = torch.randn(8, 4), torch.zeros(8, dtype=torch.long)
    options = training_options(
        "sgdm", max_epochs=1, mini_batch_size=4, verbose=False, validation_data=(X, T + 5), validation_frequency=100, checkpoint_path=str(tmp_path)
    )
    with pytest.raises(TrainingError, match=r"training stopped at epoch 1, iteration 2: .*the last checkpoint, .*tiny_epoch001_iteration2.pt, is intact"):
        trainnet(X, T, tiny(), "crossentropy", options)
    assert capsys.readouterr().out == ""  # verbose=False says nothing, the error says it all


def test_accuracy_is_recorded_for_class_indices_only():
    graph = graphdl.loads('network r {\n input = featureInput(4, normalization="none")\n fc = fullyConnected(1)\n}\n')
    X, T = torch.randn(16, 4), torch.randint(0, 3, (16, 1))  # integer regression targets, one per output channel
    options = training_options("sgdm", max_epochs=1, mini_batch_size=4, verbose=False, validation_data=(X, T))
    _, info = trainnet(X, T.float(), graphdl.dlnetwork(graph, seed=0), "mse", options)
    assert set(info.history) == {"loss", "validation loss"}
    _, info = trainnet(X, T, graphdl.dlnetwork(graph, seed=0), lambda Y, T: mse(Y, T.float()), options)
    assert set(info.history) == {"loss", "validation loss"}
