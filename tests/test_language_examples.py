"""The language's acceptance examples: ResNet-18 and ResNet-50 written with blocks and repeats,
exactly torchvision's networks; MobileNetV2 built from its table of stages; a Siamese network
whose branches share one set of weights."""

from __future__ import annotations

import pytest
import torch
from reference_mobilenet import MobileNetV2, mobilenet_v2
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


MOBILENET_SETTING = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]


def torchvision_name(name: str, setting=MOBILENET_SETTING) -> str:
    """The name torchvision gives a parameter or buffer of examples/mobilenet_v2.dlg, as its header
    says: stages.r.blocks.j is features.k, counted through the rows; features.last is the last."""
    parts = name.split(".")
    if parts[0] == "stages":
        r, j = int(parts[1]), int(parts[3])
        return ".".join(["features", str(1 + sum(n for _, _, n, _ in setting[:r]) + j), *parts[4:]])
    if parts[:2] == ["features", "last"]:
        return ".".join(["features", str(1 + sum(n for _, _, n, _ in setting)), *parts[2:]])
    return name


def test_mobilenet_v2_has_torchvisions_parameter_count_and_shortcuts():
    path = EXAMPLES / "mobilenet_v2.dlg"
    graph = graphdl.load(path)
    analysis = graphdl.analyze(graph)
    assert analysis.num_learnables == sum(p.numel() for p in mobilenet_v2().parameters()) == 3_504_872
    assert str(analysis["classifier.1"].inputs["in"]) == "1x1x1280"
    # Only blocks of stride 1 that keep their channels add their input; only t = 1 has no expansion.
    adds = sorted(torchvision_name(layer.name).rsplit(".", 1)[0] for layer in graph.layers if layer.kind == "addition")
    assert adds == sorted(f"features.{k}" for k in (3, 5, 6, 8, 9, 10, 12, 13, 15, 16))
    assert "stages.0.blocks.0.conv.0.0" in {layer.name for layer in graph.layers}
    assert "stages.0.blocks.0.conv.3" not in {layer.name for layer in graph.layers}


def test_mobilenet_v2_computes_what_torchvisions_computes():
    net = graphdl.dlnetwork(graphdl.load(EXAMPLES / "mobilenet_v2.dlg", parameters={"size": 64, "classes": 10}), seed=0)
    model = mobilenet_v2(classes=10)
    # Torchvision's weights load once the blocks are renamed, strictly: every name has its match.
    ours = net.state_dict()
    assert sorted(torchvision_name(key) for key in ours) == sorted(model.state_dict())
    for module in model.modules():  # non-trivial batch-norm statistics
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    torch.nn.init.normal_(model.classifier[1].weight)  # outputs of about 1, not torchvision's 0.01
    theirs = model.state_dict()
    net.load_state_dict({key: theirs[torchvision_name(key)] for key in ours})
    x = torch.randn(2, 3, 64, 64)
    model.eval()
    torch.testing.assert_close(net.predict(x), model(x))


def test_mobilenet_v2_takes_another_table():
    # A first row with expansion, rows of one block (an inner repetition of one member), and a
    # stride-1 row that changes the channels (its first block without a shortcut).
    setting = [[6, 8, 1, 1], [1, 16, 1, 1], [6, 16, 2, 2], [3, 24, 3, 1]]
    path = EXAMPLES / "mobilenet_v2.dlg"
    net = graphdl.dlnetwork(graphdl.load(path, parameters={"size": 32, "classes": 5, "setting": setting}), seed=0)
    model = MobileNetV2(num_classes=5, inverted_residual_setting=setting)
    torch.nn.init.normal_(model.classifier[1].weight)
    theirs = model.state_dict()
    assert sorted(torchvision_name(key, setting) for key in net.state_dict()) == sorted(theirs)
    net.load_state_dict({key: theirs[torchvision_name(key, setting)] for key in net.state_dict()})
    x = torch.randn(2, 3, 32, 32)
    model.eval()
    torch.testing.assert_close(net.predict(x), model(x))


def test_siamese_branches_hold_one_set_of_parameters():
    net = graphdl.dlnetwork(graphdl.load(EXAMPLES / "siamese.dlg"), seed=0)
    layers = {layer for layer, _ in net.learnables.keys}
    assert layers == {"left.conv1", "left.conv2", "left.fc", "same"}
    assert sum(p.numel() for p in net.parameters()) == graphdl.analyze(net.graph).num_learnables == 55_041
    assert all(not key.startswith("right.") for key in net.state_dict())
    assert "shares left.conv1" in graphdl.summary(net.graph)


def test_a_gradient_step_moves_both_branches_alike():
    net = graphdl.dlnetwork(graphdl.load(EXAMPLES / "siamese.dlg"), seed=0)
    same = torch.randn(4, 1, 28, 28)
    twins = ["left.fc", "right.fc"]  # the two encodings, before the distance head
    before, _ = net(same, same, outputs=twins)
    # A contrastive-style loss on two different images: both branches feed one gradient.
    a, b = net(torch.randn(4, 1, 28, 28), torch.randn(4, 1, 28, 28), outputs=twins)
    gradients = graphdl.dlgradient((a - b).pow(2).sum(), net.learnables)
    net, _ = graphdl.sgdmupdate(net, gradients, None, 0.1, 0.9)
    left, right = net(same, same, outputs=twins)
    torch.testing.assert_close(left, right)  # the branches still compute one function
    assert not torch.allclose(left, before)  # which the step changed
