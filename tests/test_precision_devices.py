"""Where and how precisely trainnet computes: execution environments as MATLAB's or torch
devices, mixed precision (bfloat16 and float16 with loss scaling), channels-last images."""

from __future__ import annotations

import pytest
import torch

import graphdl
from conftest import EXAMPLES
from graphdl.compiler import Table
from graphdl.datasets import digits
from graphdl.diagnostics import GraphdlError
from graphdl.train import LossScaler, training_options, trainnet


def seed_network(seed=0):
    return graphdl.dlnetwork(graphdl.load(EXAMPLES / "mnist.dlg"), seed=seed)


def accuracy(net, data) -> float:
    predicted = net.predict(data.images).argmax(1)
    return 100 * (predicted == torch.as_tensor(data.labels)).float().mean().item()


@pytest.mark.slow
def test_bf16_trains_the_seed_network_to_within_a_point_of_fp32():
    train, test = digits("train", 3000, seed=1), digits("test", 1000, seed=1)
    results = {}
    for precision in ("fp32", "bf16"):
        torch.manual_seed(0)
        options = training_options("sgdm", max_epochs=3, mini_batch_size=64, verbose=False, precision=precision, shuffle="every-epoch")
        net, _ = trainnet(train.images, train.labels, seed_network(), "crossentropy", options)
        results[precision] = accuracy(net, test)
        assert net.fc.weight.dtype == torch.float32, "the learnables stay float32"
    assert results["fp32"] > 90
    assert abs(results["bf16"] - results["fp32"]) <= 1.0, results


def test_fp16_trains_with_loss_scaling():
    train = digits("train", 256, seed=2)
    torch.manual_seed(0)
    options = training_options("adam", max_epochs=3, mini_batch_size=32, verbose=False, precision="fp16")
    _, info = trainnet(train.images, train.labels, seed_network(), "crossentropy", options)
    losses = info.history["loss"][1]
    assert all(torch.isfinite(torch.tensor(losses)))
    assert sum(losses[-4:]) / 4 < 0.6 * sum(losses[:4]) / 4


def test_the_loss_scaler_skips_overflowing_steps_and_grows_after_good_ones():
    scaler = LossScaler(init_scale=1024.0, growth_interval=2)
    loss = torch.tensor(3.0)
    assert scaler.scale(loss).item() == 3072.0
    gradients, finite = scaler.unscale(Table([("fc", "weight", torch.tensor([1024.0, float("inf")]))]))
    assert not finite
    scaler.update()
    assert scaler.scale_value.item() == 512.0  # halved after the overflow
    gradients, finite = scaler.unscale(Table([("fc", "weight", torch.tensor([512.0, -1024.0]))]))
    assert finite and torch.equal(gradients["fc", "weight"], torch.tensor([1.0, -2.0]))
    scaler.update()
    scaler.unscale(Table([("fc", "weight", torch.tensor([1.0]))]))
    scaler.update()
    assert scaler.scale_value.item() == 1024.0  # doubled after growth_interval good steps
    restored = LossScaler()
    restored.load_state_dict(scaler.state_dict())
    assert restored.scale_value.item() == 1024.0


def test_a_custom_loop_runs_dlfeval_under_torchs_autocast():
    net = seed_network()
    X, T = torch.rand(8, 1, 28, 28), torch.randint(0, 10, (8,))

    def model_gradients(net, X, T):
        Y = net.forward(X)
        return graphdl.dlgradient(graphdl.crossentropy(Y, T), net.learnables), Y

    with torch.autocast("cpu", dtype=torch.bfloat16):
        gradients, Y = graphdl.dlfeval(model_gradients, net, X, T)
    assert Y.dtype == torch.bfloat16  # the forward pass ran in bfloat16
    assert net.conv1.weight.dtype == gradients["conv1", "weight"].dtype == torch.float32
    with torch.no_grad():
        torch.testing.assert_close(Y.float(), net.forward(X), atol=0.05, rtol=0.05)


def test_channels_last_trains_as_the_default_layout_does():
    train = digits("train", 128, seed=4)
    weights = {}
    for channels_last in (False, True):
        torch.manual_seed(0)
        options = training_options("sgdm", max_epochs=1, mini_batch_size=32, verbose=False, channels_last=channels_last)
        net, _ = trainnet(train.images, train.labels, seed_network(), "crossentropy", options)
        weights[channels_last] = net.state_dict()
    for key, value in weights[False].items():
        torch.testing.assert_close(weights[True][key], value, atol=1e-5, rtol=1e-4)


def test_execution_environments_are_matlabs_or_torch_devices():
    train = digits("train", 64, seed=5)
    for environment in ("cpu", "auto", "CPU".lower()):
        options = training_options(max_epochs=1, mini_batch_size=32, verbose=False, execution_environment=environment)
        trainnet(train.images, train.labels, seed_network(), "crossentropy", options)
    with pytest.raises(GraphdlError, match="execution_environment must be") as caught:
        training_options(execution_environment="quantum")
    assert caught.value.code == "E802"
    unavailable = [] if torch.cuda.is_available() else ["gpu", "cuda:1"]
    if not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        unavailable.append("mps")
    for environment in unavailable:
        options = training_options(max_epochs=1, mini_batch_size=32, verbose=False, execution_environment=environment)
        net = seed_network()
        with pytest.raises(GraphdlError, match=f"execution_environment.*{environment[:3]}") as caught:
            trainnet(train.images, train.labels, net, "crossentropy", options)
        assert caught.value.code == "E802"


def test_precision_options_are_checked():
    with pytest.raises(GraphdlError, match="precision must be one of 'fp32', 'bf16', 'fp16'"):
        training_options(precision="fp8")
    with pytest.raises(GraphdlError, match="channels_last must be True or False"):
        training_options(channels_last="yes")
