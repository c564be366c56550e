"""Every example in examples/ works as its documentation says."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import torch

import graphdl
from conftest import EXAMPLE_NETWORKS, EXAMPLES, ROOT, check_example

SCRIPTS = sorted(EXAMPLES.glob("*.py"))


@pytest.mark.parametrize("name", EXAMPLE_NETWORKS)
def test_each_network_checks_compiles_and_runs(name):
    checked = check_example(name)
    assert checked.ok and checked.diagnostics == ()
    net = graphdl.dlnetwork(checked.graph, seed=0)
    inputs = [torch.rand(checked.analysis[name].output.torch_size(2)) for name in net.input_names]
    outputs = net.predict(*inputs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    assert len(outputs) == len(net.output_names)
    for name, value in zip(net.output_names, outputs):
        assert tuple(value.shape) == checked.analysis[name].output.torch_size(2)


def test_every_script_is_tested_here():
    assert [p.name for p in SCRIPTS] == [
        "attention.py", "autoencoder.py", "custom_loop_ddp.py", "digits_two_heads_train.py", "gan.py", "lstm.py", "mnist_custom_loop.py",
        "mnist_trainnet.py", "siamese.py", "transfer_learning.py", "vae.py",
    ]


@pytest.mark.slow
def test_the_two_heads_example_learns_the_class_and_the_angle(tmp_path):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "digits_two_heads_train.py"), "--epochs", "2"], capture_output=True, text=True, cwd=tmp_path, timeout=600
    )
    assert result.returncode == 0, result.stderr
    assert "epoch 2/2" in result.stdout and "softmax accuracy" in result.stdout
    found = re.search(r"test accuracy: ([\d.]+)%  angle RMSE: ([\d.]+) degrees", result.stdout)
    accuracy, rmse = float(found.group(1)), float(found.group(2))
    assert accuracy > 80  # ten classes: chance is 10 %; 8 epochs reach ~98 %
    # Angles are uniform in [-45, 45] degrees: always answering 0 gives an RMSE of 26.
    assert rmse < 15


@pytest.mark.slow
def test_the_seed_network_reaches_95_percent_in_four_epochs():
    # The acceptance bar of the quick start: `graphdl train examples/mnist.dlg`, default options.
    result = subprocess.run(
        [sys.executable, "-m", "graphdl", "train", str(EXAMPLES / "mnist.dlg")],
        capture_output=True, text=True, cwd=ROOT, timeout=900,
    )
    assert result.returncode == 0, result.stderr
    # A line at each epoch's end and every verbose_frequency (50) iterations, as MATLAB's verbose output.
    assert {int(epoch) for epoch in re.findall(r"^epoch (\d)/4 ", result.stdout, re.MULTILINE)} == {1, 2, 3, 4}
    assert re.search(r"^epoch 4/4  iteration 156 ", result.stdout, re.MULTILINE), result.stdout  # 4 x 39 mini-batches of 128
    accuracy = float(re.search(r"test accuracy: ([\d.]+)%", result.stdout).group(1))
    assert accuracy >= 95.0, result.stdout


@pytest.mark.slow
def test_the_distributed_custom_loop_example_follows_one_process(tmp_path):
    # Two processes by torchrun, as its docstring says, against the same loop alone.
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    script, common = str(EXAMPLES / "custom_loop_ddp.py"), ["--epochs", "2", "--images", "512"]
    alone = subprocess.run([sys.executable, script, *common, "--save", str(tmp_path / "alone.pt")], capture_output=True, text=True, timeout=600,
                           env=environment)
    assert alone.returncode == 0, alone.stderr
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    together = subprocess.run([*torchrun, script, *common, "--save", str(tmp_path / "two.pt")], capture_output=True, text=True, timeout=600,
                              env=environment)
    assert together.returncode == 0, together.stderr
    assert together.stdout.count("epoch 2/2  loss") == 1
    expected = torch.load(tmp_path / "alone.pt", weights_only=True)
    for path in (tmp_path / "two.pt", tmp_path / "two.pt.1"):
        for key, value in torch.load(path, weights_only=True).items():
            torch.testing.assert_close(value, expected[key], atol=1e-5, rtol=0)
    first_losses = [float(x) for x in re.findall(r"loss ([\d.]+)", together.stdout)]
    assert first_losses == pytest.approx([float(x) for x in re.findall(r"loss ([\d.]+)", alone.stdout)], abs=2e-4)
