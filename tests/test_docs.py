"""Every example in docs/language.md checks clean, compiles and runs, as the page promises; so does
docs/custom-layers.md's custom kind."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import torch

import graphdl
from conftest import ROOT

DOCS = ROOT / "docs" / "language.md"
EXAMPLES = re.findall(r"```dlg\n(.*?)```", DOCS.read_text(), re.S)


def test_the_reference_has_examples():
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize("text", EXAMPLES, ids=[f"example{i + 1}" for i in range(len(EXAMPLES))])
def test_documented_example_runs(text, monkeypatch):
    monkeypatch.chdir(DOCS.parent)  # imports in the examples are relative to the page, then to examples/
    checked = graphdl.check_text(text, path="language.md", search_path=[ROOT / "examples"])
    assert checked.diagnostics == (), [d.render(checked.sources) for d in checked.diagnostics]
    net = graphdl.dlnetwork(checked.graph, seed=0)
    inputs = [torch.rand(checked.analysis[name].output.torch_size(2)) for name in net.input_names]
    outputs = net.predict(*inputs)
    # predict evaluates: outputs for training only (`output aux if training`) are not computed.
    evaluated = [name for name in net.output_names if name not in net.graph.training_outputs]
    assert len(outputs if isinstance(outputs, tuple) else (outputs,)) == len(evaluated)


@pytest.mark.slow
def test_the_custom_layer_example_runs():
    """In a fresh interpreter, as tests/test_plugins.py runs plugins: the example registers its kind
    for good, and the rest of this session's tests must not see it. Warnings are errors there too,
    as they are here (pyproject's filterwarnings)."""
    page = (ROOT / "docs" / "custom-layers.md").read_text()
    (example,) = re.findall(r"```python\n(.*?)```", page, re.S)
    run = f"exec(compile({example!r}, 'custom-layers.md', 'exec'), {{}})"
    result = subprocess.run([sys.executable, "-W", "error", "-c", run], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
