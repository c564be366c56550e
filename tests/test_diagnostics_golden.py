"""Golden files of diagnostics: each bad .dlg under tests/diagnostics/ and the text graphdl
prints for it (rustc's tests/ui style). A file named E123_*.dlg must report E123 first."""

from __future__ import annotations

import re

import pytest

import graphdl
from conftest import DIAGNOSTICS
from graphdl.diagnostics import render_all

CASES = sorted(DIAGNOSTICS.glob("*.dlg"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_diagnostics_match_golden(path, golden, monkeypatch):
    monkeypatch.chdir(path.parent)  # imports resolve from the file's folder; paths print short
    checked = graphdl.check(path.name)
    assert checked.diagnostics
    code = re.match(r"(E\d{3})_", path.name)
    if code:
        assert checked.diagnostics[0].code == code.group(1)
    golden(path.with_suffix(".stderr"), render_all(checked.diagnostics, checked.sources))


def test_every_code_reachable_from_text_has_a_golden_file():
    from graphdl.diagnostics import CODES

    covered = {p.name[:4] for p in CASES}
    # Files that cannot be read or written or are not graphdl's, missing programs, the command line's
    # options, a broken plugin, files over the size limit and imports nested past the limit
    # (tests/test_files.py), the Python API (editing, learnables and tables, Python values),
    # running (test_compile.py), importing from PyTorch, exporting and training.
    python_only = {
        "E001", "E006", "E007", "E008", "E009", "E010", "E011", "E012", "E013", "E015", "E016", "E215", "E226", "E227", "E228", "E229", "E230",
        "E501", "E502", "E503", "E504", "E601", "E701", "E702", "E801", "E802", "E803", "E804", "E805",
    }  # fmt: skip
    assert set(CODES) - python_only <= covered


def test_three_independent_mistakes_give_three_diagnostics():
    path = DIAGNOSTICS / "three_mistakes.dlg"
    checked = graphdl.check_text(path.read_text(), path=path.name)
    assert [d.code for d in checked.diagnostics] == ["E201", "E101", "E202"]
    assert [(d.span.line, d.span.column) for d in checked.diagnostics] == [(5, 13), (8, 38), (9, 32)]


def test_ten_independent_mistakes_give_ten_diagnostics():
    path = DIAGNOSTICS / "ten_mistakes.dlg"
    checked = graphdl.check_text(path.read_text(), path=path.name)
    assert [d.code for d in checked.diagnostics] == ["E201", "E202", "E203", "E207", "E205", "E101", "E204", "E210", "E402", "E211"]
    assert len({d.span.line for d in checked.diagnostics}) == 10
