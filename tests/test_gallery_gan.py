"""examples/gan.py (the gallery's conditional GAN): a couple of epochs on a handful of images train
both networks of gan.dlg in one custom loop, write the grids, and measure the samples."""

from __future__ import annotations

import math

import torch

import graphdl
from conftest import EXAMPLES, example_script


def test_the_gan_example_trains_both_networks_and_draws_its_grids(tmp_path, capsys, one_thread):
    results = example_script("gan").main(
        ["--images", "128", "--epochs", "2", "--decay-epochs", "1", "--mini-batch-size", "64", "--samples", "50",
         "--judge-epochs", "1", "--test-images", "100", "--out", str(tmp_path)]
    )
    printed = capsys.readouterr().out
    assert "epoch 2/2  iteration 4" in printed and "confident digits" in printed and "generated for" in printed
    assert math.isfinite(results["generator_loss"]) and math.isfinite(results["discriminator_loss"])
    # The generator the script trained is not the one it started from (the same seed).
    untrained = graphdl.dlnetwork(graphdl.load(EXAMPLES / "gan.dlg", network="generator"), seed=0)
    changed = [not torch.equal(value, results["generator"].learnables[layer, parameter]) for layer, parameter, value in untrained.learnables]
    assert all(changed)
    # It is conditional: the same latent vector asked for two different classes draws two images.
    generator = results["generator"]
    assert generator.input_names == ("noise", "label")
    Z = torch.randn(1, 64).repeat(2, 1)
    images = generator.predict(Z, torch.eye(10)[[3, 7]])
    assert images.shape == (2, 1, 28, 28) and not torch.allclose(images[0], images[1])
    # The measurement ran over every sample: its shares and counts add up.
    assert 0 <= results["confident"] <= 100 and 0 <= results["as_asked"] <= 100
    assert sum(results["per_class"]) == round(results["confident"] * 50 / 100)
    assert 0 <= results["judge_accuracy"] <= 100 and 0 <= results["ceiling"] <= 100
    for name in ("gan_epoch_01.png", "gan_epoch_02.png", "gan.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
