"""Per-layer learn-rate and L2 factors (MATLAB's setLearnRateFactor and setL2Factor, and the same as
layer arguments), freezing, and initialising again: what the training toolkit honours."""

from __future__ import annotations

import pytest
import torch

import graphdl
from conftest import EXAMPLES
from graphdl import GraphdlError
from graphdl.train import dlfeval, dlgradient, sgdmupdate, training_options, trainnet

TWO = """
network two {
    input = featureInput(4, normalization="none")
    fc1   = fullyConnected(5, weightLearnRateFactor=0, biasL2Factor=1)
    act   = relu()
    fc2   = fullyConnected(3)
    prob  = softmax()
}
"""


def two(seed=0):
    return graphdl.dlnetwork(graphdl.loads(TWO), seed=seed)


def data():
    generator = torch.Generator().manual_seed(0)
    return torch.randn(32, 4, generator=generator), torch.randint(0, 3, (32,), generator=generator)


def test_layer_arguments_give_the_factors_with_matlabs_defaults():
    net = two()
    assert net.learn_rate_factor("fc1", "weight") == 0.0 and net.learn_rate_factor("fc1", "bias") == 1.0
    assert net.l2_factor("fc1", "bias") == 1.0 and net.l2_factor("fc2", "bias") == 0.0  # MATLAB: no L2 on biases
    resnet = graphdl.dlnetwork(graphdl.load(EXAMPLES / "resnet18.dlg", parameters={"size": 32}))
    assert resnet.l2_factor("bn1", "weight") == 1.0 and resnet.l2_factor("bn1", "bias") == 1.0  # scale, offset
    text = 'network r {\n input = sequenceInput(3)\n l = lstm(4, recurrentWeightsLearnRateFactor=0.5)\n}\n'
    recurrent = graphdl.dlnetwork(graphdl.loads(text))
    assert recurrent.learn_rate_factor("l", "weight_hh_l0") == 0.5 and recurrent.learn_rate_factor("l", "weight_ih_l0") == 1.0
    assert recurrent.l2_factor("l", "bias_ih_l0") == 0.0


def test_a_bad_factor_argument_is_a_diagnostic():
    with pytest.raises(GraphdlError, match=r"E207.*weightLearnRateFactor"):
        graphdl.loads('network n {\n input = featureInput(4)\n fc = fullyConnected(3, weightLearnRateFactor=-1)\n}\n')


def test_trainnet_leaves_a_learnable_with_learn_rate_factor_zero_as_it_is():
    net = two()
    before = {(row.layer, row.parameter): row.value.clone() for row in net.learnables}
    options = training_options("sgdm", max_epochs=2, mini_batch_size=8, verbose=False)
    net, _ = trainnet(*data(), net, "crossentropy", options)
    assert torch.equal(net.fc1.weight, before["fc1", "weight"])
    assert not torch.equal(net.fc1.bias, before["fc1", "bias"]) and not torch.equal(net.fc2.weight, before["fc2", "weight"])


def test_sgdmupdate_scales_each_step_by_the_learn_rate_factor():
    net = two()
    net.set_learn_rate_factor("fc2", None, 2.5)  # both of its learnables
    X, T = data()
    gradients = dlfeval(lambda: dlgradient(graphdl.crossentropy(net(X), T), net.learnables))
    before = {(row.layer, row.parameter): row.value.clone() for row in net.learnables}
    net, velocity = sgdmupdate(net, gradients, None, 0.1, 0.9)
    for layer, parameter, value in net.learnables:
        factor = {"fc1": {"weight": 0.0, "bias": 1.0}, "fc2": {"weight": 2.5, "bias": 2.5}}[layer][parameter]
        torch.testing.assert_close(value, before[layer, parameter] - 0.1 * factor * gradients[layer, parameter])
    assert torch.equal(velocity["fc1", "weight"], torch.zeros_like(before["fc1", "weight"]))


def test_trainnet_applies_each_learnables_l2_factor():
    net = two()
    net.set_l2_factor("fc2", "weight", 3.0)
    net.set_l2_factor("fc1", "bias", 0.0)
    before = {(row.layer, row.parameter): row.value.clone() for row in net.learnables}

    def no_loss(Y, T):  # the gradient is the L2 term alone
        return 0 * Y.sum()

    options = training_options("sgdm", max_epochs=1, mini_batch_size=32, initial_learn_rate=0.5, l2_regularization=0.01, verbose=False)
    net, _ = trainnet(*data(), net, no_loss, options)
    for (layer, parameter), factor in {("fc2", "weight"): 3.0, ("fc2", "bias"): 0.0, ("fc1", "bias"): 0.0}.items():
        expected = before[layer, parameter] * (1 - 0.5 * 0.01 * factor)
        torch.testing.assert_close(net.learnables[layer, parameter], expected)


@pytest.mark.slow
def test_freezing_a_block_instance_keeps_its_layers_and_skips_their_gradients():
    net = graphdl.dlnetwork(graphdl.load(EXAMPLES / "resnet18.dlg", parameters={"size": 32, "classes": 4}), seed=0)
    net.freeze("layer1", "conv1")
    frozen = [row for row in net.learnables if row.layer.startswith("layer1.") or row.layer == "conv1"]
    assert len(frozen) == 13 and all(not row.value.requires_grad and net.learn_rate_factor(row.layer, row.parameter) == 0 for row in frozen)
    before = {(row.layer, row.parameter): row.value.clone() for row in net.learnables}
    X, T = torch.rand(8, 3, 32, 32), torch.rand(8, 4)  # the ResNet ends in scores: regress them
    options = training_options("sgdm", max_epochs=1, mini_batch_size=4, verbose=False)
    net, _ = trainnet(X, T, net, "mse", options)
    for layer, parameter, value in net.learnables:
        changed = not torch.equal(value, before[layer, parameter])
        assert changed != (layer.startswith("layer1.") or layer == "conv1"), (layer, parameter)
    net.unfreeze("layer1")
    assert net.learnables["layer1.0.conv1", "weight"].requires_grad and net.learn_rate_factor("layer1.0.conv1", "weight") == 1.0


def test_factors_and_frozen_learnables_travel_in_the_network_file(tmp_path):
    net = two()
    net.set_learn_rate_factor("fc2", "bias", 0.25)
    net.set_l2_factor("fc2", "weight", 4.0)
    net.freeze("fc1")
    loaded = graphdl.load_network(graphdl.save_network(net, tmp_path / "two.pt"))
    assert loaded.learn_rate_factor("fc2", "bias") == 0.25 and loaded.l2_factor("fc2", "weight") == 4.0
    assert loaded.learn_rate_factor("fc1", "bias") == 0.0 and not loaded.fc1.bias.requires_grad


def test_factor_names_are_checked():
    net = two()
    with pytest.raises(GraphdlError, match=r"E227(.|\n)*`fc2` has no learnable `wieght`(.|\n)*did you mean `weight`"):
        net.set_learn_rate_factor("fc2", "wieght", 0.5)
    with pytest.raises(GraphdlError, match=r"E211(.|\n)*no layer or block instance named `fc3`"):
        net.freeze("fc3")
    with pytest.raises(GraphdlError, match=r"E227(.|\n)*`act` has no learnables"):
        net.freeze("act")
    with pytest.raises(GraphdlError, match="non-negative number"):
        net.set_l2_factor("fc2", "weight", -1)


def test_initialize_again_with_a_seed_gives_a_new_networks_values():
    graph = graphdl.load(EXAMPLES / "mnist.dlg")
    net = graphdl.dlnetwork(graph, seed=1)
    net.bn1.running_mean.fill_(3.0)
    net.initialize(seed=7)
    fresh = graphdl.dlnetwork(graph, seed=7)
    for key, value in fresh.state_dict().items():
        torch.testing.assert_close(net.state_dict()[key], value, rtol=0, atol=0)
    conv = net.conv1.weight.clone()
    net.initialize("fc", seed=3)
    assert torch.equal(net.conv1.weight, conv) and not torch.equal(net.fc.weight, fresh.fc.weight)


def test_replacing_a_layer_of_a_trained_network_keeps_the_others_and_their_factors():
    net = two()
    net.freeze("fc1")
    net.set_l2_factor("fc1", "bias", 3.0)
    X, T = data()
    net, _ = trainnet(X, T, net, "crossentropy", training_options("sgdm", max_epochs=2, mini_batch_size=8, verbose=False))
    new = net.replace_layer("fc2", graphdl.layer("head", "fullyConnected", 2), seed=1)
    assert new is not net and [layer.name for layer in new.graph.layers] == ["input", "fc1", "act", "head", "prob"]
    assert net.layer_names == ("input", "fc1", "act", "fc2", "prob")  # the trained network as it was
    for parameter in ("weight", "bias"):  # kept: the same numbers, not the same tensors
        assert torch.equal(new.learnables["fc1", parameter], net.learnables["fc1", parameter])
        assert new.learnables["fc1", parameter] is not net.learnables["fc1", parameter]
    assert new.learn_rate_factor("fc1", "weight") == 0.0 and new.l2_factor("fc1", "bias") == 3.0
    assert not new.learnables["fc1", "weight"].requires_grad and new.learnables["head", "weight"].requires_grad
    assert new.learnables["head", "weight"].shape == (2, 5)
    fresh = graphdl.dlnetwork(new.graph, seed=1)  # the new layer initialised as a new network's, with the seed
    assert torch.equal(new.learnables["head", "weight"], fresh.learnables["head", "weight"])
    before = new.learnables["fc1", "weight"].clone()
    new, _ = trainnet(X, T % 2, new, "crossentropy", training_options("sgdm", max_epochs=1, mini_batch_size=8, verbose=False))
    assert torch.equal(new.learnables["fc1", "weight"], before)  # still frozen
    with pytest.raises(GraphdlError, match="fc9"):
        net.replace_layer("fc9", graphdl.layer("head", "fullyConnected", 2))
