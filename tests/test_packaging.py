"""The wheel carries everything `graphdl check` and `graphdl explain` need, the grammar and the
explanations of the codes included: built and installed (not editable) into a fresh virtual
environment, it checks the example and explains a code from any directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile

import pytest

from conftest import EXAMPLES, ROOT

pytestmark = pytest.mark.slow  # builds the wheel and installs it into a fresh virtual environment


def run(*args, **kwargs):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, **kwargs)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_the_wheel_installs_and_checks_in_a_fresh_venv(tmp_path):
    # Built from a copy without the checkout's build/ folder, whose stale files (a module since
    # deleted) setuptools would put in the wheel.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns("build", "dist", ".venv", ".git", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis"))
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", dist, source)
    (wheel,) = dist.glob("graphdl-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    modules = {path.relative_to(ROOT).as_posix() for path in (ROOT / "graphdl").rglob("*.py")}
    assert {name for name in names if name.endswith(".py")} == modules, "the wheel holds graphdl's modules, no more, no less"
    assert "graphdl/grammar/graphdl.lark" in names
    assert {f"graphdl/views/page/page.{suffix}" for suffix in ("html", "css", "js")} <= set(names), "the interactive page's template, style and script"
    assert {f"graphdl/codes/{path.name}" for path in (ROOT / "docs" / "codes").glob("*.md")} <= set(names)
    assert not any(name.startswith(("tests/", "examples/", "bench/")) for name in names)

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    run(bin_dir / "python", "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", wheel)
    # The front end's dependencies come from this environment's site-packages (no downloads in a
    # test); graphdl itself only from the fresh venv, and the work directory is not the source tree.
    environment = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]}
    where = run(
        bin_dir / "python",
        "-c",
        "import graphdl; from graphdl.syntax._grammar import grammar_text; print(graphdl.__file__); print(grammar_text()[:20])",
        cwd=tmp_path,
        env=environment,
    )
    assert str(env_dir) in where.stdout.splitlines()[0]
    result = run(bin_dir / "graphdl", "check", EXAMPLES / "mnist.dlg", cwd=tmp_path, env=environment)
    assert "network `mnist` is valid" in result.stdout
    explained = run(bin_dir / "graphdl", "explain", "E201", cwd=tmp_path, env=environment)
    assert explained.stdout.startswith("E201: unknown layer kind\n\nA layer is declared")
    assert "error[E201]: unknown layer kind or block `convolution2D`" in explained.stdout
    folder = run(bin_dir / "python", "-c", "from graphdl.cli._explain import codes_folder; print(codes_folder())", cwd=tmp_path, env=environment)
    assert str(env_dir) in folder.stdout, "the explanations come from the installed package"
