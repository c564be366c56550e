"""The custom-loop primitives as the seed's sequels use them (issue 10, point 6): each bug a test."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
import torch

import graphdl
from graphdl import GraphdlError, MiniBatchQueue, binary_crossentropy, crossentropy, dlgradient, training_options
from graphdl.train import TrainingOptions

MLP = """
network mlp {
    input = featureInput(4)
    fc1 = fullyConnected(3)
    bn = batchNormalization()
    fc2 = fullyConnected(2)
}
"""


def _net(seed=0):
    return graphdl.dlnetwork(graphdl.loads(MLP), seed=seed)


Y1 = torch.tensor([[0.9], [0.9], [0.2], [0.2]])
T1 = torch.tensor([[1.0], [0.0], [1.0], [0.0]])


def test_binary_crossentropy_is_torchs_and_the_hand_computed_value():
    expected = -(np.log(0.9) + np.log(0.1) + np.log(0.2) + np.log(0.8)) / 4
    assert binary_crossentropy(Y1, T1).item() == pytest.approx(expected, abs=1e-6)
    assert binary_crossentropy(Y1, T1).item() == pytest.approx(1.0601, abs=1e-4)
    assert binary_crossentropy(Y1, T1).item() == pytest.approx(torch.nn.functional.binary_cross_entropy(Y1, T1).item(), abs=1e-6)
    assert binary_crossentropy(Y1, T1[:, 0]).item() == pytest.approx(expected, abs=1e-6)  # one target per observation


def test_crossentropy_multilabel_sums_over_classes_and_averages_over_observations():
    Y = torch.tensor([[0.9, 0.3, 0.6], [0.2, 0.7, 0.5]])
    T = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    # MATLAB: -sum(T.*log(Y) + (1-T).*log(1-Y)) over the classes, divided by the batch size.
    expected = torch.nn.functional.binary_cross_entropy(Y, T, reduction="sum").item() / 2
    assert crossentropy(Y, T, classification_mode="multilabel").item() == pytest.approx(expected, abs=1e-6)
    assert crossentropy(Y1, T1, classification_mode="multilabel").item() == pytest.approx(binary_crossentropy(Y1, T1).item())


def test_single_label_crossentropy_of_one_channel_is_refused():
    with pytest.raises(GraphdlError, match="binary_crossentropy") as caught:
        crossentropy(Y1, T1)
    assert caught.value.code == "E803"
    with pytest.raises(GraphdlError, match="classification_mode"):
        crossentropy(Y1, T1, classification_mode="binary")


def test_dlgradient_of_several_tables_one_backward_pass():
    a, b = _net(0), _net(1)
    X = torch.randn(8, 4)
    loss = (a(X) - b(X)).pow(2).sum()
    ga, gb = dlgradient(loss, a.learnables, b.learnables)  # no retain_graph needed
    loss_a = (a(X) - b(X).detach()).pow(2).sum()
    expected = dlgradient(loss_a, a.learnables)
    assert isinstance(expected, graphdl.Table)
    assert ga.keys == a.learnables.keys and gb.keys == b.learnables.keys
    for got, want in zip(ga.values, expected.values):
        torch.testing.assert_close(got, want)
    with pytest.raises(GraphdlError, match="Tables"):
        dlgradient(loss, (a.learnables, b.learnables))


def test_a_one_array_queue_yields_tensors():
    images = np.random.rand(10, 4).astype(np.float32)
    net = _net()
    batches = list(MiniBatchQueue(images, mini_batch_size=4))
    assert all(isinstance(X, torch.Tensor) for X in batches)
    assert net.forward(batches[0]).shape == (4, 2)
    X, T = MiniBatchQueue(images, np.arange(10), mini_batch_size=4).next()  # several arrays: a tuple
    assert X.shape == (4, 4) and T.shape == (4,)


def test_forward_takes_arrays_as_predict_does():
    net = _net()
    net.eval()
    X = np.random.rand(5, 4)
    torch.testing.assert_close(net.forward(X), net.predict(X))
    torch.testing.assert_close(net.forward(X.tolist()), net.predict(X))
    torch.testing.assert_close(net.forward(X, outputs="fc1"), net.predict(X, outputs="fc1"))
    with pytest.raises(GraphdlError, match="the input layer `input` takes"):
        net.forward(np.random.rand(5, 3))


def test_forward_on_arrays_updates_batch_norm_once():
    array, tensor = _net(), _net()
    X = np.random.rand(6, 4).astype(np.float32)
    array.forward(X)
    tensor.forward(torch.from_numpy(X))
    torch.testing.assert_close(array.bn.running_mean, tensor.bn.running_mean)
    assert array.bn.num_batches_tracked.item() == 1


def test_predict_tracks_no_gradients_and_its_outputs_feed_autograd():
    net = _net()
    Y = net.predict(torch.randn(3, 4))
    assert not Y.requires_grad and Y.grad_fn is None
    w = torch.ones(2, requires_grad=True)
    (Y * w).sum().backward()  # an ordinary tensor, not an inference tensor
    torch.testing.assert_close(w.grad, Y.sum(0))


def _train(tmp_path, **options):
    X, T = torch.randn(64, 4), torch.randint(0, 2, (64,))
    text = MLP.replace("fc2 = fullyConnected(2)", "fc2 = fullyConnected(2)\n    prob = softmax()")
    net = graphdl.dlnetwork(graphdl.loads(text), seed=0)
    out = io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(out):
        graphdl.trainnet(X, T, net, "crossentropy", training_options(mini_batch_size=8, max_epochs=2, **options))
    return out.getvalue()


def test_verbose_frequency_prints_every_n_iterations(tmp_path):
    lines = [line for line in _train(tmp_path, verbose_frequency=3).splitlines() if line.startswith("iteration")]
    assert [line.split()[1] for line in lines] == ["3", "6", "9", "12", "15"]


def test_plots_takes_a_file_name(tmp_path):
    path = tmp_path / "progress.png"
    _train(tmp_path, plots=str(path), verbose=False)
    assert path.stat().st_size > 0
    assert training_options(plots="training-progress").plot_file.name == "training-progress.png"
    assert training_options().plot_file is None
    with pytest.raises(GraphdlError, match="plots"):
        training_options(plots="progress.txt")


def test_training_options_documents_every_option():
    doc = training_options.__doc__
    for field in dataclasses.fields(TrainingOptions):
        assert f"    {field.name} (" in doc
    assert "verbose_frequency (VerboseFrequency): default 50" in doc
    assert "initial_learn_rate (InitialLearnRate): default 0.01 for sgdm" in doc
