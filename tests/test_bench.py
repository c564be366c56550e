"""The benchmark still runs (its numbers live in bench/RESULTS.md, not in tests)."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_forward_benchmark_smoke_run():
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "forward.py"), "--quick"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "ratio" in result.stdout
