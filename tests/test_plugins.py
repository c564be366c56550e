"""Layer kinds from installed packages, through the `graphdl.layers` entry point: a real
distribution (its metadata written to a folder on the path), in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

PLUGIN = '''
from graphdl.catalog import Float, Inferred, LayerKind, Param, layer_spec, register


@register
class Scale(LayerKind):
    """Multiplies by a constant: a custom kind a plugin offers, with its own torch module (in a
    module of its own, so that loading the kind does not load torch), which it imports from."""

    name = "pluginScale"
    category = "activation"
    summary = "Multiplies its input by a factor"
    params = (Param("factor", Float(), positional=True),)
    importers = {"graphdl_scale_modules.Scaled": lambda m, x: layer_spec("pluginScale", x, factor=m.factor)}

    def infer(self, args, inputs):
        return Inferred({"out": inputs["in"]})

    def build(self, args, inputs):
        from graphdl_scale_modules import Scaled

        return Scaled(args["factor"])
'''

MODULES = '''
from torch import nn


class Scaled(nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor
'''


def install(folder, name: str, module_source: str) -> None:
    """A distribution as pip installs it: the module, and a .dist-info naming its entry point."""
    (folder / f"{name}.py").write_text(module_source)
    info = folder / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[graphdl.layers]\n{name} = {name}\n")


def install_scale(folder) -> None:
    install(folder, "graphdl_scale_plugin", PLUGIN)
    (folder / "graphdl_scale_modules.py").write_text(MODULES)


def run(folder, code: str):
    environment = {**os.environ, "PYTHONPATH": str(folder)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=environment, timeout=300)


def test_a_plugin_kind_works_like_a_built_in_one(tmp_path):
    install_scale(tmp_path)
    result = run(
        tmp_path,
        """
        import torch, graphdl
        graph = graphdl.loads("network p {\\n input = featureInput(3)\\n s = pluginScale(2.5)\\n}\\n")
        net = graphdl.dlnetwork(graph)
        x = torch.ones(2, 3)
        assert torch.equal(net(x), 2.5 * x)
        assert "pluginScale" in graphdl.summary(graph) and "pluginScale" in graphdl.to_dot(graph)
        try:
            graphdl.loads("network p {\\n input = featureInput(3)\\n s = pluginScale()\\n}\\n")
        except graphdl.GraphdlError as e:
            assert "missing required argument `factor`" in str(e)
        print("ok")
        """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.slow
def test_a_plugin_kind_imports_from_pytorch(tmp_path):
    install_scale(tmp_path)
    result = run(
        tmp_path,
        """
        from collections import OrderedDict
        import torch, graphdl
        from graphdl_scale_modules import Scaled
        module = torch.nn.Sequential(OrderedDict(fc=torch.nn.Linear(3, 3), s=Scaled(2.5)))
        graph = graphdl.from_torch(module, (3,), name="p")
        print(graphdl.to_dlg(graph), end="")
        net = graphdl.dlnetwork(graph)
        net.load_state_dict(module.state_dict())
        x = torch.randn(2, 3)
        with torch.no_grad():
            torch.testing.assert_close(net(x), module(x))
        """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "network p {\n    input = featureInput(3)\n    fc    = fullyConnected(3)\n    s     = pluginScale(2.5)\n}\n"


def test_a_broken_plugin_is_named(tmp_path):
    install(tmp_path, "graphdl_broken_plugin", "raise RuntimeError('needs a GPU driver')\n")
    result = run(tmp_path, "import graphdl.catalog")
    assert result.returncode != 0
    assert "the graphdl layer plugin 'graphdl_broken_plugin' (graphdl_broken_plugin) failed to load: RuntimeError: needs a GPU driver" in result.stderr
    # A GraphdlError of its own code, and an ImportError as a failed import is.
    assert "graphdl.diagnostics.DependencyError: error[E012]: the graphdl layer plugin" in result.stderr
