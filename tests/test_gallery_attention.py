"""examples/attention.py, the gallery's vision transformer: a smoke run on a few hundred digits
learns, and draws attention maps that are the layer's own. The defaults (10,000 digits, 10
epochs) reach ~99 %; see docs/gallery/attention.md."""

from __future__ import annotations

import re

import pytest
import torch

import graphdl
from conftest import EXAMPLES, example_script


@pytest.fixture(scope="module")
def attention_script():
    return example_script("attention")


def test_the_vision_transformer_learns_and_draws_its_attention(attention_script, tmp_path, capsys, one_thread):
    results = attention_script.main(
        ["--images", "640", "--test-images", "300", "--epochs", "3", "--mini-batch-size", "16", "--width", "32", "--shown", "4", "--out", str(tmp_path)]
    )
    printed = capsys.readouterr().out
    assert "epoch 3/3" in printed and "test accuracy:" in printed
    losses = results["loss"]
    assert sum(losses[-5:]) < sum(losses[:5])  # the loss falls
    assert results["accuracy"] > 25  # ten classes: chance is 10 % (this run: ~45 %)
    maps = results["attention"]
    assert maps.shape == (4, 2, 16)  # 4 digits, 2 encoder blocks, 16 patches
    assert (maps >= 0).all()
    torch.testing.assert_close(maps.sum(-1), torch.ones(4, 2))  # each a distribution over the patches
    assert (tmp_path / "attention.png").read_bytes()[:4] == b"\x89PNG"
    assert re.search(r"wrote .*attention\.png", printed)


def test_the_weights_drawn_are_those_the_layer_computes(attention_script):
    """Recomputed weights times the layer's values, merged and projected, give the layer's output:
    the maps are what the network attends with, not a copy of its arithmetic that may drift."""
    net = graphdl.dlnetwork(graphdl.load(EXAMPLES / "attention.dlg", parameters={"width": 32}), seed=0)
    attention = net.layer_modules["encoder.2.attention"]
    x = torch.randn(3, 32, 17)  # (batch, channels, time): a class token and 16 patches
    with torch.no_grad():
        weights = attention_script.attention_weights(attention, x)
        assert weights.shape == (3, 4, 17, 17)
        values = attention.value(x.transpose(1, 2)).unflatten(-1, (4, -1)).transpose(1, 2)
        merged = (weights @ values).transpose(1, 2).flatten(2)
        torch.testing.assert_close(attention.output(merged).transpose(1, 2), attention(x))
