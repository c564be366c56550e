"""The seed, both halves (gallery item 1): examples/mnist_trainnet.py (the layer array, trainnet)
and examples/mnist_custom_loop.py (dlfeval, sgdmupdate, time-based decay, the loss plot), run in
this process on small settings. The defaults' results are in docs/gallery/seed.md."""

from __future__ import annotations

import re

from conftest import example_script


def test_the_layer_array_trains_in_one_call(tmp_path, capsys, one_thread):
    plot = tmp_path / "progress.png"
    results = example_script("mnist_trainnet").main(["--epochs", "2", "--images", "1280", "--plot", str(plot)])
    assert "test accuracy:" in capsys.readouterr().out
    losses = results["loss"]  # one per iteration: 2 epochs of 10 mini-batches of 128
    assert len(losses) == 20 and sum(losses[-3:]) < sum(losses[:3])
    assert results["accuracy"] > 50  # ten classes: chance is 10 %; the default 4 epochs of 5000 reach ~98 %
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_the_custom_loop_trains_with_its_own_plot(tmp_path, capsys, one_thread):
    plot = tmp_path / "loss.png"
    accuracy = example_script("mnist_custom_loop").main(["--epochs", "2", "--plot", str(plot)])
    printed = capsys.readouterr().out
    losses = [float(x) for x in re.findall(r"^epoch \d+/2  loss ([\d.]+)", printed, re.M)]
    assert len(losses) == 2 and losses[1] < losses[0]
    assert accuracy > 50  # two epochs of the seed's decaying learn rate; its 30 epochs reach 94 %
    assert plot.read_bytes()[:4] == b"\x89PNG"
