"""examples/efficientnet_b0.dlg is torchvision's EfficientNet-B0: one MBConv block with its
expansion and shortcut present by conditions, the stages a table; torchvision's learnable count,
its names (its weights load as they are) and what it computes, in eval mode and in training."""

from __future__ import annotations

import pytest
import torch
from reference_efficientnet import EfficientNet, MBConv, StochasticDepth, efficientnet_b0, efficientnet_conf

import graphdl
from conftest import EXAMPLES

PATH = EXAMPLES / "efficientnet_b0.dlg"
COUNT = 5_288_548  # torchvision's EfficientNet_B0_Weights.IMAGENET1K_V1.meta["num_params"]


def _small(**parameters):
    return graphdl.dlnetwork(graphdl.load(PATH, parameters={"size": 64, "classes": 10, **parameters}), seed=0)


def _randomised(model: torch.nn.Module, seed: int = 1) -> torch.nn.Module:
    """Weights, biases and batch-norm statistics far from their initial values, so that every one
    of them shows in the outputs."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, value in model.state_dict().items():
            if not value.is_floating_point():
                continue
            noise = torch.randn(value.shape, generator=generator)
            if name.endswith("running_var"):
                value.copy_(0.5 + noise.abs())
            elif name.endswith(".weight") and value.ndim == 1:  # batch-norm scales
                value.copy_(1 + 0.1 * noise)
            else:
                value.copy_(0.1 * noise)
    return model


def test_efficientnet_b0_has_torchvisions_learnable_count():
    analysis = graphdl.analyze(graphdl.load(PATH))
    assert analysis.num_learnables == COUNT
    assert sum(p.numel() for p in efficientnet_b0().parameters()) == COUNT
    assert str(analysis["features.8.2"].output) == "7x7x1280"
    assert str(analysis["classifier.1"].output) == "1000"


def test_efficientnet_b0_has_torchvisions_names_and_sizes():
    net, model = _small(), efficientnet_b0(classes=10)
    ours, theirs = net.state_dict(), model.state_dict()
    assert list(ours) == list(theirs)  # in the same order, too
    assert {k: tuple(v.shape) for k, v in ours.items()} == {k: tuple(v.shape) for k, v in theirs.items()}
    # torchvision's state_dict loads as it is (strict), both ways.
    model.load_state_dict(net.state_dict())
    net.load_state_dict(model.state_dict())


def test_efficientnet_b0_computes_what_torchvisions_computes():
    net, model = _small(), _randomised(efficientnet_b0(classes=10))
    net.load_state_dict(model.state_dict())
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    model.eval()
    with torch.no_grad():
        expected = model(x)
        assert expected.abs().max() > 0.1  # an output worth comparing
        torch.testing.assert_close(net.predict(x), expected)
    # In training: batch statistics, stochastic depth and dropout drawing as torchvision's do.
    model.train()
    net.train()
    torch.manual_seed(5)
    got = net(x)
    torch.manual_seed(5)
    torch.testing.assert_close(got, model(x))


def test_shortcuts_and_stochastic_depth_are_torchvisions():
    net, model = _small(), efficientnet_b0(classes=10)
    ours = dict(net.named_modules())
    layers = {layer.name for layer in net.graph.layers}
    blocks = [(name, module) for name, module in model.named_modules() if isinstance(module, MBConv)]
    assert len(blocks) == 16
    for name, block in blocks:
        # Expansion only where the expand ratio widens the block (not in features.1.0).
        assert (f"{name}.block.3.0" in ours) == (len(block.block) == 4), name
        # A shortcut only where the stride is 1 and the channels stay, through stochastic depth
        # of probability 0.2 * stage_block_id / 16 (to the bit); without, stochastic depth is the
        # identity, as torchvision's unused one.
        assert (f"{name}.add" in layers) == block.use_res_connect, name
        assert isinstance(block.stochastic_depth, StochasticDepth)
        assert ours[f"{name}.stochastic_depth"].p == (block.stochastic_depth.p if block.use_res_connect else 0), name
    assert sum(block.use_res_connect for _, block in blocks) == 9


@pytest.mark.parametrize("width,depth,count", [(1.0, 1.1, 7_794_184), (1.1, 1.2, 9_109_994)], ids=["b1", "b2"])
def test_the_stage_table_is_a_parameter(width, depth, count):
    # efficientnet_b1 and b2 differ from b0 by their table (and their dropout) only.
    table = [[c.expand_ratio, c.kernel, c.stride, c.input_channels, c.out_channels, c.num_layers] for c in efficientnet_conf(width, depth)]
    analysis = graphdl.analyze(graphdl.load(PATH, parameters={"stages": table}))
    assert analysis.num_learnables == count
    assert sum(p.numel() for p in EfficientNet(efficientnet_conf(width, depth), 0.2).parameters()) == count
