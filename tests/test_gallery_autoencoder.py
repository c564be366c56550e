"""examples/autoencoder.py (gallery item 2): a few hundred images train it, quickly, into an
autoencoder that beats answering a blank image, and it draws its grid."""

from __future__ import annotations

import re

import pytest
import torch

from conftest import example_script
from graphdl.datasets import digits


@pytest.mark.parametrize("denoise", [False, True], ids=["plain", "denoise"])
def test_the_autoencoder_example_learns_and_draws_its_grid(tmp_path, capsys, denoise, one_thread):
    blank = torch.as_tensor(digits("test", size=500).images).pow(2).mean().item()  # the MSE of answering all black
    error = example_script("autoencoder").main(
        ["--images", "256", "--test-images", "500", "--epochs", "2", "--mini-batch-size", "8", "--out", str(tmp_path), *(["--denoise"] if denoise else [])]
    )
    printed = capsys.readouterr().out
    assert "epoch 2/2" in printed and "test per-pixel MSE" in printed
    losses = [float(x) for x in re.findall(r"loss ([\d.]+)", printed)]
    assert losses[-1] < losses[0]
    # The default run (4 epochs of 5,000 images) reaches ~0.002; two epochs of 256 images ~0.006.
    assert error < 0.3 * blank
    picture = tmp_path / ("autoencoder_denoise.png" if denoise else "autoencoder.png")
    assert picture.read_bytes()[:4] == b"\x89PNG"
