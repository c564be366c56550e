"""examples/lstm.py, the gallery's LSTM: smoke runs with a few hundred digits and one epoch. The
defaults (5000 digits, 12 epochs) reach ~99.8 %; see docs/gallery/lstm.md."""

from __future__ import annotations

import json

import pytest
import torch

from conftest import example_script


@pytest.fixture(scope="module")
def lstm_script():
    return example_script("lstm")


def test_images_become_sequences_of_rows(lstm_script):
    images = torch.arange(2 * 28 * 28, dtype=torch.float32).reshape(2, 1, 28, 28)
    sequences = lstm_script.as_sequences(images)
    assert sequences.shape == (2, 28, 28)  # (batch, features, time)
    torch.testing.assert_close(sequences[1, :, 5], images[1, 0, 5, :])  # time step 5 is row 5


def _run(lstm_script, tmp_path, *extra):
    out = tmp_path / "results.json"
    returned = lstm_script.main(["--images", "640", "--test-images", "300", "--epochs", "1", "--out", str(out), *extra])
    written = json.loads(out.read_text())
    assert written["accuracy"] == pytest.approx(returned["accuracy"])
    losses = written["loss"]
    assert len(losses) == 640 // 64  # one epoch of ten mini-batches
    assert sum(losses[-3:]) < sum(losses[:3])  # the loss falls
    return written


def test_the_classifier_learns(lstm_script, tmp_path, capsys):
    results = _run(lstm_script, tmp_path)
    assert results["accuracy"] > 15  # ten classes: chance is 10 %
    assert "test accuracy:" in capsys.readouterr().out


def test_the_sequence_to_sequence_variant_answers_at_every_step(lstm_script, tmp_path, capsys):
    results = _run(lstm_script, tmp_path, "--seq2seq")
    assert len(results["per_step_accuracy"]) == 28
    assert results["accuracy"] > 15
    assert "row 27:" in capsys.readouterr().out
