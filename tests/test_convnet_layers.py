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
    # ConvNeXt's: partial(LayerNorm2d, eps=1e-6)
    y, m = run(f'{IMAGE}\n l = layerNormalization(operationDimension="channel-only", epsilon=1e-6)', X_IMAGE, "l")
    reference = _LayerNorm2d(6, eps=1e-6)
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


# ---- shiftedWindowAttention and patchMerging: Swin ----------------------------------------------
# torchvision.models.swin_transformer (V1), copied: its modules work on (batch, height, width,
# channels), graphdl's on (batch, channels, height, width).


def _patch_merging_pad(x: torch.Tensor) -> torch.Tensor:
    H, W, _ = x.shape[-3:]
    x = F.pad(x, (0, 0, 0, W % 2, 0, H % 2))
    x0 = x[..., 0::2, 0::2, :]  # ... H/2 W/2 C
    x1 = x[..., 1::2, 0::2, :]  # ... H/2 W/2 C
    x2 = x[..., 0::2, 1::2, :]  # ... H/2 W/2 C
    x3 = x[..., 1::2, 1::2, :]  # ... H/2 W/2 C
    x = torch.cat([x0, x1, x2, x3], -1)  # ... H/2 W/2 4*C
    return x


class _PatchMerging(nn.Module):
    def __init__(self, dim: int, norm_layer=nn.LayerNorm):
        super().__init__()
        self.dim = dim
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = norm_layer(4 * dim)

    def forward(self, x: torch.Tensor):
        x = _patch_merging_pad(x)
        x = self.norm(x)
        x = self.reduction(x)  # ... H/2 W/2 2*C
        return x


def _get_relative_position_bias(relative_position_bias_table, relative_position_index, window_size):
    N = window_size[0] * window_size[1]
    relative_position_bias = relative_position_bias_table[relative_position_index]
    relative_position_bias = relative_position_bias.view(N, N, -1)
    relative_position_bias = relative_position_bias.permute(2, 0, 1).contiguous().unsqueeze(0)
    return relative_position_bias


def _shifted_window_attention(input, qkv_weight, proj_weight, relative_position_bias, window_size, num_heads, shift_size, qkv_bias=None, proj_bias=None):
    B, H, W, C = input.shape
    # pad feature maps to multiples of window size
    pad_r = (window_size[1] - W % window_size[1]) % window_size[1]
    pad_b = (window_size[0] - H % window_size[0]) % window_size[0]
    x = F.pad(input, (0, 0, 0, pad_r, 0, pad_b))
    _, pad_H, pad_W, _ = x.shape

    shift_size = shift_size.copy()
    # If window size is larger than feature size, there is no need to shift window
    if window_size[0] >= pad_H:
        shift_size[0] = 0
    if window_size[1] >= pad_W:
        shift_size[1] = 0

    # cyclic shift
    if sum(shift_size) > 0:
        x = torch.roll(x, shifts=(-shift_size[0], -shift_size[1]), dims=(1, 2))

    # partition windows
    num_windows = (pad_H // window_size[0]) * (pad_W // window_size[1])
    x = x.view(B, pad_H // window_size[0], window_size[0], pad_W // window_size[1], window_size[1], C)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(B * num_windows, window_size[0] * window_size[1], C)  # B*nW, Ws*Ws, C

    # multi-head attention
    qkv = F.linear(x, qkv_weight, qkv_bias)
    qkv = qkv.reshape(x.size(0), x.size(1), 3, num_heads, C // num_heads).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]
    q = q * (C // num_heads) ** -0.5
    attn = q.matmul(k.transpose(-2, -1))
    # add relative position bias
    attn = attn + relative_position_bias

    if sum(shift_size) > 0:
        # generate attention mask
        attn_mask = x.new_zeros((pad_H, pad_W))
        h_slices = ((0, -window_size[0]), (-window_size[0], -shift_size[0]), (-shift_size[0], None))
        w_slices = ((0, -window_size[1]), (-window_size[1], -shift_size[1]), (-shift_size[1], None))
        count = 0
        for h in h_slices:
            for w in w_slices:
                attn_mask[h[0] : h[1], w[0] : w[1]] = count
                count += 1
        attn_mask = attn_mask.view(pad_H // window_size[0], window_size[0], pad_W // window_size[1], window_size[1])
        attn_mask = attn_mask.permute(0, 2, 1, 3).reshape(num_windows, window_size[0] * window_size[1])
        attn_mask = attn_mask.unsqueeze(1) - attn_mask.unsqueeze(2)
        attn_mask = attn_mask.masked_fill(attn_mask != 0, -100.0).masked_fill(attn_mask == 0, 0.0)
        attn = attn.view(x.size(0) // num_windows, num_windows, num_heads, x.size(1), x.size(1))
        attn = attn + attn_mask.unsqueeze(1).unsqueeze(0)
        attn = attn.view(-1, num_heads, x.size(1), x.size(1))

    attn = F.softmax(attn, dim=-1)

    x = attn.matmul(v).transpose(1, 2).reshape(x.size(0), x.size(1), C)
    x = F.linear(x, proj_weight, proj_bias)

    # reverse windows
    x = x.view(B, pad_H // window_size[0], pad_W // window_size[1], window_size[0], window_size[1], C)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(B, pad_H, pad_W, C)

    # reverse cyclic shift
    if sum(shift_size) > 0:
        x = torch.roll(x, shifts=(shift_size[0], shift_size[1]), dims=(1, 2))

    # unpad features
    x = x[:, :H, :W, :].contiguous()
    return x


class _ShiftedWindowAttention(nn.Module):
    def __init__(self, dim: int, window_size: list[int], shift_size: list[int], num_heads: int):
        super().__init__()
        self.window_size = window_size
        self.shift_size = shift_size
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim, bias=True)
        # define a parameter table of relative position bias
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window_size[0] - 1) * (2 * window_size[1] - 1), num_heads))
        # get pair-wise relative position index for each token inside the window
        coords_h = torch.arange(self.window_size[0])
        coords_w = torch.arange(self.window_size[1])
        coords = torch.stack(torch.meshgrid(coords_h, coords_w, indexing="ij"))  # 2, Wh, Ww
        coords_flatten = torch.flatten(coords, 1)  # 2, Wh*Ww
        relative_coords = coords_flatten[:, :, None] - coords_flatten[:, None, :]  # 2, Wh*Ww, Wh*Ww
        relative_coords = relative_coords.permute(1, 2, 0).contiguous()  # Wh*Ww, Wh*Ww, 2
        relative_coords[:, :, 0] += self.window_size[0] - 1  # shift to start from 0
        relative_coords[:, :, 1] += self.window_size[1] - 1
        relative_coords[:, :, 0] *= 2 * self.window_size[1] - 1
        relative_position_index = relative_coords.sum(-1).flatten()  # Wh*Ww*Wh*Ww
        self.register_buffer("relative_position_index", relative_position_index)

    def forward(self, x: torch.Tensor):
        relative_position_bias = _get_relative_position_bias(self.relative_position_bias_table, self.relative_position_index, self.window_size)
        return _shifted_window_attention(
            x,
            self.qkv.weight,
            self.proj.weight,
            relative_position_bias,
            self.window_size,
            self.num_heads,
            shift_size=self.shift_size,
            qkv_bias=self.qkv.bias,
            proj_bias=self.proj.bias,
        )


def _nhwc(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """A torchvision Swin module's output for graphdl's (batch, channels, height, width)."""
    return module(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def _random_weights(module: nn.Module, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.5)


@pytest.mark.parametrize(
    "size,heads,window,shift",
    [
        ((8, 8), 2, (4, 4), (0, 0)),  # windows that divide the image, no shift
        ((8, 8), 2, (4, 4), (2, 2)),  # Swin's alternate block: shifted by half a window
        ((9, 7), 3, (4, 4), (2, 2)),  # windows that do not divide: padded, then shifted
        ((10, 6), 1, (3, 4), (1, 3)),  # rectangular windows and shifts
        ((5, 6), 2, (7, 7), (3, 3)),  # one window covers the image: no shift, as torchvision makes it
        ((12, 5), 2, (4, 7), (2, 3)),  # ... along the width only
        ((7, 7), 2, (7, 7), (0, 0)),
    ],
)
def test_shifted_window_attention_is_torchvisions(size, heads, window, shift):
    channels = 6
    layer = f"a = shiftedWindowAttention({heads}, {list(window)}, shiftSize={list(shift)})"
    body = f'input = imageInput([{size[0]}, {size[1]}, {channels}], normalization="none")\n {layer}'
    net = graphdl.dlnetwork(graphdl.loads(network(body)))
    reference = _ShiftedWindowAttention(channels, list(window), list(shift), heads)
    _random_weights(reference, seed=sum(size))
    # torchvision's state_dict loads one for one; its relative_position_index is a constant here.
    missing, unexpected = net.a.load_state_dict(reference.state_dict(), strict=False)
    assert missing == [] and unexpected == ["relative_position_index"]
    x = torch.randn(3, channels, *size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(net.predict(x), _nhwc(reference, x), rtol=1e-5, atol=1e-5)


def test_shifted_window_attention_learns_torchvisions_parameters():
    body = 'input = imageInput([8, 8, 6], normalization="none")\n a = shiftedWindowAttention(3, [2, 4], shiftSize=1)'
    analysis = graphdl.analyze(graphdl.loads(network(body)))
    expected = {"qkv.weight": (18, 6), "qkv.bias": (18,), "proj.weight": (6, 6), "proj.bias": (6,), "relative_position_bias_table": (3 * 7, 3)}
    assert dict(analysis["a"].learnables) == expected
    reference = _ShiftedWindowAttention(6, [2, 4], [1, 1], 3)
    assert {k: tuple(v.shape) for k, v in reference.named_parameters()} == expected
    net = graphdl.dlnetwork(graphdl.loads(network(body)))
    assert list(net.state_dict()) == ["a." + k for k in reference.state_dict() if k != "relative_position_index"]
    assert list(net.state.keys) == []


def test_shifted_window_attention_gets_gradients_and_moves_its_constants():
    body = 'input = imageInput([6, 6, 4], normalization="none")\n a = shiftedWindowAttention(2, 4, shiftSize=2)'
    net = graphdl.dlnetwork(graphdl.loads(network(body))).double()
    x = torch.randn(2, 4, 6, 6, dtype=torch.float64)
    net(x).square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())
    assert net.a.attention_mask.dtype == torch.float64


@pytest.mark.parametrize("size", [(8, 6), (7, 5), (1, 1), (3, 8)])
def test_patch_merging_is_torchvisions(size):
    body = f'input = imageInput([{size[0]}, {size[1]}, 3], normalization="none")\n p = patchMerging()'
    graph = graphdl.loads(network(body))
    net = graphdl.dlnetwork(graph)
    reference = _PatchMerging(3)
    _random_weights(reference, seed=size[0])
    net.p.load_state_dict(reference.state_dict())  # strict: the same names and sizes
    assert dict(graphdl.analyze(graph)["p"].learnables) == {name: tuple(p.shape) for name, p in reference.named_parameters()}
    x = torch.randn(2, 3, *size, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        y = net.predict(x)
        torch.testing.assert_close(y, _nhwc(reference, x))
    assert tuple(y.shape) == (2, 6, (size[0] + 1) // 2, (size[1] + 1) // 2)


@pytest.mark.parametrize(
    "body,code,message",
    [
        (f"{IMAGE}\n a = shiftedWindowAttention(4, 2)", "E207", "shiftedWindowAttention of 4 heads needs channels that split into them, but gets 6"),
        (f"{IMAGE}\n a = shiftedWindowAttention(2, 4, shiftSize=[1, 4])", "E207", "shiftSize 1x4 must be smaller than windowSize 4x4"),
        (f"{IMAGE}\n a = shiftedWindowAttention(2, 0)", "E207", "`windowSize`: expected a positive integer"),
        (f"{FEATURES}\n a = shiftedWindowAttention(2, 4)", "E403", "shiftedWindowAttention needs an image input"),
        (f"{SEQUENCE}\n p = patchMerging()", "E403", "patchMerging needs an image input"),
        (f"{IMAGE}\n p = patchMerging(epsilon=0)", "E207", "`epsilon`: expected a number of at least 1e-12"),
    ],
)
def test_swin_layers_report_bad_arguments_and_inputs(body, code, message):
    with pytest.raises(graphdl.GraphdlError, match=f"error\\[{code}\\]: .*{re.escape(message)}"):
        graphdl.loads(network(body))


# ---- whole blocks: the kinds together make torchvision's ----------------------------------------


def _copy_linear_to_1x1(conv: nn.Module, linear: nn.Linear) -> None:
    """A Linear over the channels of (batch, height, width, channels) is a 1x1 convolution of
    (batch, channels, height, width): the same weights, with two trailing 1s."""
    with torch.no_grad():
        conv.weight.copy_(linear.weight[:, :, None, None])
        conv.bias.copy_(linear.bias)


class _CNBlock(nn.Module):
    """torchvision.models.convnext.CNBlock, its norm_layer partial(nn.LayerNorm, eps=1e-6)."""

    def __init__(self, dim: int, layer_scale: float):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True),
            _Permute([0, 2, 3, 1]),
            nn.LayerNorm(dim, eps=1e-6),
            nn.Linear(in_features=dim, out_features=4 * dim, bias=True),
            nn.GELU(),
            nn.Linear(in_features=4 * dim, out_features=dim, bias=True),
            _Permute([0, 3, 1, 2]),
        )
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * layer_scale)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        result = self.layer_scale * self.block(input)
        # torchvision's StochasticDepth here: the identity at inference
        result += input
        return result


class _Permute(nn.Module):
    def __init__(self, dims: list[int]):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return torch.permute(x, self.dims)


def test_the_kinds_make_convnexts_block():
    body = """input = imageInput([9, 8, 4], normalization="none")
    dw = groupedConvolution2d(7, 1, "channel-wise", padding=3)
    norm = layerNormalization(operationDimension="channel-only", epsilon=1e-6)
    fc1 = convolution2d(1, 16)
    act = gelu()
    fc2 = convolution2d(1, 4)
    scale = layerScale(0.5)
    drop = stochasticDepth(0.1)
    add = addition()
    input -> dw -> norm -> fc1 -> act -> fc2 -> scale -> drop -> add/in1
    input -> add/in2"""
    net = graphdl.dlnetwork(graphdl.loads(network(body)))
    reference = _CNBlock(4, layer_scale=0.5)
    _random_weights(reference, seed=4)
    conv, _, norm, fc1, _, fc2, _ = reference.block
    net.dw.load_state_dict(conv.state_dict())
    net.norm.load_state_dict(norm.state_dict())
    _copy_linear_to_1x1(net.fc1, fc1)
    _copy_linear_to_1x1(net.fc2, fc2)
    net.scale.load_state_dict({"layer_scale": reference.layer_scale})
    x = torch.randn(2, 4, 9, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(net.predict(x), reference(x.clone()), rtol=1e-5, atol=1e-5)


class _SwinBlock(nn.Module):
    """torchvision.models.swin_transformer.SwinTransformerBlock (V1), without its dropouts (0 by
    default) and with its stochastic depth at inference."""

    def __init__(self, dim: int, num_heads: int, window_size: list[int], shift_size: list[int], mlp_ratio: float = 4.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = _ShiftedWindowAttention(dim, window_size, shift_size, num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, int(dim * mlp_ratio)), nn.GELU(), nn.Linear(int(dim * mlp_ratio), dim))

    def forward(self, x: torch.Tensor):
        x = x + self.attn(self.norm1(x))
        x = x + self.mlp(self.norm2(x))
        return x


def test_the_kinds_make_swins_blocks_and_stage_transition():
    text = """
block swin(shift) {
    input x
    output y
    norm1 = layerNormalization(operationDimension="channel-only")
    attn  = shiftedWindowAttention(2, 4, shiftSize=shift)
    drop1 = stochasticDepth(0.2)
    add1  = addition()
    norm2 = layerNormalization(operationDimension="channel-only")
    fc1   = convolution2d(1, 32)
    act   = gelu()
    fc2   = convolution2d(1, 8)
    drop2 = stochasticDepth(0.2)
    add2  = addition()
    x -> norm1 -> attn -> drop1 -> add1/in1
    x -> add1/in2
    add1 -> norm2 -> fc1 -> act -> fc2 -> drop2 -> add2/in1
    add1 -> add2/in2
    add2 -> y
}

network stage {
    input = imageInput([11, 9, 8], normalization="none")
    b1    = swin(0)
    b2    = swin(2)
    merge = patchMerging()
}
"""
    graph = graphdl.loads(text)
    net = graphdl.dlnetwork(graph)
    blocks = [_SwinBlock(8, 2, [4, 4], [0, 0]), _SwinBlock(8, 2, [4, 4], [2, 2])]
    merge = _PatchMerging(8)
    for i, module in enumerate([*blocks, merge]):
        _random_weights(module, seed=10 + i)
    for name, block in zip(("b1", "b2"), blocks):
        layers = {layer: net.get_submodule(f"{name}.{layer}") for layer in ("norm1", "attn", "norm2", "fc1", "fc2")}
        layers["norm1"].load_state_dict(block.norm1.state_dict())
        layers["norm2"].load_state_dict(block.norm2.state_dict())
        layers["attn"].load_state_dict(block.attn.state_dict(), strict=False)
        _copy_linear_to_1x1(layers["fc1"], block.mlp[0])
        _copy_linear_to_1x1(layers["fc2"], block.mlp[2])
    net.merge.load_state_dict(merge.state_dict())
    x = torch.randn(2, 8, 11, 9, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = _nhwc(nn.Sequential(*blocks, merge), x)
        torch.testing.assert_close(net.predict(x), expected, rtol=1e-4, atol=1e-4)
    assert str(graphdl.analyze(graph)["merge"].output) == "6x5x16"


@pytest.mark.parametrize(
    "layer",
    ["shiftedWindowAttention(2, 4)", "shiftedWindowAttention(4, [3, 5], shiftSize=[1, 2])", "patchMerging()"],
)
def test_swin_flops_count_torchs_matrix_products_and_little_more(layer):
    from torch.utils.flop_counter import FlopCounterMode

    graph = graphdl.loads(network(f'input = imageInput([9, 10, 8], normalization="none")\n a = {layer}'))
    analysis = graphdl.analyze(graph)
    net = graphdl.dlnetwork(graph)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(torch.randn(1, 8, 9, 10))
    products = counter.get_total_flops()
    # The products, and the biases, the softmax, the mask and the normalisation besides.
    assert products < analysis.flops <= 1.5 * products


# ---- importing torch.chunk as channelSplit ------------------------------------------------------


class _InvertedResidual(nn.Module):
    """torchvision.models.shufflenetv2.InvertedResidual, its channel_shuffle (which reads
    x.size()) written as torch's nn.ChannelShuffle, the same permutation."""

    def __init__(self, inp: int, oup: int, stride: int):
        super().__init__()
        self.stride = stride
        branch_features = oup // 2
        if self.stride > 1:
            self.branch1 = nn.Sequential(
                self.depthwise_conv(inp, inp, kernel_size=3, stride=self.stride, padding=1),
                nn.BatchNorm2d(inp),
                nn.Conv2d(inp, branch_features, kernel_size=1, stride=1, padding=0, bias=False),
                nn.BatchNorm2d(branch_features),
                nn.ReLU(inplace=True),
            )
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(
            nn.Conv2d(inp if (self.stride > 1) else branch_features, branch_features, kernel_size=1, stride=1, padding=0, bias=False),
            nn.BatchNorm2d(branch_features),
            nn.ReLU(inplace=True),
            self.depthwise_conv(branch_features, branch_features, kernel_size=3, stride=self.stride, padding=1),
            nn.BatchNorm2d(branch_features),
            nn.Conv2d(branch_features, branch_features, kernel_size=1, stride=1, padding=0, bias=False),
            nn.BatchNorm2d(branch_features),
            nn.ReLU(inplace=True),
        )
        self.shuffle = nn.ChannelShuffle(2)

    @staticmethod
    def depthwise_conv(i: int, o: int, kernel_size: int, stride: int = 1, padding: int = 0, bias: bool = False) -> nn.Conv2d:
        return nn.Conv2d(i, o, kernel_size, stride, padding, bias=bias, groups=i)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return self.shuffle(out)


class _Stage(nn.Module):
    def __init__(self, *units: nn.Module):
        super().__init__()
        self.units = nn.Sequential(*units)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.units(x)


@pytest.mark.parametrize("stride", [1, 2])
def test_shufflenet_v2s_units_import_from_pytorch(stride):
    second = _InvertedResidual(8, 8, 1) if stride == 1 else _InvertedResidual(8, 16, 2)
    module = _Stage(_InvertedResidual(8, 8, 1), second).eval()
    _random_weights(module, seed=stride)
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    graph = graphdl.from_torch(module, (8, 6, 8))
    assert [layer.kind for layer in graph.layers].count("channelSplit") == (2 if stride == 1 else 1)
    net = graphdl.dlnetwork(graphdl.loads(graphdl.to_dlg(graph)))
    net.load_state_dict(module.state_dict())
    x = torch.randn(2, 8, 8, 6, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(net.predict(x), module(x))


class _Chunks(nn.Module):
    def __init__(self, case: str):
        super().__init__()
        self.case = case

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.case == "time":
            return torch.cat(x.chunk(2, dim=2), dim=1)
        if self.case == "uneven":
            return torch.cat(torch.chunk(x, 3, 1), dim=1)
        return x.chunk(2, dim=1)[1]


@pytest.mark.parametrize(
    "case,message",
    [
        ("time", "dim=2: graphdl's channelSplit splits along the channels, dim=1"),
        ("uneven", "chunks=3 of 4 channels: torch.chunk makes parts of unequal sizes"),
        ("part", "one output of `chunk`: a graphdl network returns layers"),
    ],
)
def test_chunks_that_channel_split_does_not_make_are_refused(case, message):
    with pytest.raises(graphdl.GraphdlError, match=re.escape(message)):
        graphdl.from_torch(_Chunks(case), (4, 4, 4))


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_torch_fx_traces_the_new_kinds(mode):
    body = """input = imageInput([9, 7, 6], normalization="none")
    a = shiftedWindowAttention(2, 4, shiftSize=2)
    scale = layerScale()
    drop = stochasticDepth(0.5)
    merge = patchMerging()
    norm = layerNormalization(operationDimension="channel-only")
    split = channelSplit()"""
    net = getattr(graphdl.dlnetwork(graphdl.loads(network(body))), mode)()
    traced = torch.fx.symbolic_trace(net)
    x = torch.randn(2, 6, 9, 7)
    torch.manual_seed(0)
    got = traced(x)
    torch.manual_seed(0)
    expected = net(x)
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b)
