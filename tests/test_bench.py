"""The benchmark still runs (its numbers live in bench/RESULTS.md, not in tests)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow  # each runs a benchmark end to end, in fresh processes


def test_forward_benchmark_smoke_run():
    # Small batches: a smoke run shows the script works (builds, checks and times both networks);
    # the recorded runs use the default batch sizes (1 and 128, 1 and 16).
    command = [sys.executable, str(ROOT / "bench" / "forward.py"), "--quick", "--batch-sizes", "1", "4"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)
    # The benchmark exits with an error unless both networks give exactly the same output.
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    cases = {(row[0], row[1]) for row in rows if len(row) > 2 and row[0] in ("seed", "resnet18")}
    assert cases == {("seed", "1"), ("seed", "4"), ("resnet18", "1"), ("resnet18", "4")}
    ratios = [float(row[-3]) for row in rows if len(row) > 2 and row[0] in ("seed", "resnet18")]
    assert all(0 < ratio < 100 for ratio in ratios)


def test_training_step_benchmark_smoke_run():
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "train_step.py"), "--quick"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    solvers = [line.split()[0] for line in result.stdout.splitlines() if line.split()[:1] in (["sgdm"], ["adam"])]
    assert solvers == ["sgdm", "adam"]


def test_startup_benchmark_smoke_run():
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "startup.py"), "--quick"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # Each measurement printed its figures and its verdict against the target.
    verdicts = [line for line in lines if "(target:" in line]
    assert [line.split()[0] for line in verdicts] == ["check", "broken", "series", "residual"]
    assert all(line.rstrip(")").endswith(("met", "NOT met")) for line in verdicts)
    assert any(line.strip().startswith("graphdl check examples/mnist.dlg") for line in lines)


def test_training_benchmark_smoke_run():
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "train.py"), "--quick"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    # The benchmark exits with an error unless every loop ran the same number of iterations.
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    loops = [(row[0], row[1]) for row in rows if len(row) == 6 and row[0] in ("arrays", "dataloader")]
    assert loops == [("arrays", "trainnet"), ("arrays", "custom-loop"), ("arrays", "hand-written"), ("dataloader", "trainnet"), ("dataloader", "hand-written")]
    ratios = [float(row[4]) for row in rows if len(row) == 6 and row[0] in ("arrays", "dataloader")]
    assert all(0 < ratio < 100 for ratio in ratios)


def test_render_benchmark_smoke_run():
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "render.py"), "--quick"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if line.startswith("resnet18 ")]
    assert [" ".join(row[2:4]) if row[2] == "depth" else row[2] for row in rows] == ["full", "depth 1", "depth 2"]
    assert "a fresh process" in result.stdout
