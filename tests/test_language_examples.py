"""The language's acceptance examples: ResNet-18 and ResNet-50 written with blocks and repeats,
exactly torchvision's networks; a Siamese network whose branches share one set of weights."""

from __future__ import annotations

import pytest
import torch
from reference_resnet import resnet18, resnet50

import graphdl
from conftest import EXAMPLES

RESNETS = [("resnet18", resnet18, 11_689_512), ("resnet50", resnet50, 25_557_032)]


@pytest.mark.parametrize("name,reference,count", RESNETS, ids=[r[0] for r in RESNETS])
def test_resnets_have_torchvisions_parameter_counts(name, reference, count):
    path = EXAMPLES / f"{name}.dlg"
    assert len(path.read_text().splitlines()) < 80
    analysis = graphdl.analyze(graphdl.load(path))
    assert analysis.num_learnables == count
    assert sum(p.numel() for p in reference().parameters()) == count
    assert str(analysis["fc"].inputs["in"]) == "1x1x" + str(512 * (1 if name == "resnet18" else 4))


@pytest.mark.parametrize("name,reference,count", RESNETS, ids=[r[0] for r in RESNETS])
def test_resnets_compute_what_the_hand_written_ones_compute(name, reference, count):
    net = graphdl.dlnetwork(graphdl.load(EXAMPLES / f"{name}.dlg", parameters={"size": 64, "classes": 10}), seed=0)
    model = reference(classes=10)
    # The same names and sizes, so a torchvision state_dict loads as it is (strict), both ways.
    model.load_state_dict(net.state_dict())
    net.load_state_dict(model.state_dict())
    for module in model.modules():  # non-trivial batch-norm statistics
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    net.load_state_dict(model.state_dict())
    x = torch.randn(2, 3, 64, 64)
    model.eval()
    torch.testing.assert_close(net.predict(x), model(x))
    model.train()
    net.train()
    torch.testing.assert_close(net(x), model(x))


def test_siamese_branches_hold_one_set_of_parameters():
    net = graphdl.dlnetwork(graphdl.load(EXAMPLES / "siamese.dlg"), seed=0)
    layers = {layer for layer, _ in net.learnables.keys}
    assert layers == {"left.conv1", "left.conv2", "left.fc"}
    assert sum(p.numel() for p in net.parameters()) == graphdl.analyze(net.graph).num_learnables == 5_856
    assert all(not key.startswith("right.") for key in net.state_dict())
    assert "shares left.conv1" in graphdl.summary(net.graph)


def test_a_gradient_step_moves_both_branches_alike():
    net = graphdl.dlnetwork(graphdl.load(EXAMPLES / "siamese.dlg"), seed=0)
    same = torch.randn(4, 1, 28, 28)
    before, _ = net(same, same)
    # A contrastive-style loss on two different images: both branches feed one gradient.
    a, b = net(torch.randn(4, 1, 28, 28), torch.randn(4, 1, 28, 28))
    gradients = graphdl.dlgradient((a - b).pow(2).sum(), net.learnables)
    net, _ = graphdl.sgdmupdate(net, gradients, None, 0.1, 0.9)
    left, right = net(same, same)
    torch.testing.assert_close(left, right)  # the branches still compute one function
    assert not torch.allclose(left, before)  # which the step changed
