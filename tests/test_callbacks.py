"""trainnet's callbacks, MATLAB's OutputFcn built on them, metrics beyond accuracy, and the logs
(CSV and TensorBoard)."""

from __future__ import annotations

import csv
import sys

import pytest
import torch

import graphdl
from graphdl.diagnostics import GraphdlError
from graphdl.train import Callback, TrainingError, training_options, trainnet
from graphdl.train._metrics import fscore, rmse, top_k_accuracy

TINY = 'network tiny {\n input = featureInput(4, normalization="none")\n fc = fullyConnected(3)\n prob = softmax()\n}\n'
REGRESSION = 'network reg {\n input = featureInput(4, normalization="none")\n fc = fullyConnected(2)\n}\n'


def data(n=64):
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(n, 4, generator=generator)
    return X, X[:, :3].argmax(1)


def options(**kw):
    return training_options("sgdm", **{"max_epochs": 2, "mini_batch_size": 8, "shuffle": "never", "verbose": False, **kw})


def test_output_fcn_stops_at_iteration_3_with_the_network_of_iteration_3():
    X, T = data()
    seen = []

    def stop_at_3(info):
        seen.append((info.state, info.epoch, info.iteration))
        return info.iteration == 3

    net, info = trainnet(X, T, graphdl.dlnetwork(graphdl.loads(TINY), seed=1), "crossentropy", options(output_fcn=stop_at_3))
    assert (info.iterations, info.output_iteration) == (3, 3)
    assert "stopped by an output function" in info.stop_reason
    assert seen == [("start", 0, 0), ("iteration", 1, 1), ("iteration", 1, 2), ("iteration", 1, 3), ("done", 1, 3)]
    # The same network trained on just three mini-batches has the same weights.
    reference, _ = trainnet(X[:24], T[:24], graphdl.dlnetwork(graphdl.loads(TINY), seed=1), "crossentropy", options(max_epochs=1))
    for (key, value), (_, expected) in zip(net.state_dict().items(), reference.state_dict().items()):
        torch.testing.assert_close(value, expected, msg=key)


def test_output_fcn_reads_the_loss_only_when_asked_and_a_list_is_called_in_order():
    X, T = data()
    losses, calls = [], []
    functions = [lambda info: calls.append("a"), lambda info: losses.append(info.training_loss) if info.state == "iteration" else None]
    _, info = trainnet(X, T, graphdl.dlnetwork(graphdl.loads(TINY), seed=1), "crossentropy", options(output_fcn=functions))
    assert calls == ["a"] * (2 + info.iterations)
    assert losses == pytest.approx(info.history["loss"][1])


class Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_train_begin(self, info):
        self.events.append(("train_begin", info.epoch, info.iteration))

    def on_epoch_begin(self, info):
        self.events.append(("epoch_begin", info.epoch, info.iteration))

    def on_iteration_end(self, info):
        self.events.append(("iteration_end", info.epoch, info.iteration))

    def on_epoch_end(self, info):
        self.events.append(("epoch_end", info.epoch, info.iteration))

    def on_train_end(self, info):
        self.events.append(("train_end", info.state, info.iteration))


def test_callbacks_are_called_in_order_with_the_epochs_and_iterations():
    X, T = data(32)  # 4 iterations an epoch
    first, second = Recorder(), Recorder()
    trainnet(X, T, graphdl.dlnetwork(graphdl.loads(TINY), seed=1), "crossentropy", options(callbacks=[first, second]))
    expected = [("train_begin", 0, 0)]
    for epoch in (1, 2):
        expected.append(("epoch_begin", epoch, 4 * (epoch - 1)))
        expected += [("iteration_end", epoch, i) for i in range(4 * (epoch - 1) + 1, 4 * epoch + 1)]
        expected.append(("epoch_end", epoch, 4 * epoch))
    expected.append(("train_end", "done", 8))
    assert first.events == expected
    assert second.events == expected


def test_metrics_match_hand_computation():
    Y = torch.tensor([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    T = torch.tensor([1, 1, 2, 2])
    # top-2: 1 in {1, 2} yes; 1 in {0, 1} yes; 2 in {2, 1} yes; 2 in {0, 1} no
    assert top_k_accuracy(2)(Y, T).item() == pytest.approx(75.0)
    # predicted 1, 0, 2, 0; class 0: tp 0, 2 predicted, 0 actual -> F1 0; class 1: tp 1, 1
    # predicted, 2 actual -> 2/3; class 2: tp 1, 1 predicted, 2 actual -> 2/3
    assert fscore(Y, T).item() == pytest.approx((0 + 2 / 3 + 2 / 3) / 3)
    assert rmse(torch.tensor([[1.0, 2.0]]), torch.tensor([[0.0, 0.0]])).item() == pytest.approx((5 / 2) ** 0.5)


def test_trainnet_records_the_metrics_named_and_given_as_functions():
    X, T = data()

    def errors(Y, T):
        return (Y.argmax(1) != T).float().sum()

    opts = options(metrics=["accuracy", "top2-accuracy", "fscore", errors], validation_data=(X[:16], T[:16]), validation_frequency=4)
    _, info = trainnet(X, T, graphdl.dlnetwork(graphdl.loads(TINY), seed=1), "crossentropy", opts)
    for name in ("accuracy", "top2-accuracy", "fscore", "errors"):
        assert len(info.history[name][1]) == info.iterations
        assert info.history[f"validation {name}"][0] == [4, 8, 12, 16]
    # Each iteration's error count is 8 - 8 x accuracy: both from the same predictions.
    for accuracy, wrong in zip(info.history["accuracy"][1], info.history["errors"][1]):
        assert wrong == pytest.approx(8 * (1 - accuracy / 100))
    for top1, top2 in zip(info.history["accuracy"][1], info.history["top2-accuracy"][1]):
        assert top2 >= top1


def test_rmse_on_a_regression_network_and_a_metric_that_fits_no_output_is_refused():
    X = torch.randn(32, 4)
    T = X[:, :2] * 2
    _, info = trainnet(X, T, graphdl.dlnetwork(graphdl.loads(REGRESSION), seed=1), "mse", options(metrics=["rmse"]))
    assert len(info.history["rmse"][1]) == info.iterations
    with pytest.raises(GraphdlError, match="needs an output trained on class indices") as caught:
        trainnet(X, T, graphdl.dlnetwork(graphdl.loads(REGRESSION), seed=1), "mse", options(metrics=["accuracy"]))
    assert caught.value.code == "E802"


@pytest.mark.parametrize(
    "option, match",
    [
        ({"metrics": ["precision"]}, "unknown metric 'precision'"),
        ({"metrics": "accuracy"}, "metrics must be a list"),
        ({"output_fcn": 3}, "output_fcn must be a function"),
        ({"callbacks": [print]}, "callbacks must be a list of graphdl.train.Callback"),
    ],
)
def test_bad_callback_and_metric_options_are_e802(option, match):
    with pytest.raises(GraphdlError, match=match) as caught:
        training_options("sgdm", **option)
    assert caught.value.code == "E802"


def test_csv_log_has_a_header_and_a_row_per_iteration(tmp_path):
    X, T = data(32)
    path = tmp_path / "log.csv"
    opts = options(log_csv=path, validation_data=(X[:16], T[:16]), validation_frequency=3)
    _, info = trainnet(X, T, graphdl.dlnetwork(graphdl.loads(TINY), seed=1), "crossentropy", opts)
    rows = list(csv.DictReader(path.read_text().splitlines()))
    assert list(rows[0]) == ["epoch", "iteration", "time_elapsed", "learn_rate", "loss", "accuracy", "validation loss", "validation accuracy"]
    # 8 iterations, validations at 3 and 6, then a final validation row at 8.
    assert [int(r["iteration"]) for r in rows] == [1, 2, 3, 4, 5, 6, 7, 8, 8]
    assert [float(r["loss"]) for r in rows[:8]] == pytest.approx(info.history["loss"][1], rel=1e-5)
    assert [r["iteration"] for r in rows if r["validation loss"]] == ["3", "6", "8"]
    assert rows[-1]["loss"] == ""


def test_csv_log_keeps_the_finished_epochs_after_a_crash(tmp_path):
    X, T = data(32)  # 4 iterations an epoch
    path = tmp_path / "log.csv"

    def crash_at_6(Y, T):
        loss = torch.nn.functional.nll_loss(Y.log(), T)
        if crash_at_6.calls == 6:
            raise RuntimeError("boom")
        crash_at_6.calls += 1
        return loss

    crash_at_6.calls = 0
    with pytest.raises(TrainingError, match="boom"):
        trainnet(X, T, graphdl.dlnetwork(graphdl.loads(TINY), seed=1), crash_at_6, options(log_csv=path))
    rows = list(csv.DictReader(path.read_text().splitlines()))
    assert [int(r["iteration"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    assert all(float(r["loss"]) > 0 for r in rows)


def test_tensorboard_is_refused_with_e008_without_the_package(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    X, T = data()
    net = graphdl.dlnetwork(graphdl.loads(TINY), seed=1)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with pytest.raises(GraphdlError, match="needs the package tensorboard") as caught:
        trainnet(X, T, net, "crossentropy", options(tensorboard_dir=tmp_path / "tb"))
    assert caught.value.code == "E008"
    assert 'pip install "graphdl[tensorboard]"' in str(caught.value)
    for key, value in net.state_dict().items():
        torch.testing.assert_close(value, before[key])


def test_tensorboard_writes_the_scalars(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    X, T = data(32)
    _, info = trainnet(X, T, graphdl.dlnetwork(graphdl.loads(TINY), seed=1), "crossentropy", options(tensorboard_dir=tmp_path / "tb"))
    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    assert {"loss", "accuracy", "learn rate"} <= set(events.Tags()["scalars"])
    loss = events.Scalars("loss")
    assert [e.step for e in loss] == info.history["loss"][0]
    assert [e.value for e in loss] == pytest.approx(info.history["loss"][1], rel=1e-5)
