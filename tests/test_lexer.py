"""The Pygments lexer (graphdl/editor/lexer.py): Pygments finds it through its entry point, it
colours every example and every ```dlg block of the docs without an error token, giving back the
text it was given, and it reads the contextual keywords as the grammar does."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename, get_lexer_for_mimetype
from pygments.token import Comment, Error, Keyword, Name, Number, Operator, Punctuation, String, Whitespace

from conftest import ROOT
from graphdl.editor.lexer import DlgLexer


def texts() -> dict[str, str]:
    found = {f"examples/{p.name}": p.read_text(encoding="utf-8") for p in sorted((ROOT / "examples").glob("*.dlg"))}
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for n, block in enumerate(re.findall(r"```dlg\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)):
            found[f"{doc.relative_to(ROOT)}#{n}"] = block
    return found


TEXTS = texts()


def tokens(text: str) -> list[tuple[object, str]]:
    """The tokens of one line, without its spaces."""
    return [(kind, value) for kind, value in DlgLexer().get_tokens(text) if kind is not Whitespace]


@pytest.mark.parametrize("lookup", [
    lambda: get_lexer_by_name("dlg"),
    lambda: get_lexer_by_name("graphdl"),
    lambda: get_lexer_for_filename("examples/mnist.dlg"),
    lambda: get_lexer_for_mimetype("text/x-graphdl"),
], ids=["alias dlg", "alias graphdl", "file name", "mimetype"])
def test_pygments_finds_the_lexer_through_its_entry_point(lookup):
    assert type(lookup()) is DlgLexer


def test_every_example_and_documented_block_is_lexed_whole_without_an_error_token():
    assert len([name for name in TEXTS if name.startswith("docs/")]) >= 30  # the docs' blocks are found
    lexer = DlgLexer(stripnl=False, ensurenl=False)
    for name, text in TEXTS.items():
        found = list(lexer.get_tokens(text))
        assert "".join(value for _, value in found) == text, name
        assert [value for kind, value in found if kind in Error] == [], name


def test_a_lookup_does_not_load_the_catalog():
    """Pygments imports every plugin lexer on any lookup: ours must cost little to import."""
    probe = "import sys, graphdl.editor.lexer; print(sorted(m for m in ('graphdl.catalog', 'torch') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


DECLARATION, VARIABLE = Keyword.Declaration, Name.Variable


@pytest.mark.parametrize(("line", "expected"), [
    ('import "blocks.dlg"  # shared', [(Keyword.Namespace, "import"), (String.Double, '"blocks.dlg"'), (Comment.Single, "# shared")]),
    ("network small(classes = 10) {", [
        (DECLARATION, "network"), (Name.Class, "small"), (Punctuation, "("), (Name, "classes"), (Operator, "="),
        (Number.Integer, "10"), (Punctuation, ")"), (Punctuation, "{"),
    ]),
    ("block convbn(c) {", [(DECLARATION, "block"), (Name.Class, "convbn"), (Punctuation, "("), (Name, "c"), (Punctuation, ")"), (Punctuation, "{")]),
    ("    input x, y", [(DECLARATION, "input"), (VARIABLE, "x"), (Punctuation, ","), (VARIABLE, "y")]),
    ("    output aux if training", [(DECLARATION, "output"), (VARIABLE, "aux"), (Keyword, "if"), (Name, "training")]),
    ("    let half = width // 2", [(DECLARATION, "let"), (Name.Constant, "half"), (Operator, "="), (Name, "width"), (Operator, "//"), (Number.Integer, "2")]),
    # Keywords only at a statement's start before a name: here they are layers' names.
    ("    input = imageInput([28, 28, 1])", [
        (VARIABLE, "input"), (Operator, "="), (Name.Builtin, "imageInput"), (Punctuation, "("), (Punctuation, "["),
        (Number.Integer, "28"), (Punctuation, ","), (Number.Integer, "28"), (Punctuation, ","), (Number.Integer, "1"),
        (Punctuation, "]"), (Punctuation, ")"),
    ]),
    ("    network = relu()", [(VARIABLE, "network"), (Operator, "="), (Name.Builtin, "relu"), (Punctuation, "("), (Punctuation, ")")]),
    ("    let = softmax()", [(VARIABLE, "let"), (Operator, "="), (Name.Builtin, "softmax"), (Punctuation, "("), (Punctuation, ")")]),
    # A call of a name the catalog does not know is a block's.
    ("    stage.0 = convbn(16 * i, stride=2) for i in 1..3", [
        (VARIABLE, "stage.0"), (Operator, "="), (Name.Function, "convbn"), (Punctuation, "("), (Number.Integer, "16"),
        (Operator, "*"), (Name, "i"), (Punctuation, ","), (Name, "stride"), (Operator, "="), (Number.Integer, "2"),
        (Punctuation, ")"), (Keyword, "for"), (Name, "i"), (Keyword, "in"), (Number.Integer, "1"), (Operator, ".."),
        (Number.Integer, "3"),
    ]),
    ("    right = tower() shares left", [
        (VARIABLE, "right"), (Operator, "="), (Name.Function, "tower"), (Punctuation, "("), (Punctuation, ")"),
        (Keyword, "shares"), (Name, "left"),
    ]),
    # Ports beside arrows; elsewhere `/` divides.
    ("    x -> cat/in2 -> add/in1", [
        (Name, "x"), (Operator, "->"), (Name, "cat"), (Punctuation, "/"), (Name.Attribute, "in2"), (Operator, "->"),
        (Name, "add"), (Punctuation, "/"), (Name.Attribute, "in1"),
    ]),
    ("    split/out2 -> fc", [(Name, "split"), (Punctuation, "/"), (Name.Attribute, "out2"), (Operator, "->"), (Name, "fc")]),
    ("    fc = fullyConnected(width/2)", [
        (VARIABLE, "fc"), (Operator, "="), (Name.Builtin, "fullyConnected"), (Punctuation, "("), (Name, "width"),
        (Operator, "/"), (Number.Integer, "2"), (Punctuation, ")"),
    ]),
    ("    if stride != 1 or not true {", [
        (Keyword, "if"), (Name, "stride"), (Operator, "!="), (Number.Integer, "1"), (Operator.Word, "or"),
        (Operator.Word, "not"), (Keyword.Constant, "true"), (Punctuation, "{"),
    ]),
    ("    d = dropout(0.5, scale=1e-3, mode='a')", [
        (VARIABLE, "d"), (Operator, "="), (Name.Builtin, "dropout"), (Punctuation, "("), (Number.Float, "0.5"),
        (Punctuation, ","), (Name, "scale"), (Operator, "="), (Number.Float, "1e-3"), (Punctuation, ","), (Name, "mode"),
        (Operator, "="), (String.Single, "'a'"), (Punctuation, ")"),
    ]),
], ids=lambda value: value if isinstance(value, str) else "")
def test_tokens(line, expected):
    assert tokens(line) == expected


def test_inside_brackets_no_statement_starts():
    """A wrapped argument list: `input` and `padding=` at a line's start are an argument's names."""
    text = "conv = convolution2d(3,\n    input,\n    padding=1)\n"
    assert (Name, "input") in tokens(text)
    assert (Name, "padding") in tokens(text)
