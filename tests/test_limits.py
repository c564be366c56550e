"""The limits are stated once (graphdl.limits) and raised from the environment, not edited."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from graphdl.limits import LIMITS, Limits, from_environment, raising


def test_the_environment_raises_the_limits_it_names():
    limits = from_environment("layers=10_000_000, repeat=5000000")
    assert (limits.layers, limits.repeat) == (10_000_000, 5_000_000)
    assert limits.ports == Limits().ports
    assert from_environment("") == Limits()


def test_a_typo_in_the_environment_is_ignored_with_a_warning():
    with pytest.warns(UserWarning, match="'layer=5' ignored.*the names: activation_bytes"):
        limits = from_environment("layer=5")
    assert limits == Limits()
    with pytest.warns(UserWarning, match="'repeat=-1' ignored"):
        from_environment("repeat=-1")


def test_a_diagnostic_says_how_to_raise_its_limit():
    assert raising("repeat") == f'the limit is repeat={LIMITS.repeat:,}, raised with the environment variable GRAPHDL_LIMITS="repeat=N"'


def test_the_command_line_takes_its_limits_from_the_environment(tmp_path):
    # Set lower here, so that the check is quick; raising works the same way.
    path = tmp_path / "deep.dlg"
    path.write_text("network deep {\n input = featureInput(2)\n r = relu() for i in 1..20\n}\n")
    command = [sys.executable, "-m", "graphdl", "check", str(path)]
    default = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "GRAPHDL_LIMITS": ""})
    assert default.returncode == 0, default.stderr
    lowered = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "GRAPHDL_LIMITS": "repeat=10"})
    assert lowered.returncode == 1 and "E231" in lowered.stderr and 'the limit is repeat=10, raised with the environment variable' in lowered.stderr
