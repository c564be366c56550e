"""The sequence and attention kinds compute what MATLAB's layers do: checked against torch's
recurrent modules and hand-written attention with the same weights, the sinusoidal formula and
1-based word indices; and their bad arguments and inputs are reported where they are written."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import graphdl
from conftest import compiled, network, run as run_layer

SEQUENCE = "input = sequenceInput(5)"
X = torch.randn(3, 5, 7, generator=torch.Generator().manual_seed(0))  # (batch, channels, time)


def run(body: str, x: torch.Tensor, layer: str):
    return run_layer(body, x, layer, scale=0.5)


def reference(torch_class, module: nn.Module, **kwargs) -> nn.Module:
    """A plain torch recurrent module with `module`'s weights."""
    plain = torch_class(module.input_size, module.hidden_size, batch_first=True, **kwargs)
    plain.load_state_dict(module.state_dict())
    return plain.eval()


# ---- recurrent layers ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind,torch_class,kwargs", [("lstm", nn.LSTM, {}), ("bilstm", nn.LSTM, {"bidirectional": True}), ("gru", nn.GRU, {})])
def test_recurrent_layers_are_torchs_on_the_transposed_sequence(kind, torch_class, kwargs):
    y, module = run(f"{SEQUENCE}\n r = {kind}(4)", X, "r")
    with torch.no_grad():
        expected, _ = reference(torch_class, module, **kwargs)(X.transpose(1, 2))
    torch.testing.assert_close(y, expected.transpose(1, 2))
    # "last" is the last step of that output: for bilstm the backward direction's output there
    # too, as MATLAB documents, not its final state.
    last, _ = run(f'{SEQUENCE}\n r = {kind}(4, outputMode="last")', X, "r")
    torch.testing.assert_close(last, expected[:, -1])
    assert last.shape == (3, 4 * (2 if kind == "bilstm" else 1))


def test_lstm_starts_with_matlabs_initializers():
    net = graphdl.dlnetwork(graphdl.loads(network(f"{SEQUENCE}\n l = bilstm(6)")), seed=0)
    for suffix in ("_l0", "_l0_reverse"):
        bias = getattr(net.l, "bias_ih" + suffix) + getattr(net.l, "bias_hh" + suffix)
        # unit-forget-gate: 1 for the forget gate (the second of input, forget, cell, output)
        torch.testing.assert_close(bias, torch.tensor([0.0] * 6 + [1.0] * 6 + [0.0] * 12))
        assert not getattr(net.l, "bias_hh" + suffix).any()
        recurrent = getattr(net.l, "weight_hh" + suffix).detach()  # orthogonal: orthonormal columns
        torch.testing.assert_close(recurrent.T @ recurrent, torch.eye(6), atol=1e-5, rtol=0)
        inputs = getattr(net.l, "weight_ih" + suffix).detach()  # glorot: within sqrt(6 / (in + out))
        assert inputs.abs().max() <= math.sqrt(6 / (5 + 24)) and inputs.std() > 0


def test_lstm_fed_features_is_an_error_that_says_what_it_got():
    with pytest.raises(graphdl.GraphdlError, match="lstm needs a sequence of feature vectors, but gets 6 features"):
        graphdl.loads(network("input = featureInput(6)\n l = lstm(4)"))
    checked = graphdl.check_text(network("input = featureInput(6)\n l = gru(4)"), path="t.dlg")
    assert [d.code for d in checked.diagnostics] == ["E403"]
    assert "sequenceInput" in checked.diagnostics[0].help


# ---- word embedding --------------------------------------------------------------------------------


def test_word_embedding_counts_words_from_one_and_maps_the_rest_to_the_last_row():
    words = torch.tensor([[[1.0, 2.0, 10.0, 0.0, 11.0, float("nan")]]])  # (batch 1, channel 1, 6 steps)
    y, module = run("input = sequenceInput(1)\n e = wordEmbedding(3, 10)", words, "e")
    assert module.weight.shape == (11, 3)  # MATLAB's: a row more for words out of the vocabulary
    rows = [0, 1, 9, 10, 10, 10]
    torch.testing.assert_close(y, module.weight.detach()[rows].T[None])
    with torch.no_grad():  # integers do as well as whole floats
        torch.testing.assert_close(module(words.nan_to_num(0).long()), y)


def test_word_embedding_refuses_what_is_no_word_index():
    _, module = compiled("input = sequenceInput(1)\n e = wordEmbedding(3, 10)", "e", scale=0.5)
    with pytest.raises(ValueError, match=r"whole numbers from 1 to 10, but gets 2\.5"):
        module(torch.tensor([[[1.0, 2.5]]]))
    _, strict = compiled('input = sequenceInput(1)\n e = wordEmbedding(3, 10, oovMode="error")', "e", scale=0.5)
    strict(torch.tensor([[[1.0, 10.0]]]))
    with pytest.raises(ValueError, match='OOVMode "error" gets 0'):
        strict(torch.tensor([[[1.0, 0.0]]]))
    with pytest.raises(graphdl.GraphdlError, match="one channel, but gets a sequence of 4 features"):
        graphdl.loads(network("input = sequenceInput(4)\n e = wordEmbedding(3, 10)"))


# ---- self-attention --------------------------------------------------------------------------------


def attention_by_hand(module, x: torch.Tensor, heads: int, causal: bool) -> torch.Tensor:
    steps = x.transpose(1, 2)  # (batch, time, channels)
    q, k, v = (steps @ p.weight.T + p.bias for p in (module.query, module.key, module.value))
    outputs = []
    for qh, kh, vh in zip(q.chunk(heads, dim=-1), k.chunk(heads, dim=-1), v.chunk(heads, dim=-1)):
        scores = qh @ kh.transpose(1, 2) / math.sqrt(qh.shape[-1])
        if causal:
            T = x.shape[-1]
            scores = scores.masked_fill(torch.ones(T, T).triu(1).bool(), float("-inf"))
        outputs.append(scores.softmax(-1) @ vh)
    merged = torch.cat(outputs, dim=-1)
    return (merged @ module.output.weight.T + module.output.bias).transpose(1, 2)


@pytest.mark.parametrize("mask", ["none", "causal"])
def test_self_attention_is_multi_head_scaled_dot_product_attention(mask):
    body = f'{SEQUENCE}\n a = selfAttention(2, 8, numValueChannels=6, outputSize=3, attentionMask="{mask}")'
    y, module = run(body, X, "a")
    assert y.shape == (3, 3, 7)
    with torch.no_grad():
        torch.testing.assert_close(y, attention_by_hand(module, X, heads=2, causal=mask == "causal"))
    defaults, _ = run(f"{SEQUENCE}\n a = selfAttention(1, 4)", X, "a")
    assert defaults.shape == X.shape  # outputSize "auto": the input's channels


def test_causal_attention_at_a_step_does_not_see_later_steps():
    net, _ = compiled(f'{SEQUENCE}\n a = selfAttention(2, 8, attentionMask="causal")', "a", scale=0.5)
    later = X.clone()
    later[..., 4:] += 10
    with torch.no_grad():
        y, changed = net(X), net(later)
    torch.testing.assert_close(changed[..., :4], y[..., :4])
    assert not torch.allclose(changed[..., 4:], y[..., 4:])
    free, _ = compiled(f"{SEQUENCE}\n a = selfAttention(2, 8)", "a", scale=0.5)
    with torch.no_grad():
        assert not torch.allclose(free(later)[..., :4], free(X)[..., :4])


def test_self_attention_learnables_have_torchs_names():
    analysis = graphdl.analyze(graphdl.loads(network(f"{SEQUENCE}\n a = selfAttention(2, 8, numValueChannels=4, outputSize=3)")))
    assert dict(analysis["a"].learnables) == {
        "query.weight": (8, 5), "query.bias": (8,), "key.weight": (8, 5), "key.bias": (8,),
        "value.weight": (4, 5), "value.bias": (4,), "output.weight": (3, 4), "output.bias": (3,),
    }


@pytest.mark.parametrize(
    "layer,argument,message",
    [
        ("selfAttention(3, 8)", "8", "numKeyChannels 8 is not divisible by numHeads 3"),
        ("selfAttention(2, 8, numValueChannels=5)", "5", "numValueChannels 5 is not divisible by numHeads 2"),
    ],
)
def test_heads_that_do_not_divide_the_channels_are_an_error_at_the_argument(layer, argument, message):
    text = network(f"{SEQUENCE}\n a = {layer}")
    with pytest.raises(graphdl.GraphdlError, match=message):
        graphdl.loads(text)
    (diagnostic,) = graphdl.check_text(text, path="t.dlg").diagnostics
    assert diagnostic.code == "E207"
    line = text.splitlines()[diagnostic.span.line - 1]
    assert line[diagnostic.span.column - 1 :].startswith(argument)


def test_auto_sizes_take_auto_or_a_positive_integer():
    checked = graphdl.check_text(network(f'{SEQUENCE}\n a = selfAttention(2, 8, outputSize="all")'), path="t.dlg")
    (problem,) = [d for d in checked.diagnostics if d.code == "E207"]
    assert '`outputSize`: expected "auto" or a positive integer, found "all"' in problem.message


# ---- position encodings ----------------------------------------------------------------------------


def test_position_embedding_is_the_embedding_of_positions_one_to_t():
    y, module = run(f"{SEQUENCE}\n p = positionEmbedding(4, 9)", X, "p")
    assert module.weight.shape == (9, 4)
    torch.testing.assert_close(y, module.weight.detach()[:7].T.expand(3, -1, -1))
    with pytest.raises(ValueError, match="up to 9 positions"):
        module(torch.randn(1, 5, 10))


def test_a_sequence_longer_than_max_position_is_an_error():
    text = network("input = sequenceInput(4, length=12)\n p = positionEmbedding(4, 10)")
    with pytest.raises(graphdl.GraphdlError, match="up to maxPosition 10 positions, but its input has 12 steps"):
        graphdl.loads(text)
    (diagnostic,) = graphdl.check_text(text, path="t.dlg").diagnostics
    assert diagnostic.code == "E207" and "at least 12" in diagnostic.help
    with pytest.raises(graphdl.GraphdlError, match="encodes the positions of a sequence, but gets 6 features"):
        graphdl.loads(network("input = featureInput(6)\n p = positionEmbedding(4, 10)"))


def test_sinusoidal_encoding_follows_the_formula():
    y, _ = run(f"{SEQUENCE}\n s = sinusoidalPositionEncoding(6)", X, "s")
    assert y.shape == (3, 6, 7)
    for p in range(7):
        for i in range(3):
            angle = p / 10000 ** (2 * i / 6)
            assert y[1, 2 * i, p].item() == pytest.approx(math.sin(angle), abs=1e-6)
            assert y[1, 2 * i + 1, p].item() == pytest.approx(math.cos(angle), abs=1e-6)
    checked = graphdl.check_text(network(f"{SEQUENCE}\n s = sinusoidalPositionEncoding(5)"), path="t.dlg")
    assert [d.code for d in checked.diagnostics] == ["E207"] and "even" in checked.diagnostics[0].message


def test_flops_count_each_step_of_a_fixed_length():
    def flops(body):
        return graphdl.analyze(graphdl.loads(network(body)))["l"].flops

    assert flops("input = sequenceInput(5, length=4)\n l = lstm(3)") == 4 * flops("input = sequenceInput(5)\n l = lstm(3)")
    assert flops("input = sequenceInput(5)\n l = bilstm(3)") == 2 * flops("input = sequenceInput(5)\n l = lstm(3)")
