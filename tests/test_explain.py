"""`graphdl explain CODE`: every diagnostic code has a long explanation, and its example makes the
mistake it explains, which its fix corrects."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import ROOT
from graphdl.diagnostics import CODES, render
from graphdl.cli._explain import EXPLANATIONS, explain, explanation
from graphdl._frontend import check_source
from graphdl.source import Source

# The codes no single file can produce: an unreadable file, a missing import, an import cycle,
# and LayerGraph.replace_layer in Python.
WITHOUT_EXAMPLE = {"E001", "E003", "E004", "E215", "E501", "E502"}
WITH_EXAMPLE = sorted(code for code, e in EXPLANATIONS.items() if e.mistake is not None)


def check(text: str):
    return check_source(Source("example.dlg", text))


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_has_an_explanation(code):
    assert code in EXPLANATIONS, f"{code} ({CODES[code]}) has no explanation in graphdl/explain.py"
    e = EXPLANATIONS[code]
    assert e.code == code and e.title == CODES[code]
    assert 3 <= len(re.findall(r"[.?!](?:\s|$)", e.text)) <= 8, "an explanation is a few sentences"
    assert (e.mistake is None) == (e.fix is None)
    assert (e.mistake is None) == (code in WITHOUT_EXAMPLE)


def test_no_explanation_of_a_code_that_does_not_exist():
    from graphdl.cli._explain import _EXPLANATIONS

    codes = [e.code for e in _EXPLANATIONS]
    assert len(codes) == len(set(codes)), "one explanation per code"
    assert set(codes) <= set(CODES)


@pytest.mark.parametrize("code", WITH_EXAMPLE)
def test_the_mistake_gives_the_code_and_the_fix_checks_clean(code):
    e = EXPLANATIONS[code]
    mistake = check(e.mistake)
    assert [d.code for d in mistake.diagnostics][:1] == [code], [(d.code, d.message) for d in mistake.diagnostics]
    fixed = check(e.fix)
    assert fixed.ok and fixed.graph is not None, [(d.code, d.message) for d in fixed.diagnostics]
    assert not fixed.diagnostics, "the fix leaves no warning either"


@pytest.mark.parametrize("code", WITH_EXAMPLE)
def test_the_mistake_shows_this_mistake_only(code):
    mistake = check(EXPLANATIONS[code].mistake)
    assert {d.code for d in mistake.diagnostics} == {code}, [(d.code, d.message) for d in mistake.diagnostics]


@pytest.mark.parametrize("code", WITH_EXAMPLE)
def test_explain_shows_the_real_diagnostics_and_the_fix(code):
    e = EXPLANATIONS[code]
    text = explain(code)
    assert text.startswith(f"{code}: {CODES[code]}\n")
    checked = check(e.mistake)
    for d in checked.diagnostics:
        rendered = render(d, checked.sources)
        assert "\n".join("    " + line if line else "" for line in rendered.rstrip("\n").split("\n")) in text
    assert text.index("For example:") < text.index(f"[{code}]") < text.index("Fixed:")
    fixed = text[text.index("Fixed:") :]
    for line in e.fix.splitlines():
        assert ("    " + line if line else "") in fixed


@pytest.mark.parametrize("code", sorted(WITHOUT_EXAMPLE & set(CODES)))
def test_codes_without_an_example_are_explained_in_words(code):
    text = explain(code)
    assert text.startswith(f"{code}: {CODES[code]}\n")
    assert "For example:" not in text and "Fixed:" not in text


def test_codes_are_case_insensitive_and_unknown_ones_raise():
    assert explain("e201") == explain("E201") == explain(" E201 ")
    assert explanation("e305") is EXPLANATIONS["E305"]
    with pytest.raises(KeyError):
        explain("E999")
    with pytest.raises(KeyError):
        explain("")


def test_the_text_fits_a_terminal():
    for code in CODES:
        paragraph = explain(code).split("\n\n")[1]
        assert max(len(line) for line in paragraph.split("\n")) <= 80


def graphdl(*args):
    return subprocess.run([sys.executable, "-m", "graphdl", *args], capture_output=True, text=True, cwd=ROOT, timeout=600)


@pytest.mark.parametrize("given", ["E201", "e201"])
def test_the_command_prints_the_explanation(given):
    result = graphdl("explain", given)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == explain("E201")
    assert "error[E201]: unknown layer kind or block `convolution2D`" in result.stdout
    assert "\x1b[" not in result.stdout  # not a terminal


def test_the_command_rejects_an_unknown_code():
    result = graphdl("explain", "E999")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: no diagnostic code E999; codes: E001, E002, ")
    assert ", ".join(CODES) in result.stderr
    assert "Traceback" not in result.stderr
    typo = graphdl("explain", "e2011")
    assert typo.returncode == 2
    assert "did you mean" in typo.stderr and "`E201`" in typo.stderr
