"""Static shapes against run-time shapes: for every catalog kind, what analysis infers is what the
compiled network produces, and the learnables analysis counts are the module's parameters."""

from __future__ import annotations

import math

import pytest
import torch
from catalog_cases import LENGTH, all_cases
from hypothesis import HealthCheck, given, settings, strategies as st

import graphdl
from conftest import network
from graphdl.catalog import kinds

CASES = all_cases()
IMAGE = 'input = imageInput([12, 10, 3], normalization="zscore")'


def assert_static_equals_runtime(text: str, batch: int = 3) -> None:
    graph = graphdl.loads(network(text))
    analysis = graphdl.analyze(graph)
    net = graphdl.dlnetwork(graph, seed=0)
    inputs = [_example(graph, analysis, name, batch) for name in net.input_names]
    names = list(analysis.order)
    for mode in ("train", "eval"):
        getattr(net, mode)()
        outputs = net.forward(*inputs, outputs=names)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        for name, value in zip(names, outputs):
            # A layer of several outputs (channelSplit) gives a tuple, one value per port.
            values = value if isinstance(value, tuple) else (value,)
            shapes = tuple(analysis[name].outputs.values())
            assert len(values) == len(shapes), name
            for part, shape in zip(values, shapes):
                assert tuple(part.shape) == shape.torch_size(batch, LENGTH), (name, str(shape))
    for name in names:
        module = getattr(net, name, None)
        counted = sum(p.numel() for p in module.parameters()) if module is not None else 0
        assert counted == analysis[name].num_learnables, name
        learnables = {p: tuple(v.shape) for (layer, p), v in zip(net.learnables.keys, net.learnables.values) if layer == name}
        assert learnables == dict(analysis[name].learnables), name
        state = {p: tuple(v.shape) for (layer, p), v in zip(net.state.keys, net.state.values) if layer == name}
        assert state == dict(analysis[name].state), name
    assert sum(p.numel() for p in net.parameters()) == analysis.num_learnables


def _example(graph, analysis, name: str, batch: int) -> torch.Tensor:
    """Random input for an input layer: values, or, where it feeds a word embedding, word indices
    from 1 to the smallest vocabulary it feeds."""
    size = analysis[name].output.torch_size(batch, LENGTH)
    words = [graph[c.destination].args["numWords"] for c in graph.outgoing(name) if graph[c.destination].kind == "wordEmbedding"]
    return torch.randint(1, min(words) + 1, size).float() if words else torch.randn(size)


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
    checked = graphdl.check_text(network(text), path="t.dlg")
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


@pytest.mark.parametrize(
    "body",
    [
        f"{IMAGE}\n c = convolution2d([3, 2], 5, stride=2, bias=false)",
        f"{IMAGE}\n f = fullyConnected(7, bias=false)",
        f'{IMAGE}\n c = convolution2d(3, 4, padding="same", bias=false)',
    ],
)
def test_flops_of_matrix_layers_agree_with_torchs_flop_counter(body):
    from torch.utils.flop_counter import FlopCounterMode

    graph = graphdl.loads(network(body.replace('normalization="zscore"', 'normalization="none"')))
    analysis = graphdl.analyze(graph)
    net = graphdl.dlnetwork(graph)
    with FlopCounterMode(display=False) as counter:
        net(torch.randn(analysis["input"].output.torch_size(3)))
    assert counter.get_total_flops() == 3 * analysis.flops
