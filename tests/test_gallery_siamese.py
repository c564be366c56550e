"""examples/siamese.py (gallery item 4): a few hundred pairs train the shared-weight twins and their
distance head, quickly, into a network that tells same from different better than chance, and it
draws its pairs with their verdicts."""

from __future__ import annotations

import re

import numpy as np

from conftest import example_script


def test_the_pairs_are_half_same_and_never_a_digit_with_itself():
    labels = np.repeat(np.arange(10), 3)  # three of each class: a "same" pair often draws the anchor itself
    left, right, same = example_script("siamese").make_pairs(labels, 1000, seed=0)
    assert same.sum() == 500 and (labels[left] == labels[right]).tolist() == same.tolist()
    assert not (left == right).any()


def test_the_siamese_example_learns_and_draws_its_pairs(tmp_path, capsys, one_thread):
    accuracy = example_script("siamese").main(
        ["--images", "500", "--pairs", "640", "--test-images", "500", "--test-pairs", "400", "--epochs", "3", "--mini-batch-size", "32",
         "--out", str(tmp_path)]
    )
    printed = capsys.readouterr().out
    assert "epoch 3/3" in printed and "test pair accuracy" in printed
    losses = [float(x) for x in re.findall(r"loss ([\d.]+)", printed)]
    assert losses[-1] < losses[0]
    # Half the test pairs are the same digit: chance is 50 %. The default run reaches ~97 %.
    assert accuracy > 60
    assert (tmp_path / "siamese.png").read_bytes()[:4] == b"\x89PNG"
