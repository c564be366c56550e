"""Shared fixtures: the repository's paths, and golden-file comparison.

Golden files hold the text outputs (diagnostics, generated code, DOT, summaries). A change in one
of them fails the test with a diff; after checking that the new text is right, rewrite them with
`GRAPHDL_UPDATE_GOLDEN=1 pytest`.
"""

from __future__ import annotations

import difflib
import json
import os
import sys
from pathlib import Path

import pytest

# The suite runs with graphdl's own limits and search path, whatever this shell has set (both are
# read from the environment, the limits once, when graphdl is imported, which is after this).
os.environ.pop("GRAPHDL_LIMITS", None)
os.environ.pop("GRAPHDL_PATH", None)
# With the tests shared among workers (pytest -n), each worker has a core: torch's threads, one a
# core by default, would have the workers fight for the cores, and a thread kept waiting for its
# partner on a busy core can make a step ten times as long. Set before torch is imported, and
# passed on to the processes the tests start.
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
    os.environ["OMP_NUM_THREADS"] = "1"

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden"
# A bad .dlg per diagnostic, beside the text graphdl prints for it (rustc's tests/ui style).
DIAGNOSTICS = Path(__file__).resolve().parent / "diagnostics"


def assert_golden(path: Path, actual: str) -> None:
    if os.environ.get("GRAPHDL_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no golden file {path.relative_to(ROOT)}; create it with GRAPHDL_UPDATE_GOLDEN=1")
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), "expected", "actual"))
        pytest.fail(f"{path.relative_to(ROOT)} differs:\n{diff}")


@pytest.fixture
def golden():
    return assert_golden


# ---- the examples: every network of every file in examples/, and their scripts -----------------


def example_script(name: str):
    """examples/NAME.py as a module, to run its main() in the test's process: a fresh interpreter
    would cost more than a smoke run's training."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def one_thread():
    """torch on one thread during the test: two threads on two busy cores can take ten times as long."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _example_networks() -> dict[str, tuple[Path, str | None]]:
    """Each network of each example, by name: the file's stem, and `stem-network` for a file of
    several networks (the names `graphdl render` gives their pictures)."""
    import graphdl

    found = {}
    for path in sorted(EXAMPLES.glob("*.dlg")):
        names = graphdl.networks(path)
        for name in names:
            found[path.stem if len(names) == 1 else f"{path.stem}-{name}"] = (path, name if len(names) > 1 else None)
    return found


EXAMPLE_NETWORKS = _example_networks()
# torch's recurrent modules branch on their input in Python (nn.LSTM.forward), which torch.fx
# cannot trace and torch.compile(fullgraph=True) refuses ("Dynamo does not support RNN, GRU, or
# LSTM"): the networks that hold one are traced and compiled by neither (docs/decisions.md).
_RECURRENT = ("lstm(", "bilstm(", "gru(")
TRACEABLE_EXAMPLES = [name for name, (path, _) in EXAMPLE_NETWORKS.items() if not any(kind in path.read_text() for kind in _RECURRENT)]


def load_example(name: str, **options):
    """The checked LayerGraph of the example network `name` (a key of EXAMPLE_NETWORKS)."""
    import graphdl

    path, network = EXAMPLE_NETWORKS[name]
    return graphdl.load(path, network=network, **options)


def check_example(name: str, **options):
    import graphdl

    path, network = EXAMPLE_NETWORKS[name]
    return graphdl.check(path, network=network, **options)


# ---- a notebook run in a real Jupyter kernel -------------------------------------------------------


def run_notebook(cells: list[str], folder: Path) -> list[list[dict]]:
    """Run `cells` as one notebook in a Jupyter kernel started in `folder`: each cell's outputs.
    A cell that raises fails the run."""
    import nbclient
    import nbformat
    from jupyter_client import AsyncKernelManager
    from jupyter_client.kernelspec import KernelSpecManager

    # The kernel runs this interpreter, whatever kernelspec named python3 the machine has.
    spec = folder / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "graphdl tests", "language": "python"}))
    kernel = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec.parent)]))
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(code) for code in cells]
    # cleanup_kc: nbclient leaves a kernel it was given running, with its sockets open.
    nbclient.NotebookClient(notebook, km=kernel, timeout=120, resources={"metadata": {"path": str(folder)}}).execute(cleanup_kc=True)
    return [cell.outputs for cell in notebook.cells]


# ---- a network of one body, for the catalog's tests -------------------------------------------


def network(body: str) -> str:
    """`body` as the text of a network `t`."""
    return "network t {\n" + body + "\n}\n"


def compiled(body: str, layer: str, scale: float = 1.0):
    """The network of `body` and its layer `layer`'s module, with random learnables (normal, times
    `scale`), so that a channel, gate or bias mixed up shows."""
    import torch

    import graphdl

    net = graphdl.dlnetwork(graphdl.loads(network(body)), seed=0)
    module = getattr(net, layer)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * scale)
    return net, module


def run(body: str, x, layer: str, scale: float = 1.0):
    """The layer's output for `x`, in inference, and its module; not `predict`, which takes a
    sequence of any length only one step long."""
    import torch

    net, module = compiled(body, layer, scale)
    with net.inference(), torch.no_grad():
        return net.forward(x, outputs=[layer]), module
