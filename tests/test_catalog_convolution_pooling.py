"""The convolution and pooling kinds beyond 2-D compute what MATLAB's layers do: FLOPs agree with
torch's flop counter, causal padding never looks ahead, transposed convolutions have MATLAB's
output sizes and crop where MATLAB crops, grouped convolutions refuse channels that do not split,
sequences of any length get the padding and lengths a fixed length would, and windows of any
1-D and 3-D geometry agree with torch."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, example, given, settings, strategies as st
from test_shapes import assert_static_equals_runtime

import graphdl
from conftest import network
from graphdl.catalog import ArgumentProblem, Inferred, LayerKind, Shape, lookup, register
from graphdl.catalog._convolution import Groups
from graphdl.catalog._window import Padding1d

IMAGE = 'input = imageInput([12, 10, 3], normalization="none")'
IMAGE3D = 'input = image3dInput([6, 5, 4, 2], normalization="none")'
SEQUENCE = "input = sequenceInput(6, length=9)"


def checked(body: str):
    return graphdl.check_text(network(body), path="t.dlg")


# ---- FLOPs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        f"{SEQUENCE}\n c = convolution1d(3, 4, stride=2, dilationFactor=2, padding=[2, 1], bias=false)",
        f'{SEQUENCE}\n c = convolution1d(3, 4, padding="causal", bias=false)',
        f'{IMAGE3D}\n c = convolution3d([3, 2, 1], 5, stride=[2, 1, 3], padding="same", bias=false)',
        f"{IMAGE}\n g = groupedConvolution2d(3, 2, 3, bias=false)",
        f'{IMAGE}\n g = groupedConvolution2d(3, 2, "channel-wise", stride=2, padding="same", bias=false)',
        f"{SEQUENCE}\n t = transposedConv1d(4, 2, stride=2, cropping=[1, 2], bias=false)",
        f'{IMAGE}\n t = transposedConv2d([3, 4], 5, stride=[2, 3], cropping="same", bias=false)',
        f"{IMAGE3D}\n t = transposedConv3d(2, 3, stride=2, cropping=1, bias=false)",
    ],
)
def test_flops_agree_with_torchs_flop_counter(body):
    from torch.utils.flop_counter import FlopCounterMode

    graph = graphdl.loads(network(body))
    analysis = graphdl.analyze(graph)
    net = graphdl.dlnetwork(graph)
    with FlopCounterMode(display=False) as counter:
        net(torch.randn(analysis["input"].output.torch_size(3)))
    assert counter.get_total_flops() == 3 * analysis.flops


def test_a_bias_adds_one_flop_per_output():
    with_bias = graphdl.analyze(graphdl.loads(network(f"{IMAGE}\n t = transposedConv2d(3, 4, stride=2)")))
    without = graphdl.analyze(graphdl.loads(network(f"{IMAGE}\n t = transposedConv2d(3, 4, stride=2, bias=false)")))
    assert with_bias["t"].flops - without["t"].flops == with_bias["t"].output.numel


# ---- causal padding -----------------------------------------------------------------------------


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("length", ["length=9", None])
def test_causal_convolution_never_sees_a_later_step(stride, length):
    net = graphdl.dlnetwork(graphdl.loads(network(
        f"input = sequenceInput(2{', ' + length if length else ''})\n"
        f' c = convolution1d(3, 4, stride={stride}, dilationFactor=2, padding="causal")'
    )), seed=0)
    x = torch.randn(1, 2, 9)
    late = 6
    changed = x.clone()
    changed[..., late] += 10.0
    before, after = net(x), net(changed)
    assert before.shape[-1] == -(-9 // stride)  # ceil: at stride 1 the length is kept
    # Output j sees steps j*stride - 4, j*stride - 2 and j*stride: none before the change moves,
    # and those that see it do.
    ends = torch.arange(before.shape[-1]) * stride
    earlier, sees = ends < late, torch.isin(ends - late, torch.tensor([0, 2, 4]))
    torch.testing.assert_close(after[..., earlier], before[..., earlier])
    assert sees.any() and (after[..., sees] != before[..., sees]).any(dim=1).all()


def test_causal_padding_is_all_before():
    net = graphdl.dlnetwork(graphdl.loads(network(f'{SEQUENCE}\n c = convolution1d(3, 4, dilationFactor=2, padding="causal")')), seed=0)
    x = torch.randn(2, 6, 9)
    expected = F.conv1d(F.pad(x, (4, 0)), net.c.weight, net.c.bias, dilation=2)
    torch.testing.assert_close(net(x), expected)


# ---- transposed convolutions -----------------------------------------------------------------------


def matlab_transposed_size(n: int, k: int, s: int, cropping) -> int:
    """MATLAB's output size: (n - 1) * stride + filterSize - cropping; "same" gives n * stride."""
    if cropping == "same":
        return n * s
    before, after = cropping
    return (n - 1) * s + k - before - after


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("filter_size", [1, 4])
@pytest.mark.parametrize("cropping", ["same", (0, 0), (1, 0), (0, 2)])
def test_transposed_sizes_are_matlabs(stride, filter_size, cropping):
    if cropping == "same" and filter_size < stride:
        return  # refused: see test_same_cropping_needs_filters_as_large_as_the_stride
    for dims, sizes in ((1, (7,)), (2, (7, 5)), (3, (4, 3, 5))):
        if dims == 1:
            source = "input = sequenceInput(2, length=7)"
        else:
            source = f"input = {'imageInput' if dims == 2 else 'image3dInput'}({[*sizes, 2]})"
        written = '"same"' if cropping == "same" else list(cropping) * dims  # (before, after) per dimension
        body = f"{source}\n t = transposedConv{dims}d({filter_size}, 3, stride={stride}, cropping={written})"
        expected = tuple(matlab_transposed_size(n, filter_size, stride, cropping) for n in sizes)
        analysis = graphdl.analyze(graphdl.loads(network(body)))
        out = analysis["t"].output
        assert ((out.length,) if dims == 1 else out.spatial) == expected
        assert_static_equals_runtime(body, batch=2)


@pytest.mark.parametrize("cropping,kept", [((1, 2), slice(1, -2)), ("same", slice(0, -1))])
def test_transposed_convolution_crops_where_matlab_crops(cropping, kept):
    # filterSize 3 at stride 2 with "same" crops 1: MATLAB crops the odd one at the end.
    written = '"same"' if cropping == "same" else list(cropping)
    net = graphdl.dlnetwork(graphdl.loads(network(f"{SEQUENCE}\n t = transposedConv1d(3, 4, stride=2, cropping={written})")), seed=0)
    x = torch.randn(2, 6, 9)
    full = F.conv_transpose1d(x, net.t.weight, net.t.bias, stride=2)
    torch.testing.assert_close(net(x), full[..., kept])


def test_same_cropping_needs_filters_as_large_as_the_stride():
    with pytest.raises(graphdl.GraphdlError, match=r'cropping "same" needs filters at least as large as the stride, but they are 2x2 at stride 3x3'):
        graphdl.loads(network(f'{IMAGE}\n t = transposedConv2d(2, 4, stride=3, cropping="same")'))
    with pytest.raises(graphdl.GraphdlError, match=r"cropping 7 of the 7 outputs along a dimension leaves none"):
        graphdl.loads(network(f"{IMAGE}\n t = transposedConv2d(7, 4, cropping=[3, 4, 0, 0])").replace("[12, 10, 3]", "[1, 10, 3]"))


# ---- grouped convolutions ------------------------------------------------------------------------


def test_groups_must_divide_the_channels():
    body = f"{IMAGE}\n c = convolution2d(1, 5)\n g = groupedConvolution2d(3, 2, 2)"
    with pytest.raises(graphdl.GraphdlError, match=r"5 input channels do not split into 2 groups"):
        graphdl.loads(network(body))
    (diagnostic,) = checked(body).diagnostics
    assert diagnostic.code == "E207"
    assert (diagnostic.span.line, diagnostic.span.column) == (4, 33)  # at numGroups
    assert "channel-wise" in diagnostic.help


def test_channel_wise_groups_are_the_input_channels():
    analysis = graphdl.analyze(graphdl.loads(network(f'{IMAGE}\n c = convolution2d(1, 5)\n g = groupedConvolution2d(3, 2, "channel-wise")')))
    assert analysis["g"].output == Shape.image(10, 8, 10)
    assert analysis["g"].learnables == {"weight": (10, 1, 3, 3), "bias": (10,)}


def test_grouped_convolution_convolves_each_group_alone():
    net = graphdl.dlnetwork(graphdl.loads(network(f"{IMAGE.replace('3]', '4]')}\n g = groupedConvolution2d(3, 5, 2)")), seed=0)
    x = torch.randn(2, 4, 12, 10)
    w, b = net.g.weight, net.g.bias
    halves = [F.conv2d(x[:, 2 * g : 2 * g + 2], w[5 * g : 5 * g + 5], b[5 * g : 5 * g + 5]) for g in range(2)]
    torch.testing.assert_close(net(x), torch.cat(halves, dim=1))


def test_number_of_groups_is_a_positive_integer_or_channel_wise():
    assert Groups().normalize(3) == 3 and Groups().normalize(3.0) == 3 and Groups().normalize("channel-wise") == "channel-wise"
    for value, code in ((0, "E207"), ("channelwise", "E207"), (1.5, "E203"), (True, "E203")):
        with pytest.raises(ArgumentProblem, match='expected a positive integer or "channel-wise"') as info:
            Groups().normalize(value)
        assert info.value.code == code


# ---- MATLAB's initialisation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body,fan_in",
    [
        # A group's fan in counts its own channels: 3x3 x 64 / 4.
        ("input = imageInput([8, 8, 64])\n c = groupedConvolution2d(3, 64, 4, weightsInitializer=\"he\")", 9 * 16),
        # A transposed convolution's counts the filters, as MATLAB's does: 3x3 x 64.
        ("input = imageInput([8, 8, 8])\n c = transposedConv2d(3, 64, weightsInitializer=\"he\")", 9 * 64),
        ("input = sequenceInput(32)\n c = convolution1d(5, 256, weightsInitializer=\"he\")", 5 * 32),
    ],
)
def test_he_initialisation_uses_matlabs_fan_in(body, fan_in):
    weight = graphdl.dlnetwork(graphdl.loads(network(body)), seed=0).c.weight
    assert weight.std().item() == pytest.approx((2 / fan_in) ** 0.5, rel=0.05)


# ---- sequences of any length -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "layer",
    [
        'convolution1d(3, 4, stride=2, padding="same")',
        'convolution1d(4, 2, stride=3, dilationFactor=2, padding="same")',
        'convolution1d(3, 4, stride=2, padding="causal")',
        "convolution1d(3, 4, stride=2, padding=[0, 1])",
        'maxPooling1d(3, stride=2, padding="same")',
        'averagePooling1d(2, stride=3, padding="same")',
        "maxPooling1d(2, stride=2)",
        'transposedConv1d(3, 2, stride=2, cropping="same")',
        "transposedConv1d(4, 2, stride=3, cropping=[2, 1])",
    ],
)
def test_any_length_computes_what_each_fixed_length_would(layer):
    """A sequence of any length has length None statically; at run time each call gets the
    padding, and so the length and values, that the network of that fixed length computes."""
    anything = graphdl.dlnetwork(graphdl.loads(network(f"input = sequenceInput(3)\n w = {layer}")), seed=0)
    assert anything.analysis["w"].output.length is None
    for length in range(1, 13):
        x = torch.randn(2, 3, length)
        fixed = checked(f"input = sequenceInput(3, length={length})\n w = {layer}")
        if not fixed.ok:
            assert [d.code for d in fixed.diagnostics] == ["E402"]
            with pytest.raises(RuntimeError):
                anything(x)
            continue
        net = graphdl.dlnetwork(fixed.graph, seed=0)
        expected = net(x)
        assert tuple(expected.shape) == fixed.analysis["w"].output.torch_size(2)
        torch.testing.assert_close(anything(x), expected)


def test_global_pooling_of_a_sequence_gives_features():
    for kind, reduce in (("globalAveragePooling1d", torch.mean), ("globalMaxPooling1d", torch.amax)):
        net = graphdl.dlnetwork(graphdl.loads(network(f"input = sequenceInput(4)\n g = {kind}()")))
        assert net.analysis["g"].output == Shape.features(4)
        x = torch.randn(2, 4, 7)
        torch.testing.assert_close(net(x), reduce(x, dim=-1))


@pytest.mark.parametrize("kind,function", [("adaptiveAveragePooling2d", F.adaptive_avg_pool2d), ("adaptiveMaxPooling2d", F.adaptive_max_pool2d)])
@pytest.mark.parametrize("output_size", [(5, 3), (12, 10), (16, 4), (1, 7)])
def test_adaptive_pooling_is_torchs_and_counts_each_windows_elements(kind, function, output_size):
    body = f"{IMAGE}\n a = {kind}([{output_size[0]}, {output_size[1]}])"
    net = graphdl.dlnetwork(graphdl.loads(network(body)))
    assert net.analysis["a"].output == Shape.image(*output_size, 3)
    x = torch.randn(2, 3, 12, 10, requires_grad=True)
    y, expected = net(x), function(x, output_size)
    torch.testing.assert_close(y, expected, rtol=0, atol=0)
    weights = torch.randn(y.shape)
    (gradient,) = torch.autograd.grad((y * weights).sum(), x)
    (expected_gradient,) = torch.autograd.grad((expected * weights).sum(), x)
    torch.testing.assert_close(gradient, expected_gradient)
    # One operation per element of each window, the windows overlapping where the sizes do not divide.
    rows = sum(math.ceil((i + 1) * 12 / output_size[0]) - math.floor(i * 12 / output_size[0]) for i in range(output_size[0]))
    cols = sum(math.ceil((j + 1) * 10 / output_size[1]) - math.floor(j * 10 / output_size[1]) for j in range(output_size[1]))
    assert net.analysis["a"].flops == rows * cols * 3


# ---- 1-D images ------------------------------------------------------------------------------------


@register
class Image1dInput(LayerKind):
    """A test-only input of 1-D images (width x channels), which no built-in input layer gives
    yet: the 1-D kinds slide over its width."""

    name = "testImage1dInput"
    category = "input"
    summary = "1-D images"

    def inputs(self, args):
        return ()

    def infer(self, args, inputs):
        return Inferred({"out": Shape.image(11, 3)})

    def build(self, args, inputs):
        return None


@pytest.mark.parametrize(
    "layer,width",
    [
        ('convolution1d(3, 4, stride=2, padding="same")', 6),
        ('convolution1d(3, 4, dilationFactor=2, padding="causal")', 11),
        ("transposedConv1d(3, 4, stride=2, cropping=[1, 0])", 22),
        ("maxPooling1d(2, stride=2)", 5),
        ("averagePooling1d(3, padding=1)", 11),
        ("globalAveragePooling1d()", 1),
        ("globalMaxPooling1d()", 1),
    ],
)
def test_1d_kinds_slide_over_the_width_of_a_1d_image(layer, width):
    body = f"input = testImage1dInput()\n w = {layer}"
    analysis = graphdl.analyze(graphdl.loads(network(body)))
    assert analysis["w"].output.format == "SC" and analysis["w"].output.spatial == (width,)
    assert_static_equals_runtime(body, batch=2)


# ---- inputs the kinds do not take -------------------------------------------------------------------


@pytest.mark.parametrize(
    "body,message",
    [
        (
            "input = featureInput(6)\n c = convolution1d(3, 4)",
            r"convolution1d needs a sequence of features \(channels x time\) or a 1-D image \(width x channels\), but gets 6 features",
        ),
        (f"{IMAGE}\n c = convolution3d(3, 4)", r"convolution3d needs a 3-D image input \(height x width x depth x channels\), but gets a 2-D image"),
        (f"{SEQUENCE}\n p = maxPooling2d(2)", "the 1-D layers"),
        ("input = sequenceInput([8, 7, 3])\n c = convolution2d(3, 4)", "works on single images, not on sequences of them"),
        (f"{SEQUENCE}\n c = convolution1d(12, 4)", r"the window of 12 is larger than its padded input of 9 steps"),
        (f"{IMAGE3D}\n p = maxPooling3d([2, 6, 2])", r"the 2x6x2 window is larger than its padded input 6x5x4"),
        (f'{SEQUENCE}\n p = maxPooling1d(2, padding="causal")', r'expected "same", a non-negative integer or a list of 2 \[before, after\]'),
        (f"{SEQUENCE}\n c = convolution1d(2, 4, padding=[1, 2, 3])", r'expected "same", "causal", a non-negative integer'),
    ],
)
def test_what_a_kind_cannot_take_is_reported(body, message):
    with pytest.raises(graphdl.GraphdlError, match=message):
        graphdl.loads(network(body))


def test_causal_is_a_1d_padding():
    assert Padding1d(causal=True).normalize("causal") == "causal"
    assert Padding1d().normalize((1, 2)) == ((1, 2),) and Padding1d().normalize(3) == ((3, 3),)


# ---- any geometry ------------------------------------------------------------------------------------


def _pads(padding, dims: int):
    """(before, after) per dimension of numeric padding, as written."""
    return [(padding[2 * i], padding[2 * i + 1]) for i in range(dims)]


def _torch_refuses(dims, kind, window, stride, dilation, pads, x) -> bool:
    x = F.pad(x, [p for pair in reversed(pads) for p in pair])
    try:
        if kind.startswith("convolution"):
            getattr(F, f"conv{dims}d")(x, torch.randn(2, x.shape[1], *window), stride=stride, dilation=dilation)
        else:
            getattr(F, f"max_pool{dims}d")(x, window, stride)
    except RuntimeError:
        return True
    return False


def _check_window(dims, source, x, kind, window, stride, dilation, padding):
    if padding in ("same", "causal"):
        pad = f'"{padding}"'
    else:
        pad = list(padding)
    if kind.startswith("convolution"):
        layer = f"w = {kind}({list(window)}, 2, stride={list(stride)}, dilationFactor={list(dilation)}, padding={pad})"
    else:
        layer = f"w = {kind}({list(window)}, stride={list(stride)}, padding={pad})"
    text = f"{source}\n {layer}"
    result = checked(text)
    if result.ok:
        assert_static_equals_runtime(text, batch=2)
    else:
        # Analysis refuses only a window that does not fit its padded input; torch refuses it too.
        assert [d.code for d in result.diagnostics] == ["E402"]
        assert _torch_refuses(dims, kind, window, stride, dilation, _pads(padding, dims), x)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    length=st.integers(1, 14),
    channels=st.integers(1, 3),
    window=st.integers(1, 5),
    stride=st.integers(1, 3),
    dilation=st.integers(1, 2),
    padding=st.one_of(st.just("same"), st.just("causal"), st.tuples(st.integers(0, 2), st.integers(0, 2))),
    kind=st.sampled_from(["convolution1d", "maxPooling1d", "averagePooling1d"]),
)
def test_1d_windows_agree_with_torch_for_any_geometry(length, channels, window, stride, dilation, padding, kind):
    if kind != "convolution1d":
        dilation = 1
        if padding == "causal":
            padding = "same"
    source = f"input = sequenceInput({channels}, length={length})"
    _check_window(1, source, torch.randn(2, channels, length), kind, (window,), (stride,), (dilation,), padding)


def _ceil_pool(x, kind, window, stride, pads):
    """Pooling rounding the number of windows up, by its definition: the windows that fit the
    padded input, and one more that overhangs it if some of it is left and the window starts
    before the padding after the input; each clipped to the padded input, its mean over what is
    left of it."""
    padded = F.pad(x, [p for pair in reversed(pads) for p in pair], value=float("-inf") if kind == "max" else 0.0)
    starts = []
    for n, k, s, (before, after) in zip(x.shape[2:], window, stride, pads):
        fitting = list(range(0, n + before + after - k + 1, s))
        left = fitting[-1] + k < n + before + after
        extra = fitting[-1] + s
        starts.append([*fitting, extra] if left and extra < n + before else fitting)
    out = torch.empty(*x.shape[:2], len(starts[0]), len(starts[1]))
    for i, top in enumerate(starts[0]):
        for j, left in enumerate(starts[1]):
            region = padded[:, :, top : top + window[0], left : left + window[1]]
            out[:, :, i, j] = region.amax((2, 3)) if kind == "max" else region.mean((2, 3))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=st.tuples(st.integers(1, 9), st.integers(1, 9)),
    window=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    stride=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    padding=st.tuples(*[st.integers(0, 2)] * 4),
    kind=st.sampled_from(["max", "average"]),
)
# torch's pool of the input padded first would count a window starting in the padding after it.
@example(sizes=(3, 3), window=(2, 2), stride=(2, 2), padding=(0, 2, 0, 2), kind="average")
@example(sizes=(4, 5), window=(3, 2), stride=(2, 3), padding=(1, 1, 0, 0), kind="max")
def test_rounding_up_counts_a_last_window_that_starts_before_the_padding_after_the_input(sizes, window, stride, padding, kind):
    pads = _pads(padding, 2)
    x = torch.randn(2, 2, *sizes)
    layer = f'{kind}Pooling2d({list(window)}, stride={list(stride)}, padding={list(padding)}, roundingMode="ceil")'
    text = f'input = imageInput([{sizes[0]}, {sizes[1]}, 2], normalization="none")\n p = {layer}'
    result = checked(text)
    if not result.ok:
        assert [d.code for d in result.diagnostics] == ["E402"]
        assert any(k > n + b + a for n, k, (b, a) in zip(sizes, window, pads))
        return
    net = graphdl.dlnetwork(graphdl.loads(network(text)))
    expected = _ceil_pool(x, kind, window, stride, pads)
    assert net.analysis["p"].output.spatial == tuple(expected.shape[2:])
    torch.testing.assert_close(net(x), expected)
    symmetric = all(b == a for b, a in pads) and all(b <= k // 2 for (b, _), k in zip(pads, window))
    if symmetric:
        pool = F.max_pool2d if kind == "max" else F.avg_pool2d
        torch.testing.assert_close(net(x), pool(x, window, stride, [b for b, _ in pads], ceil_mode=True), rtol=0, atol=0)


def test_rounding_is_floor_unless_asked_and_says_so():
    rounded = {}
    for mode in ("floor", "ceil"):
        graph = graphdl.loads(network(f'{IMAGE}\n p = maxPooling2d(3, stride=2, roundingMode="{mode}")'))
        rounded[mode] = graphdl.analyze(graph)["p"].output.spatial
    assert rounded == {"floor": (5, 4), "ceil": (6, 5)}
    default = graphdl.loads(network(f"{IMAGE}\n p = averagePooling2d(3, stride=2)"))
    assert graphdl.analyze(default)["p"].output.spatial == (5, 4)
    args = {"poolSize": (3, 3), "stride": (2, 2), "padding": ((0, 0), (0, 0)), "roundingMode": "ceil"}
    assert lookup("maxPooling2d").describe(args) == "3x3 max pooling with stride 2x2 and padding 0x0, rounding the number of windows up"
    with pytest.raises(graphdl.GraphdlError, match='expected one of "floor", "ceil", found "up"'):
        graphdl.loads(network(f'{IMAGE}\n p = maxPooling2d(3, roundingMode="up")'))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=st.tuples(*[st.integers(1, 6)] * 3),
    channels=st.integers(1, 2),
    window=st.tuples(*[st.integers(1, 3)] * 3),
    stride=st.tuples(*[st.integers(1, 3)] * 3),
    dilation=st.tuples(*[st.integers(1, 2)] * 3),
    padding=st.one_of(st.just("same"), st.tuples(*[st.integers(0, 2)] * 6)),
    kind=st.sampled_from(["convolution3d", "maxPooling3d", "averagePooling3d"]),
)
def test_3d_windows_agree_with_torch_for_any_geometry(sizes, channels, window, stride, dilation, padding, kind):
    if kind != "convolution3d":
        dilation = (1, 1, 1)
    source = f'input = image3dInput([{", ".join(map(str, sizes))}, {channels}], normalization="none")'
    _check_window(3, source, torch.randn(2, channels, *sizes), kind, window, stride, dilation, padding)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=st.tuples(st.integers(1, 6), st.integers(1, 6)),
    window=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    cropping=st.one_of(st.just("same"), st.tuples(*[st.integers(0, 3)] * 4)),
)
def test_transposed_windows_have_matlabs_sizes_for_any_geometry(sizes, window, stride, cropping):
    pad = '"same"' if cropping == "same" else list(cropping)
    text = (
        f'input = imageInput([{sizes[0]}, {sizes[1]}, 2], normalization="none")\n'
        f" t = transposedConv2d({list(window)}, 3, stride={list(stride)}, cropping={pad})"
    )
    result = checked(text)
    crops = ["same"] * 2 if cropping == "same" else [cropping[:2], cropping[2:]]
    if cropping == "same" and any(k < s for k, s in zip(window, stride)):
        assert [d.code for d in result.diagnostics] == ["E207"]
        return
    expected = tuple(matlab_transposed_size(n, k, s, c) for n, k, s, c in zip(sizes, window, stride, crops))
    if min(expected) < 1:
        assert [d.code for d in result.diagnostics] == ["E207"]
        return
    assert result.analysis["t"].output.spatial == expected
    assert_static_equals_runtime(text, batch=2)
