"""The training-progress plot live in a Jupyter notebook: a real kernel runs a notebook (nbclient)
in which trainnet with plots="training-progress" and a custom loop's TrainingProgressMonitor show
one picture, redrawn in place; plots="none" shows none; and outside a kernel the monitor draws
nothing and does not even import IPython."""

from __future__ import annotations

import base64
import io
import subprocess
import sys
import textwrap

import pytest
from PIL import Image

from conftest import run_notebook

pytestmark = pytest.mark.slow  # each test starts a Jupyter kernel or a Python process

SETUP = """
import torch
import graphdl
from graphdl.datasets import digits

TINY = 'network tiny {\\n input = imageInput([28, 28, 1])\\n fc = fullyConnected(10)\\n prob = softmax()\\n}\\n'
train = digits("train", 64)

def train_tiny(**options):
    net = graphdl.dlnetwork(graphdl.loads(TINY), seed=0)
    options = graphdl.training_options(max_epochs=2, mini_batch_size=16, verbose=False, **options)
    return graphdl.trainnet(train.images, train.labels, net, "crossentropy", options)
"""

CELLS = {
    "training-progress": "net, info = train_tiny(plots='training-progress', plots_path={plot!r})",
    "none": "net, info = train_tiny(plots='none')",
    # Five records: the first draws the picture (one point), the next come sooner than the
    # redraw interval, so only close() redraws it, with all five; save() writes that same state.
    "custom loop": """
monitor = graphdl.TrainingProgressMonitor(["loss"])
for iteration in range(1, 6):
    monitor.record(iteration, loss=torch.tensor(1.0 / iteration))
monitor.close()
monitor.save({saved!r})
""",
}


@pytest.fixture(scope="module")
def notebook(tmp_path_factory):
    """The notebook run once in a kernel: each cell's outputs, by name, and the files it wrote."""
    folder = tmp_path_factory.mktemp("notebook")
    files = {"plot": folder / "progress.png", "saved": folder / "custom.png"}
    cells = [code.format(**{k: str(v) for k, v in files.items()}) for code in CELLS.values()]
    return dict(zip(CELLS, run_notebook([SETUP, *cells], folder)[1:])), files


def pictures(outputs) -> list[bytes]:
    return [base64.b64decode(o["data"]["image/png"]) for o in outputs if "image/png" in o.get("data", {})]


def assert_a_plot(png: bytes) -> None:
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG" and image.width > 500 and image.height > 200
    colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 50  # axes, text and lines, not a blank picture


def test_trainnet_with_the_training_progress_plot_shows_one_live_picture_and_writes_the_file(notebook):
    outputs, files = notebook
    shown = pictures(outputs["training-progress"])
    assert len(shown) == 1  # redrawn in place, not a picture per redraw
    assert_a_plot(shown[0])
    assert_a_plot(files["plot"].read_bytes())


def test_trainnet_with_plots_none_shows_no_picture(notebook):
    outputs, _ = notebook
    assert pictures(outputs["none"]) == []


def test_a_custom_loops_monitor_shows_its_final_plot_in_place(notebook):
    outputs, files = notebook
    shown = pictures(outputs["custom loop"])
    assert len(shown) == 1
    assert_a_plot(shown[0])
    # The same picture as the file of the final state: the first draw was replaced, not kept.
    assert shown[0] == files["saved"].read_bytes()


OUTSIDE = """
import sys
import torch
import graphdl
from graphdl.train import TrainingProgressMonitor
{before}
monitor = TrainingProgressMonitor(["loss"], bar=False)
for iteration in range(1, 6):
    monitor.record(iteration, loss=torch.tensor(1.0 / iteration))
monitor.plot()
monitor.close()
print("IPython imported:", "IPython" in sys.modules)
"""


def run_outside(before: str = "") -> str:
    code = textwrap.dedent(OUTSIDE).format(before=before)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_outside_a_kernel_the_live_plot_draws_nothing_and_imports_no_ipython():
    assert run_outside() == "IPython imported: False\n"


def test_a_terminal_ipython_has_no_page_to_draw_on():
    shell = "from IPython.core.interactiveshell import InteractiveShell\nInteractiveShell.instance()"
    assert run_outside(shell) == "IPython imported: True\n"  # and no picture's text in its place
