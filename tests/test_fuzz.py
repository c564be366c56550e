"""The fuzzer in the suite (issue 12): a few hundred seeded mutants of the examples and the docs'
networks, and of saved network files, each checked in a worker with a time and memory limit.
None may end in a traceback, a hang, a memory failure, a diagnostic without a position, or a
valid network whose run disagrees with its inferred shapes. `python tests/fuzz_dlg.py --cases
10000` runs thousands (bench/RESULTS.md)."""

from __future__ import annotations

import pytest
from fuzz_dlg import dlg_cases, network_file_cases, run

pytestmark = pytest.mark.slow  # worker processes and a few hundred cases: the full suite runs them, the quick subset does not


def failures_shown(failures) -> str:
    return "\n".join(f"#{index} ({name}) {kind}: {detail}\n{case[:300]!r}" for index, name, kind, detail, case in failures[:5])


def test_mutated_dlg_files_get_answers_with_positions():
    counts, failures = run(dlg_cases(seed=1, count=400), seconds=5, memory_gib=4, workers=2)
    assert not failures, failures_shown(failures)
    assert counts["valid"] > 10 and counts["diagnostics"] > 200  # the mutants reach both sides


def test_mutated_network_files_are_loaded_or_refused_with_a_diagnostic():
    counts, failures = run(network_file_cases(seed=1, count=120), seconds=10, memory_gib=4, workers=2, network_files=True)
    assert not failures, [(index, kind, detail) for index, _, kind, detail, _ in failures[:5]]
    assert counts["diagnostics"] > 40
