"""examples/vae.py (the gallery's variational autoencoder): a few hundred images train both networks
in one custom loop, quickly; the loss falls, the KL term is positive, the reconstructions beat a
blank image, and it draws both grids."""

from __future__ import annotations

import re

import torch

from conftest import example_script
from graphdl.datasets import digits


def test_the_vae_example_learns_and_draws_its_grids(tmp_path, capsys, one_thread):
    blank = torch.as_tensor(digits("test", size=200).images).pow(2).mean().item()  # the MSE of answering all black
    results = example_script("vae").main(
        ["--images", "256", "--test-images", "200", "--epochs", "3", "--mini-batch-size", "16", "--classifier-epochs", "1", "--out", str(tmp_path)]
    )
    printed = capsys.readouterr().out
    assert "epoch 3/3" in printed and "test per-pixel MSE" in printed and "confidence > 0.9" in printed
    losses = [float(x) for x in re.findall(r"epoch \d/3  loss ([\d.]+)", printed)]
    assert losses[-1] < losses[0]
    assert results["kl"] > 0
    assert 0 <= results["confident_samples"] <= 1
    assert results["mse"] < 0.8 * blank
    for name in ("vae_samples.png", "vae_reconstructions.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
