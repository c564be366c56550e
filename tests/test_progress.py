"""What training shows: plain lines in a log, one tqdm bar (rate, time left) within a terminal's
width, nothing at all with verbose=False, and the loss read back from the device only when shown."""

from __future__ import annotations

import io
import math
import os
import re
import sys
import threading

import pytest
import torch

import graphdl
from graphdl.train import TrainingProgressMonitor, training_options, trainnet

TINY = 'network tiny {\n input = featureInput(4, normalization="none")\n fc = fullyConnected(3)\n prob = softmax()\n}\n'
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def train(**options):
    """Two epochs of four iterations on a tiny classifier."""
    torch.manual_seed(0)
    X, T = torch.randn(16, 4), torch.randint(0, 3, (16,))
    net = graphdl.dlnetwork(graphdl.loads(TINY), seed=0)
    return trainnet(X, T, net, "crossentropy", training_options("sgdm", max_epochs=2, mini_batch_size=4, **options))


class Terminal:
    """A pseudo-terminal of a set width: the slave end is the stream written to, a thread drains the
    master end (a full pty buffer would block the writer) and keeps what was shown."""

    def __init__(self, columns: int):
        termios = pytest.importorskip("termios")
        import fcntl
        import struct

        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
        self.stream = os.fdopen(slave, "w", encoding="utf-8")
        self._chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 4096)
            except OSError:  # EIO once the slave end is closed
                return
            if not data:
                return
            self._chunks.append(data)

    def shown(self) -> str:
        """Close the terminal and return everything written to it."""
        self.stream.close()
        self._reader.join()
        os.close(self.master)
        return b"".join(self._chunks).decode("utf-8")


def test_a_log_gets_plain_lines_every_verbose_frequency_iterations_and_each_epoch(capsys):
    train(verbose_frequency=2)
    out = capsys.readouterr().out
    assert "\r" not in out and "\x1b" not in out
    lines = out.splitlines()
    assert [line.split("  ")[0] for line in lines] == ["iteration 2", "iteration 4", "epoch 1/2", "iteration 6", "iteration 8", "epoch 2/2"]


def test_a_terminal_gets_one_bar_within_its_width_with_a_rate_and_the_time_left(monkeypatch):
    terminal = Terminal(columns=60)
    monkeypatch.setattr(sys, "stdout", terminal.stream)
    train(verbose_frequency=1)
    shown = terminal.shown()
    pieces = [ANSI.sub("", piece) for piece in re.split(r"[\r\n]", shown)]
    bars = [piece for piece in pieces if "it/s" in piece]
    assert bars, shown
    assert all(len(piece) <= 60 for piece in pieces if piece.strip() and not piece.startswith("epoch ")), shown
    last = bars[-1]
    assert re.search(r"\d\d:\d\d<\d\d:\d\d", last) and re.search(r"[\d.]+it/s", last) and "8/8" in last, last
    # The bar replaces the verbose_frequency lines; the epoch lines stay, above it.
    assert not any(piece.startswith("iteration ") for piece in pieces)
    assert [piece.split("  ")[0] for piece in pieces if piece.startswith("epoch ")] == ["epoch 1/2", "epoch 2/2"]


def test_verbose_false_shows_nothing_even_on_a_terminal(monkeypatch, capsys):
    terminal = Terminal(columns=60)
    monkeypatch.setattr(sys, "stdout", terminal.stream)
    train(verbose=False)
    assert terminal.shown() == ""
    monkeypatch.undo()
    train(verbose=False)
    assert capsys.readouterr() == ("", "")


@pytest.fixture
def read_backs(monkeypatch):
    """Counts the calls that copy a tensor's value to the host: graphdl reads through `.cpu()` or
    `.item()` (then `float` or `tolist` on the host copy, not counted again)."""
    count = [0]
    for name in ("cpu", "item"):
        original = getattr(torch.Tensor, name)

        def counted(self, *args, _original=original, **kwargs):
            count[0] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counted)
    return count


def test_the_loss_is_read_back_only_when_the_bar_redraws(read_backs):
    stream = io.StringIO()
    # The first record draws; refresh_seconds=inf lets no other record redraw before close.
    monitor = TrainingProgressMonitor(["loss"], stream=stream, bar=True, refresh_seconds=math.inf)
    for i in range(1, 101):
        monitor.record(i, loss=torch.tensor(1.0 / i))
        monitor.progress = i
        monitor.update_info(epoch=1)
    assert read_backs[0] == 1
    monitor.close()
    assert read_backs[0] == 2
    assert "loss 0.0100" in stream.getvalue() and "100/100" in stream.getvalue()
    assert "\n" in stream.getvalue()  # the bar is left in place, with the run's rate


def test_trainnet_reads_the_loss_back_a_few_times_an_epoch_not_every_step(read_backs, capsys):
    torch.manual_seed(0)
    X, T = torch.randn(256, 4), torch.randint(0, 3, (256,))
    net = graphdl.dlnetwork(graphdl.loads(TINY), seed=0)
    options = training_options("sgdm", max_epochs=1, mini_batch_size=4, verbose_frequency=1000)
    read_backs[0] = 0
    _, info = trainnet(X, T, net, "crossentropy", options)
    assert info.iterations == 64
    # The epoch's NaN check and line, and the history of each metric: not one per step.
    assert read_backs[0] < 16
    assert capsys.readouterr().out.startswith("epoch 1/1")
