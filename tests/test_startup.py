"""Each command loads only what it uses: `graphdl --help` starts in the time Python does, and only
`train`, `compile` and `export` load torch.

Each command runs in a fresh interpreter, which then says which of the heavy libraries it loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import EXAMPLES, ROOT

HEAVY = ("lark", "networkx", "torch", "numpy")

RUN = f"""
import contextlib, io, json, sys
from graphdl.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        status = main(sys.argv[1:])
    except SystemExit as e:
        status = e.code
print(json.dumps({{"status": status, "loaded": [m for m in {HEAVY!r} if m in sys.modules]}}))
"""


def loaded_by(tmp_path, *argv: str) -> tuple[object, set[str]]:
    env = {**os.environ, "GRAPHDL_CACHE_DIR": str(tmp_path / "cache")}
    result = subprocess.run([sys.executable, "-c", RUN, *argv], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    return outcome["status"], set(outcome["loaded"])


@pytest.mark.parametrize(
    ("argv", "status", "left_out"),
    [
        (["--help"], 0, {"lark", "networkx", "torch", "numpy"}),
        (["layers"], 0, {"lark", "networkx", "torch", "numpy"}),
        (["fmt", "--check", str(EXAMPLES / "mnist.dlg")], 0, {"networkx", "torch", "numpy"}),
        (["explain", "E201"], 0, {"torch", "numpy"}),
        (["check", str(EXAMPLES / "mnist.dlg")], 0, {"torch"}),
        (["summary", str(EXAMPLES / "mnist.dlg")], 0, {"torch"}),
        (["render", str(EXAMPLES / "mnist.dlg"), "-o", "{tmp}/mnist.dot"], 0, {"torch"}),
    ],
    ids=["help", "layers", "fmt", "explain", "check", "summary", "render"],
)
def test_a_command_leaves_out_what_it_does_not_use(tmp_path, argv, status, left_out):
    argv = [arg.replace("{tmp}", str(tmp_path)) for arg in argv]
    ran, loaded = loaded_by(tmp_path, *argv)
    assert ran == status
    assert not loaded & left_out, f"graphdl {' '.join(argv)} loaded {sorted(loaded & left_out)}"


def test_check_loads_the_front_end_it_needs(tmp_path):
    # The other side of the above: the lists of modules are not empty because nothing ran.
    _, loaded = loaded_by(tmp_path, "check", str(EXAMPLES / "mnist.dlg"))
    assert {"lark", "networkx"} <= loaded
