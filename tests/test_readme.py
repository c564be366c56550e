"""The README's Python examples run as written, one after the other, from the repository root."""

from __future__ import annotations

import os
import re

from conftest import ROOT


def test_readme_python_blocks_run(monkeypatch):
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert len(blocks) >= 2
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["info"].epochs == 4
    assert namespace["scores"].shape == (5000, 10)
    assert namespace["iteration"] == 39 and namespace["velocity"] is not None
    assert os.getcwd() == str(ROOT)
