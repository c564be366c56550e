"""The activation and normalisation kinds compute what MATLAB's layers do: checked against torch's
functional equivalents (or the formula, where torch's differs from MATLAB's), and their bad
arguments and inputs are reported where they are written."""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F

import graphdl
from conftest import compiled, network, run

FEATURES = "input = featureInput(6)"
IMAGE = 'input = imageInput([5, 4, 6], normalization="none")'
SEQUENCE = "input = sequenceInput(6)"


X_FEATURES = torch.randn(4, 6, generator=torch.Generator().manual_seed(0)) * 3
X_IMAGE = torch.randn(3, 6, 5, 4, generator=torch.Generator().manual_seed(0)) * 2 + 1
X_SEQUENCE = torch.randn(3, 6, 7, generator=torch.Generator().manual_seed(0)) * 2 - 1


@pytest.mark.parametrize(
    "layer,expected",
    [
        ("clippedRelu(2.5)", lambda x: x.clamp(0, 2.5)),
        ("clippedRelu(ceiling=6)", lambda x: x.clamp(0, 6)),
        ("elu()", lambda x: F.elu(x)),
        ("elu(0.3)", lambda x: torch.where(x >= 0, x, 0.3 * (torch.exp(x) - 1))),
        ("gelu()", lambda x: F.gelu(x)),
        ("gelu()", lambda x: x * 0.5 * (1 + torch.erf(x / 2**0.5))),
        ('gelu(approximation="tanh")', lambda x: F.gelu(x, approximate="tanh")),
        ("tanh()", torch.tanh),
        ("sigmoid()", lambda x: 1 / (1 + torch.exp(-x))),
        ("swish()", lambda x: x * torch.sigmoid(x)),
        ("softplus()", lambda x: torch.log1p(torch.exp(x))),
        ("hardSigmoid()", lambda x: (x / 6 + 0.5).clamp(0, 1)),
        ("hardSigmoid()", F.hardsigmoid),
        ("hardSwish()", lambda x: x * (x + 3).clamp(0, 6) / 6),
        ("hardSwish()", F.hardswish),
    ],
)
@pytest.mark.parametrize("source,x", [(FEATURES, X_FEATURES), (IMAGE, X_IMAGE), (SEQUENCE, X_SEQUENCE)], ids=["features", "image", "sequence"])
def test_activations_compute_their_formula(layer, expected, source, x):
    y, _ = run(f"{source}\n a = {layer}", x, "a")
    torch.testing.assert_close(y, expected(x))


@pytest.mark.parametrize(
    "fun,expected",
    [
        ("abs", torch.abs),
        ("exp", torch.exp),
        ("log", lambda x: torch.log(x.abs())),
        ("sqrt", lambda x: torch.sqrt(x.abs())),
        ("square", lambda x: x * x),
        ("sigmoid", torch.sigmoid),
        ("tanh", torch.tanh),
        ("negate", lambda x: -x),
    ],
)
@pytest.mark.parametrize("source,x", [(FEATURES, X_FEATURES), (IMAGE, X_IMAGE), (SEQUENCE, X_SEQUENCE)], ids=["features", "image", "sequence"])
def test_function_applies_the_function_it_names(fun, expected, source, x):
    # log and sqrt of an absolute value, a layer before them, so that both are defined.
    before = "a = function(\"abs\")\n " if fun in ("log", "sqrt") else ""
    net = graphdl.dlnetwork(graphdl.loads(network(f"{source}\n {before}f = function(\"{fun}\")")))
    with torch.no_grad():
        torch.testing.assert_close(net.forward(x, outputs=["f"]), expected(x), rtol=0, atol=0)


def test_function_names_only_functions_of_its_list():
    with pytest.raises(graphdl.GraphdlError, match='did you mean "sqrt" or "square"'):
        graphdl.loads(network(f'{FEATURES}\n f = function("sqr")'))
    with pytest.raises(graphdl.GraphdlError, match=r'expected one of "abs", "exp", "log", "sqrt", "square", "sigmoid", "tanh", "negate", found "os\.system"'):
        graphdl.loads(network(f'{FEATURES}\n f = function("os.system")'))
    analysis = graphdl.analyze(graphdl.loads(network(f'{FEATURES}\n e = function("exp")\n s = function("sigmoid")')))
    assert (analysis["e"].flops, analysis["s"].flops) == (6, 18)


def test_layer_normalization_of_a_sequence_normalises_the_channels_of_each_step():
    y, m = run(f"{SEQUENCE}\n l = layerNormalization()", X_SEQUENCE, "l")
    expected = F.layer_norm(X_SEQUENCE.transpose(1, 2), (6,), m.weight, m.bias, 1e-5).transpose(1, 2)
    torch.testing.assert_close(y, expected)
    # Each step by itself: a step's output does not depend on the others.
    y_first, _ = run(f"{SEQUENCE}\n l = layerNormalization()", X_SEQUENCE[..., :1], "l")
    torch.testing.assert_close(y_first, y[..., :1])


def test_layer_normalization_of_features_normalises_all_of_them():
    y, m = run(f"{FEATURES}\n l = layerNormalization(epsilon=1e-3)", X_FEATURES, "l")
    torch.testing.assert_close(y, F.layer_norm(X_FEATURES, (6,), m.weight, m.bias, 1e-3))


def test_layer_normalization_of_an_image_normalises_channels_and_pixels_together():
    y, m = run(f"{IMAGE}\n l = layerNormalization()", X_IMAGE, "l")
    mean = X_IMAGE.mean(dim=(1, 2, 3), keepdim=True)
    var = X_IMAGE.var(dim=(1, 2, 3), keepdim=True, unbiased=False)
    normalised = (X_IMAGE - mean) / torch.sqrt(var + 1e-5)
    torch.testing.assert_close(y, normalised * m.weight[:, None, None] + m.bias[:, None, None])
    assert {name: tuple(p.shape) for name, p in m.named_parameters()} == {"weight": (6,), "bias": (6,)}


@pytest.mark.parametrize("source,x", [(FEATURES, X_FEATURES), (IMAGE, X_IMAGE), (SEQUENCE, X_SEQUENCE)], ids=["features", "image", "sequence"])
def test_group_normalization_is_torchs(source, x):
    y, m = run(f"{source}\n g = groupNormalization(3, epsilon=1e-4)", x, "g")
    torch.testing.assert_close(y, F.group_norm(x, 3, m.weight, m.bias, 1e-4))


@pytest.mark.parametrize("source,x", [(IMAGE, X_IMAGE), (SEQUENCE, X_SEQUENCE)], ids=["image", "sequence"])
def test_instance_normalization_normalises_each_channel_over_pixels_and_steps(source, x):
    y, m = run(f"{source}\n i = instanceNormalization()", x, "i")
    torch.testing.assert_close(y, F.instance_norm(x, weight=m.weight, bias=m.bias, eps=1e-5))


def _matlab_cross_channel(x, size, alpha, beta, k):
    """MATLAB's formula, channel by channel: the window reaches floor((size-1)/2) back and
    floor(size/2) ahead."""
    channels = x.shape[1]
    out = torch.empty_like(x)
    for c in range(channels):
        window = x[:, max(0, c - (size - 1) // 2) : min(channels, c + size // 2 + 1)]
        ss = (window**2).sum(1)
        out[:, c] = x[:, c] / (k + alpha * ss / size) ** beta
    return out


@pytest.mark.parametrize("size", [1, 3, 5])
def test_cross_channel_normalization_of_an_odd_window_is_torchs_local_response_norm(size):
    y, _ = run(f"{IMAGE}\n n = crossChannelNormalization({size}, alpha=0.5, beta=0.8, k=1.5)", X_IMAGE, "n")
    torch.testing.assert_close(y, F.local_response_norm(X_IMAGE, size, alpha=0.5, beta=0.8, k=1.5))


@pytest.mark.parametrize("source,x", [(FEATURES, X_FEATURES), (IMAGE, X_IMAGE), (SEQUENCE, X_SEQUENCE)], ids=["features", "image", "sequence"])
@pytest.mark.parametrize("size", [2, 4, 5, 9])
def test_cross_channel_normalization_follows_matlabs_window(source, x, size):
    y, module = run(f"{source}\n n = crossChannelNormalization({size}, alpha=0.5)", x, "n")
    torch.testing.assert_close(y, _matlab_cross_channel(x, size, 0.5, 0.75, 2.0))
    assert list(module.parameters()) == [] and list(module.buffers()) == []


@pytest.mark.parametrize(
    "source,size",
    [(SEQUENCE, (3, 6, 7)), ("input = sequenceInput([4, 3, 6])", (3, 6, 4, 3, 2)), ("input = sequenceInput([4, 3, 2, 6])", (3, 6, 4, 3, 2, 2))],
    ids=["sequence", "image-sequence", "3d-image-sequence"],
)
def test_batch_normalization_of_sequences_normalises_each_channel_over_batch_pixels_and_steps(source, size):
    x = torch.randn(size, generator=torch.Generator().manual_seed(2)) * 3 + 2
    net, m = compiled(f"{source}\n b = batchNormalization()", "b")
    net.train()
    y = net.forward(x, outputs=["b"])
    torch.testing.assert_close(y, F.batch_norm(x, None, None, m.weight, m.bias, training=True, eps=1e-5))
    dims = [d for d in range(x.dim()) if d != 1]
    torch.testing.assert_close(m.running_mean, 0.1 * x.mean(dims))


def test_flops_count_the_work_per_element():
    analysis = graphdl.analyze(graphdl.loads(network(f"{IMAGE}\n r = clippedRelu(1)\n s = sigmoid()\n g = gelu()\n n = crossChannelNormalization(5)")))
    elements = 5 * 4 * 6
    assert [analysis[name].flops for name in ("r", "s", "g", "n")] == [2 * elements, 3 * elements, 5 * elements, 9 * elements]


def test_unnamed_layers_are_named_as_matlab_names_them():
    kinds = (
        "clippedRelu(1) elu() gelu() tanh() sigmoid() swish() softplus() hardSigmoid() hardSwish() "
        "layerNormalization() groupNormalization(2) instanceNormalization() crossChannelNormalization(3)"
    )
    graph = graphdl.loads(network(f"{IMAGE}\n input -> " + " -> ".join(kinds.split())))
    names = "clippedrelu elu gelu tanh sigmoid swish softplus hardsigmoid hardswish layernorm groupnorm instancenorm crossnorm"
    assert [layer.name for layer in graph.layers if layer.name != "input"] == names.split()


# ---- diagnostics ---------------------------------------------------------------------------------


def _errors(body: str) -> list[str]:
    return [d.code for d in graphdl.check_text(network(body), path="t.dlg").diagnostics if d.is_error]


@pytest.mark.parametrize(
    "body,code,message",
    [
        (f"{FEATURES}\n r = clippedRelu(0)", "E207", "`ceiling`: expected a positive number, found 0"),
        (f"{FEATURES}\n r = clippedRelu(-2)", "E207", "`ceiling`: expected a positive number, found -2"),
        (f'{FEATURES}\n r = clippedRelu("high")', "E203", '`ceiling`: expected a positive number, found "high"'),
        (f"{FEATURES}\n r = clippedRelu()", "E205", "missing required argument `ceiling`"),
        (f'{FEATURES}\n e = elu("one")', "E203", "`alpha`: expected a number"),
        (f'{FEATURES}\n g = gelu(approximation="erf")', "E207", '`approximation`: expected one of "none", "tanh", found "erf"'),
        (f"{FEATURES}\n l = batchNormalization(epsilon=1e-6)", "E207", "`epsilon`: expected a number of at least 1e-05"),
        (f"{FEATURES}\n l = layerNormalization(epsilon=0)", "E207", "`epsilon`: expected a number of at least 1e-12"),
        (f"{FEATURES}\n g = groupNormalization(0)", "E207", "`numGroups`: expected a positive integer, found 0"),
        (f"{FEATURES}\n g = groupNormalization(2.5)", "E203", "`numGroups`: expected a positive integer, found 2.5"),
        (f"{FEATURES}\n g = groupNormalization(4)", "E207", "divides its 6 channels, but gets 4"),
        (f"{FEATURES}\n i = instanceNormalization()", "E403", "needs an image or a sequence, but gets 6 features"),
        (f"{FEATURES}\n n = crossChannelNormalization(0)", "E207", "`windowChannelSize`: expected a positive integer, found 0"),
        (f"{FEATURES}\n n = crossChannelNormalization(3, beta=0.001)", "E207", "`beta`: expected a number of at least 0.01"),
        (f"{FEATURES}\n n = crossChannelNormalization(3, k=0)", "E207", "`k`: expected a number of at least 1e-05"),
    ],
)
def test_bad_arguments_and_inputs_are_reported(body, code, message):
    with pytest.raises(graphdl.GraphdlError, match=f"error\\[{code}\\]: .*{re.escape(message)}"):
        graphdl.loads(network(body))
    assert _errors(body) == [code]


def test_a_group_count_that_does_not_divide_points_at_the_argument_and_lists_divisors():
    with pytest.raises(graphdl.GraphdlError) as raised:
        graphdl.loads(network(f"{IMAGE}\n g = groupNormalization(numGroups=4)"))
    text = str(raised.value)
    assert " --> <string>:3:" in text and "^" in text
    line = next(line for line in text.splitlines() if "groupNormalization(numGroups=4)" in line)
    caret = next(line for line in text.splitlines() if line.strip().startswith("|") and "^" in line)
    assert caret.index("^") == line.index("4)")
    assert "help: use one of 1, 2, 3, 6" in text
