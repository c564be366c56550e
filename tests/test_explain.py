"""`graphdl explain CODE`: every diagnostic code has a long explanation in docs/codes/, and its
example makes the mistake it explains, which its fix corrects."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import ROOT
from graphdl import check_text
from graphdl.cli._explain import codes_folder, explain, explanation, parse
from graphdl.diagnostics import CODES, render

CODES_DIR = ROOT / "docs" / "codes"
# The codes no single file can produce: files that cannot be read or written or are not graphdl's,
# missing programs, the command line's options, a missing import, an import cycle, a broken
# plugin, files over the size limit, imports outside the allowed folders or nested too deeply,
# the Python API (LayerGraph.replace_layer and disconnect, learnables and tables, Python values of
# the wrong type or that the language cannot write), running, importing from PyTorch, exporting
# and training.
WITHOUT_EXAMPLE = {
    "E001", "E003", "E004", "E006", "E007", "E008", "E009", "E010", "E011", "E012", "E013", "E014", "E015", "E016", "E215", "E226",
    "E227", "E228", "E229", "E230", "E501", "E502", "E503", "E504", "E601", "E701", "E702", "E801",
    "E802", "E803", "E804", "E805",
}  # fmt: skip
EXPLANATIONS = {code: explanation(code) for code in CODES if (CODES_DIR / f"{code}.md").is_file()}
WITH_EXAMPLE = sorted(code for code, e in EXPLANATIONS.items() if e.mistake is not None)
# The stages the codes are grouped by, in docs/decisions.md's words.
STAGES = {
    "E0": "Files and imports", "E1": "Syntax", "E2": "Names, arguments, blocks and sharing",
    "E3": "Structure", "E4": "Shapes", "E5": "Running", "E6": "Importing from PyTorch",
    "E7": "Exporting", "E8": "Training and data",
}  # fmt: skip


def check(text: str):
    return check_text(text, path="example.dlg")


def test_the_explanations_are_read_from_docs_codes_in_a_source_tree():
    assert codes_folder() == CODES_DIR


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_has_an_explanation(code):
    assert code in EXPLANATIONS, f"{code} ({CODES[code]}) has no explanation: write docs/codes/{code}.md"
    e = EXPLANATIONS[code]
    assert e.code == code and e.title == CODES[code], "the heading of the file is `# CODE: its title in CODES`"
    assert 3 <= len(re.findall(r"[.?!](?:\s|$)", e.text)) <= 8, "an explanation is a few sentences"
    assert (e.mistake is None) == (e.fix is None)
    assert (e.mistake is None) == (code in WITHOUT_EXAMPLE)


def test_no_explanation_of_a_code_that_does_not_exist():
    files = sorted(path.stem for path in CODES_DIR.glob("E*.md"))
    assert set(files) <= set(CODES), "a file in docs/codes/ for a code that graphdl.diagnostics.CODES lacks"
    for code in files:
        assert parse((CODES_DIR / f"{code}.md").read_text(encoding="utf-8"), code).code == code, "the file is named after its code"


def test_a_file_out_of_the_format_is_named_in_the_error():
    with pytest.raises(ValueError, match=r"E999\.md: the first line is not"):
        parse("E999: no hash\n\nText.\n", "E999.md")
    with pytest.raises(ValueError, match="not `## Example` then `## Fixed`"):
        parse("# E999: t\n\nText.\n\n## Fixed\n\n```dlg\nnetwork n {}\n```\n", "E999.md")
    with pytest.raises(ValueError, match="`## Example` holds something other than one ```dlg block"):
        parse("# E999: t\n\nText.\n\n## Example\n\nnetwork n {}\n\n## Fixed\n\n```dlg\nnetwork n {}\n```\n", "E999.md")


def index() -> str:
    """docs/codes/README.md: every code, by stage, linked to its file."""
    lines = [
        "# Diagnostic codes",
        "",
        "Every diagnostic graphdl reports has a stable code, explained in the file of that name here,",
        "as `graphdl explain CODE` prints it. Codes are grouped by the stage that reports them.",
        "This index is checked by tests/test_explain.py (`GRAPHDL_UPDATE_GOLDEN=1` rewrites it).",
    ]
    for prefix, stage in STAGES.items():
        codes = [code for code in CODES if code.startswith(prefix)]
        if codes:
            lines += ["", f"## {stage}", "", "| Code | Meaning |", "| --- | --- |"]
            lines += [f"| [{code}]({code}.md) | {CODES[code]} |" for code in codes]
    return "\n".join(lines) + "\n"


def test_the_index_lists_every_code(golden):
    assert {code[:2] for code in CODES} <= set(STAGES), "a code of a stage the index does not name"
    golden(CODES_DIR / "README.md", index())


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
    assert explanation("e305") == EXPLANATIONS["E305"]
    with pytest.raises(KeyError):
        explain("E999")
    with pytest.raises(KeyError):
        explain("")


def test_the_text_fits_a_terminal():
    for code in CODES:
        text = explain(code)
        words = text[: text.index("For example:")] if "For example:" in text else text
        assert max(len(line) for line in words.split("\n")) <= 80, code


def graphdl(*args):
    return subprocess.run([sys.executable, "-m", "graphdl", *args], check=False, capture_output=True, text=True, cwd=ROOT, timeout=600)


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
