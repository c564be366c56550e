"""The README's Python examples run as written, one after the other, from the repository root."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.mark.slow
def test_readme_python_blocks_run(monkeypatch):
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert len(blocks) >= 2
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    checked = set()
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
        # What each block is for, checked right after it runs.
        if "scores = net.predict" in block:
            assert namespace["info"].epochs == 4 and namespace["scores"].shape == (5000, 10)
            checked.add("trainnet")
        if "sgdmupdate(net" in block:
            assert namespace["iteration"] == 39 and namespace["velocity"] is not None
            checked.add("custom loop")
        if "digits_two_heads" in block:
            assert namespace["info"].epochs == 1 and "softmax accuracy" in namespace["info"].history
            checked.add("two outputs")
        if "adamupdate(net" in block:
            assert namespace["iteration"] == 39 and namespace["square"] is not None
            checked.add("adam loop")
    assert checked == {"trainnet", "custom loop", "two outputs", "adam loop"}
    assert os.getcwd() == str(ROOT)


def test_readme_diagnostic_example_is_what_check_prints(tmp_path):
    readme = (ROOT / "README.md").read_text()
    source = re.search(r"For this `net.dlg`,\n\n```dlg\n(.*?)```", readme, re.S).group(1)
    shown = re.search(r"`graphdl check net.dlg` says\n\n```text\n(.*?)```", readme, re.S).group(1)
    (tmp_path / "net.dlg").write_text(source)
    result = subprocess.run(
        [sys.executable, "-m", "graphdl", "check", "net.dlg"], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 1
    assert result.stderr == shown
