"""The layers of torchvision's ShuffleNetV2, ConvNeXt, EfficientNet and Swin families compute what
torchvision computes: each checked against a reference written here after torchvision's own code
(torchvision is not a dependency), with the same weights, and their bad arguments and inputs are
reported where they are written."""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import graphdl
from conftest import compiled, network, run

IMAGE = 'input = imageInput([5, 4, 6], normalization="none")'
FEATURES = "input = featureInput(6)"
SEQUENCE = "input = sequenceInput(6)"

X_IMAGE = torch.randn(3, 6, 5, 4, generator=torch.Generator().manual_seed(0)) * 2 + 1
X_FEATURES = torch.randn(4, 6, generator=torch.Generator().manual_seed(0)) * 3
X_SEQUENCE = torch.randn(3, 6, 7, generator=torch.Generator().manual_seed(0)) * 2 - 1


def _errors(body: str) -> list[str]:
    return [d.code for d in graphdl.check_text(network(body), path="t.dlg").diagnostics if d.is_error]


# ---- channelSplit: ShuffleNetV2 ------------------------------------------------------------------


def _channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """torchvision.models.shufflenetv2.channel_shuffle."""
    batchsize, num_channels, height, width = x.size()
    channels_per_group = num_channels // groups
    x = x.view(batchsize, groups, channels_per_group, height, width)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(batchsize, num_channels, height, width)


@pytest.mark.parametrize("source,x", [(FEATURES, X_FEATURES), (IMAGE, X_IMAGE), (SEQUENCE, X_SEQUENCE)], ids=["features", "image", "sequence"])
@pytest.mark.parametrize("parts", [2, 3, 6])
def test_channel_split_is_chunk_along_the_channels(source, x, parts):
    net = graphdl.dlnetwork(graphdl.loads(network(f"{source}\n s = channelSplit({parts})")))
    outputs = net.predict(x) if source != SEQUENCE else net.forward(x)
    expected = x.chunk(parts, dim=1)
    assert len(outputs) == parts
    for got, want in zip(outputs, expected):
        torch.testing.assert_close(got, want)


def test_channel_split_makes_shufflenet_v2s_basic_unit():
    # torchvision's InvertedResidual of stride 1: x1, x2 = x.chunk(2, dim=1); out = cat(x1, branch2(x2)); shuffle.
    body = (
        f"{IMAGE}\n s = channelSplit()\n c = convolution2d(1, 3, bias=false)\n r = relu()\n cat = depthConcatenation(2)\n"
        " shuffle = channelShuffle(2)\n input -> s\n s/out1 -> cat/in1\n s/out2 -> c -> r -> cat/in2\n cat -> shuffle"
    )
    net, conv = compiled(body, "c")
    x1, x2 = X_IMAGE.chunk(2, dim=1)
    expected = _channel_shuffle(torch.cat((x1, F.relu(F.conv2d(x2, conv.weight))), dim=1), 2)
    with torch.no_grad():
        torch.testing.assert_close(net.predict(X_IMAGE), expected)


def test_channel_split_names_its_outputs_and_refuses_channels_that_do_not_divide():
    graph = graphdl.loads(network(f"{IMAGE}\n s = channelSplit(3)"))
    assert graph["s"].output_ports == ("out1", "out2", "out3")
    assert str(graphdl.analyze(graph)["s"].outputs["out3"]) == "5x4x2"
    with pytest.raises(graphdl.GraphdlError, match=r"error\[E207\]: .*channelSplit into 4 parts needs channels that split evenly, but gets 6"):
        graphdl.loads(network(f"{IMAGE}\n s = channelSplit(4)"))
    assert _errors(f"{IMAGE}\n s = channelSplit(1)") == ["E207"]


# ---- layerScale and layerNormalization: ConvNeXt ------------------------------------------------


class _LayerNorm2d(nn.LayerNorm):
    """torchvision.models.convnext.LayerNorm2d."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        x = x.permute(0, 3, 1, 2)
        return x


def test_channel_only_layer_normalization_of_an_image_is_convnexts_layer_norm_2d():
    # ConvNeXt's own eps is 1e-6, below MATLAB's minimum epsilon (1e-5), which graphdl keeps.
    y, m = run(f'{IMAGE}\n l = layerNormalization(operationDimension="channel-only", epsilon=2e-5)', X_IMAGE, "l")
    reference = _LayerNorm2d(6, eps=2e-5)
    reference.load_state_dict(m.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(y, reference(X_IMAGE))
    assert {name: tuple(p.shape) for name, p in m.named_parameters()} == {"weight": (6,), "bias": (6,)}


@pytest.mark.parametrize("mode", ["auto", "spatial-channel", "batch-excluded"])
def test_layer_normalization_of_a_single_image_by_the_other_modes_normalises_channels_and_pixels(mode):
    y, m = run(f'{IMAGE}\n l = layerNormalization(operationDimension="{mode}")', X_IMAGE, "l")
    torch.testing.assert_close(y, F.group_norm(X_IMAGE, 1, m.weight, m.bias, 1e-5))


@pytest.mark.parametrize("source,x", [(FEATURES, X_FEATURES), (IMAGE, X_IMAGE), (SEQUENCE, X_SEQUENCE)], ids=["features", "image", "sequence"])
def test_layer_normalization_auto_is_the_default_and_what_it_was(source, x):
    # "auto": an image over its channels and pixels, features and each step of a sequence over the channels.
    y, m = run(f"{source}\n l = layerNormalization()", x, "l")
    y_auto, _ = run(f'{source}\n l = layerNormalization(operationDimension="auto")', x, "l")
    torch.testing.assert_close(y_auto, y)
    if source == IMAGE:
        expected = F.group_norm(x, 1, m.weight, m.bias, 1e-5)
    else:
        expected = F.layer_norm(x.transpose(1, -1), (6,), m.weight, m.bias, 1e-5).transpose(1, -1)
    torch.testing.assert_close(y, expected)


def test_layer_normalization_of_a_sequence_over_all_but_the_batch():
    y, m = run(f'{SEQUENCE}\n l = layerNormalization(operationDimension="batch-excluded")', X_SEQUENCE, "l")
    torch.testing.assert_close(y, F.group_norm(X_SEQUENCE, 1, m.weight, m.bias, 1e-5))


def test_spatial_channel_layer_normalization_of_a_sequence_of_images_normalises_each_step():
    x = torch.randn(2, 3, 4, 5, 6, generator=torch.Generator().manual_seed(3))  # (batch, C, H, W, T)
    y, m = run('input = sequenceInput([4, 5, 3])\n l = layerNormalization(operationDimension="spatial-channel")', x, "l")
    steps = torch.stack([F.group_norm(x[..., t], 1, m.weight, m.bias, 1e-5) for t in range(6)], dim=-1)
    torch.testing.assert_close(y, steps)


def test_layer_normalization_refuses_an_unknown_operation_dimension():
    with pytest.raises(graphdl.GraphdlError, match=r'error\[E207\]: .*`operationDimension`: expected one of "auto", "channel-only"'):
        graphdl.loads(network(f'{IMAGE}\n l = layerNormalization(operationDimension="channel")'))


def test_layer_scale_is_convnexts_with_torchvisions_parameter():
    net = graphdl.dlnetwork(graphdl.loads(network(f"{IMAGE}\n s = layerScale()")))
    scale = net.s.layer_scale
    assert tuple(scale.shape) == (6, 1, 1)  # torchvision's CNBlock: torch.ones(dim, 1, 1) * layer_scale
    torch.testing.assert_close(scale, torch.full((6, 1, 1), 1e-6))
    with torch.no_grad():
        scale.copy_(torch.randn(6, 1, 1))
        torch.testing.assert_close(net.predict(X_IMAGE), scale * X_IMAGE)
    assert graphdl.analyze(graphdl.loads(network(f"{IMAGE}\n s = layerScale()")))["s"].learnables == {"layer_scale": (6, 1, 1)}


@pytest.mark.parametrize("source,x,size", [(FEATURES, X_FEATURES, (6,)), (SEQUENCE, X_SEQUENCE, (6, 1))], ids=["features", "sequence"])
def test_layer_scale_scales_each_channel_of_features_and_sequences(source, x, size):
    y, m = run(f"{source}\n s = layerScale(0.5)", x, "s")
    assert tuple(m.layer_scale.shape) == size
    torch.testing.assert_close(y, x * m.layer_scale)


# ---- stochasticDepth: EfficientNet, ConvNeXt, Swin ----------------------------------------------


def _stochastic_depth(input: torch.Tensor, p: float, mode: str, training: bool = True) -> torch.Tensor:
    """torchvision.ops.stochastic_depth."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"drop probability has to be between 0 and 1, but got {p}")
    if mode not in ["batch", "row"]:
        raise ValueError(f"mode has to be either 'batch' or 'row', but got {mode}")
    if not training or p == 0.0:
        return input
    survival_rate = 1.0 - p
    if mode == "row":
        size = [input.shape[0]] + [1] * (input.ndim - 1)
    else:
        size = [1] * input.ndim
    noise = torch.empty(size, dtype=input.dtype, device=input.device)
    noise = noise.bernoulli_(survival_rate)
    if survival_rate > 0.0:
        noise.div_(survival_rate)
    return input * noise


@pytest.mark.parametrize("mode", ["row", "batch"])
def test_stochastic_depth_is_the_identity_at_inference(mode):
    net = graphdl.dlnetwork(graphdl.loads(network(f'{IMAGE}\n d = stochasticDepth(0.7, mode="{mode}")'))).eval()
    torch.testing.assert_close(net(X_IMAGE), X_IMAGE)


@pytest.mark.parametrize("mode", ["row", "batch"])
@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 1.0])
def test_stochastic_depth_in_training_is_torchvisions(mode, p):
    net = graphdl.dlnetwork(graphdl.loads(network(f'{IMAGE}\n d = stochasticDepth({p}, mode="{mode}")'))).train()
    x = torch.randn(64, 6, 5, 4)
    torch.manual_seed(5)
    got = net(x)
    torch.manual_seed(5)
    torch.testing.assert_close(got, _stochastic_depth(x, p, mode))


def test_stochastic_depth_drops_whole_observations_and_scales_the_rest():
    torch.manual_seed(0)
    net = graphdl.dlnetwork(graphdl.loads(network(f"{FEATURES}\n d = stochasticDepth(0.25)"))).train()
    x = torch.ones(20000, 6)
    y = net(x)
    kept = y[:, 0] != 0
    # Each observation all dropped or all kept, and what is kept scaled by 1 / (1 - p).
    assert torch.equal((y != 0).all(dim=1), kept) and torch.equal((y == 0).all(dim=1), ~kept)
    torch.testing.assert_close(y[kept], torch.full_like(y[kept], 1 / 0.75))
    assert abs(kept.float().mean().item() - 0.75) < 0.02
    assert abs(y.mean().item() - 1.0) < 0.03  # unbiased


def test_stochastic_depth_in_batch_mode_drops_the_whole_batch_or_nothing():
    torch.manual_seed(0)
    net = graphdl.dlnetwork(graphdl.loads(network(f'{FEATURES}\n d = stochasticDepth(0.5, mode="batch")'))).train()
    outcomes = set()
    for _ in range(40):
        y = net(torch.ones(8, 6))
        assert len(set(y.flatten().tolist())) == 1
        outcomes.add(y[0, 0].item())
    assert outcomes == {0.0, 2.0}


@pytest.mark.parametrize(
    "body,code,message",
    [
        (f"{IMAGE}\n d = stochasticDepth(1.5)", "E207", "`probability`: expected a number in [0, 1], found 1.5"),
        (f'{IMAGE}\n d = stochasticDepth(0.1, mode="col")', "E207", '`mode`: expected one of "row", "batch"'),
        (f"{IMAGE}\n d = stochasticDepth()", "E", "probability"),
    ],
)
def test_stochastic_depth_refuses_bad_arguments(body, code, message):
    with pytest.raises(graphdl.GraphdlError, match=f"error\\[{code}.*{re.escape(message)}"):
        graphdl.loads(network(body))
