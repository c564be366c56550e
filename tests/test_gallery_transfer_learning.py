"""examples/transfer_learning.py (the gallery's transfer learning): with tiny settings, the frozen
feature layers come out of fine-tuning exactly as they went in, the new head learns, the loss
falls, and the chart is written. The defaults (10 labelled digits of each new class) and their
results are in docs/gallery/transfer_learning.md."""

from __future__ import annotations

from conftest import example_script


def test_transfer_learning_freezes_the_features_and_trains_a_new_head(tmp_path, capsys, one_thread):
    results = example_script("transfer_learning").main(
        ["--images", "1000", "--test-images", "500", "--base-epochs", "2", "--epochs", "10", "--per-class", "10", "--out", str(tmp_path)]
    )
    printed = capsys.readouterr().out
    assert results["frozen"] == 8  # weight and bias of two convolutions and two batch normalizations
    assert results["frozen_unchanged"] == results["frozen"]
    assert results["head_changed"]
    assert "frozen learnables unchanged: 8 of 8" in printed
    for losses in (results["transfer_loss"], results["scratch_loss"]):
        assert sum(losses[-3:]) < sum(losses[:3])
    # Five new classes: answering at random is right one time in five.
    assert results["transfer_accuracy"] > 40
    assert (tmp_path / "transfer_learning.png").read_bytes()[:4] == b"\x89PNG"
