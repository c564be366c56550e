"""Static shapes against run-time shapes: for every catalog kind, what analysis infers is what the
compiled network produces, and the learnables analysis counts are the module's parameters."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import graphdl
from graphdl.catalog import kinds
from graphdl.load import check_source
from graphdl.source import Source

IMAGE = "input = imageInput([12, 10, 3], normalization=\"zscore\")"
FEATURES = "input = featureInput(6)"

# One or more small networks per kind; together they use every kind and the arguments that change
# shapes. Each is a series network (no arrows) unless it wires itself.
CASES = {
    "imageInput": [IMAGE, 'input = imageInput([9, 7])'],
    "featureInput": [FEATURES, 'input = featureInput(6, normalization="rescale-symmetric")'],
    "convolution2d": [
        f"{IMAGE}\n c = convolution2d(3, 4)",
        f"{IMAGE}\n c = convolution2d([3, 2], 5, stride=[2, 3], padding=[1, 0])",
        f"{IMAGE}\n c = convolution2d(4, 2, padding=\"same\")",  # even filter: uneven padding
        f"{IMAGE}\n c = convolution2d(3, 2, stride=2, padding=\"same\")",
        f"{IMAGE}\n c = convolution2d(3, 2, dilationFactor=2, padding=[0, 1, 2, 3])",
    ],
    "fullyConnected": [f"{IMAGE}\n f = fullyConnected(7)", f"{FEATURES}\n f = fullyConnected(3)"],
    "batchNormalization": [f"{IMAGE}\n b = batchNormalization()", f"{FEATURES}\n b = batchNormalization(epsilon=1e-3)"],
    "relu": [f"{IMAGE}\n r = relu()"],
    "leakyRelu": [f"{FEATURES}\n r = leakyRelu(0.2)"],
    "softmax": [f"{IMAGE}\n s = softmax()", f"{FEATURES}\n s = softmax()"],
    "dropout": [f"{IMAGE}\n d = dropout(0.3)"],
    "maxPooling2d": [
        f"{IMAGE}\n p = maxPooling2d(2, stride=2)",
        f"{IMAGE}\n p = maxPooling2d(3)",
        f"{IMAGE}\n p = maxPooling2d(2, padding=\"same\")",
        f"{IMAGE}\n p = maxPooling2d([3, 2], stride=[2, 1], padding=[2, 0, 0, 1])",
    ],
    "averagePooling2d": [f"{IMAGE}\n p = averagePooling2d(2, stride=2)", f"{IMAGE}\n p = averagePooling2d(3, stride=2, padding=\"same\")"],
    "globalAveragePooling2d": [f"{IMAGE}\n g = globalAveragePooling2d()"],
    "flatten": [f"{IMAGE}\n f = flatten()", f"{FEATURES}\n f = flatten()"],
    "addition": [
        f"{IMAGE}\n a = relu()\n b = relu()\n add = addition(3)\n input -> a -> add/in1\n input -> b -> add/in2\n input -> add/in3"
    ],
    "concatenation": [
        f"{IMAGE}\n p = maxPooling2d([2, 1], stride=[2, 1])\n cat = concatenation(1)\n input -> p -> cat/in1\n input -> cat/in2",
        f"{FEATURES}\n f = fullyConnected(2)\n cat = concatenation(1, 2)\n input -> f -> cat/in1\n input -> cat/in2",
    ],
    "depthConcatenation": [f"{IMAGE}\n c = convolution2d(1, 5)\n cat = depthConcatenation(2)\n input -> c -> cat/in1\n input -> cat/in2"],
}


def network(body: str) -> str:
    return "network t {\n" + body + "\n}\n"


def assert_static_equals_runtime(text: str, batch: int = 3) -> None:
    graph = graphdl.loads(network(text))
    analysis = graphdl.analyze(graph)
    net = graphdl.dlnetwork(graph, seed=0)
    inputs = [torch.randn(analysis[name].output.torch_size(batch)) for name in net.input_names]
    names = list(analysis.order)
    for mode in ("train", "eval"):
        getattr(net, mode)()
        outputs = net.forward(*inputs, outputs=names)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        for name, value in zip(names, outputs):
            assert tuple(value.shape) == analysis[name].output.torch_size(batch), name
    for name in names:
        module = getattr(net, name, None)
        counted = sum(p.numel() for p in module.parameters()) if module is not None else 0
        assert counted == analysis[name].num_learnables, name
        learnables = {p: tuple(v.shape) for (layer, p), v in zip(net.learnables.keys, net.learnables.values) if layer == name}
        assert learnables == dict(analysis[name].learnables), name
        state = {p: tuple(v.shape) for (layer, p), v in zip(net.state.keys, net.state.values) if layer == name}
        assert state == dict(analysis[name].state), name
    assert sum(p.numel() for p in net.parameters()) == analysis.num_learnables


@pytest.mark.parametrize("kind,text", [(k, t) for k, texts in CASES.items() for t in texts])
def test_static_shapes_equal_runtime_shapes(kind, text):
    assert kind in text
    assert_static_equals_runtime(text)


def test_every_catalog_kind_is_covered():
    built_in = {k.name for k in kinds() if type(k).__module__.startswith("graphdl.catalog.")}
    assert built_in == set(CASES)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    height=st.integers(1, 14),
    width=st.integers(1, 14),
    channels=st.integers(1, 3),
    window=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    padding=st.one_of(st.just("same"), st.tuples(*[st.integers(0, 2)] * 4)),
    kind=st.sampled_from(["convolution2d", "maxPooling2d", "averagePooling2d"]),
)
def test_windows_agree_with_torch_for_any_geometry(height, width, channels, window, stride, dilation, padding, kind):
    pad = '"same"' if padding == "same" else list(padding)
    if kind == "convolution2d":
        layer = f"w = convolution2d({list(window)}, 2, stride={list(stride)}, dilationFactor={list(dilation)}, padding={pad})"
    else:
        layer = f"w = {kind}({list(window)}, stride={list(stride)}, padding={pad})"
    text = f"input = imageInput([{height}, {width}, {channels}], normalization=\"none\")\n {layer}"
    checked = check_source(Source("t.dlg", network(text)))
    if checked.ok:
        assert_static_equals_runtime(text, batch=2)
    else:
        # Analysis refuses only a window that does not fit its padded input; torch refuses it too.
        assert [d.code for d in checked.diagnostics] == ["E402"]
        assert _torch_refuses(kind, window, stride, dilation, padding, torch.randn(2, channels, height, width))


def _torch_refuses(kind, window, stride, dilation, padding, x) -> bool:
    import torch.nn.functional as F

    x = F.pad(x, (padding[2], padding[3], padding[0], padding[1]))
    try:
        if kind == "convolution2d":
            F.conv2d(x, torch.randn(2, x.shape[1], *window), stride=stride, dilation=dilation)
        else:
            F.max_pool2d(x, window, stride)
    except RuntimeError:
        return True
    return False


def test_shapes_print_as_matlab_writes_them():
    analysis = graphdl.analyze(graphdl.loads(network(f"{IMAGE}\n c = convolution2d(3, 4)\n f = fullyConnected(5)")))
    assert str(analysis["c"].output) == "10x8x4"
    assert analysis["c"].output.torch_size(1) == (1, 4, 10, 8)
    assert str(analysis["f"].output) == "5"
    assert math.prod(analysis["f"].learnables["weight"]) == 5 * 10 * 8 * 4
