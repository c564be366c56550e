"""Parsing: the syntax tree and its spans, and syntax errors (their wording is in the golden
diagnostics)."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

import pytest

from graphdl.elaborate._evaluate import evaluate
from graphdl.source import Source
from graphdl.syntax import BrokenDecl, Chain, LayerDecl, parse


def parse_ok(text: str):
    document, diagnostics = parse(Source("t.dlg", text))
    assert diagnostics == []
    return document


def test_layer_declarations_with_every_kind_of_value():
    document = parse_ok(
        'network n {\n    a = kind(1, -2, 3.5, -1e-3, "s", \'q\', true, false, [1, [2, 3]], [], key=[4, 5],)\n}\n'
    )
    (network,) = document.networks
    (decl,) = network.body
    assert isinstance(decl, LayerDecl)
    assert decl.name == "a" and decl.call.callee == "kind"
    values = [evaluate(a.value, {}) for a in decl.call.arguments]
    assert values == [1, -2, 3.5, -1e-3, "s", "q", True, False, (1, (2, 3)), (), (4, 5)]
    assert [a.name for a in decl.call.arguments] == [None] * 10 + ["key"]
    assert isinstance(values[0], int) and isinstance(values[2], float)


def test_spans_are_one_based_with_exclusive_end():
    document = parse_ok("network n {\n  conv1 = convolution2d(5, 20)\n}\n")
    decl = document.networks[0].body[0]
    assert (decl.name_span.line, decl.name_span.column, decl.name_span.end_column) == (2, 3, 8)
    assert (decl.call.callee_span.column, decl.call.callee_span.end_column) == (11, 24)
    first = decl.call.arguments[0]
    assert (first.value.span.column, first.value.span.end_column) == (25, 26)


def test_chains_and_ports():
    document = parse_ok("network n {\n  a -> b/in2 -> c\n  d/out -> e\n}\n")
    first, second = document.networks[0].body
    assert isinstance(first, Chain)
    assert [(p.layer, p.port) for p in first.nodes] == [("a", None), ("b", "in2"), ("c", None)]
    assert [(p.layer, p.port) for p in second.nodes] == [("d", "out"), ("e", None)]


def test_comments_blank_lines_and_line_breaks_inside_brackets():
    text = """# header
network n {   # trailing comment

    # a comment line
    a = kind(1,
             2)   # after

    b = kind([1,
              2])
}
# footer
"""
    body = parse_ok(text).networks[0].body
    assert [s.name for s in body] == ["a", "b"]
    assert [evaluate(a.value, {}) for a in body[1].call.arguments] == [(1, 2)]


def test_several_networks_and_an_empty_body():
    document = parse_ok("network a {\n}\nnetwork b { x = relu() }\n")
    assert [n.name for n in document.networks] == ["a", "b"]
    assert document.networks[0].body == ()


def test_a_broken_statement_keeps_its_place_and_name():
    text = "network n {\n  a = relu()\n  b = kind(1 2)\n  c = relu()\n}\n"
    document, diagnostics = parse(Source("t.dlg", text))
    assert [d.code for d in diagnostics] == ["E101"]
    body = document.networks[0].body
    assert [type(s).__name__ for s in body] == ["LayerDecl", "BrokenDecl", "LayerDecl"]
    assert isinstance(body[1], BrokenDecl) and body[1].name == "b"


def test_an_error_that_cannot_be_recovered_from_stops_with_one_diagnostic():
    document, diagnostics = parse(Source("t.dlg", "network n \n  a = relu()\n}\n"))
    assert [d.code for d in diagnostics] == ["E101"]
    assert diagnostics[0].message == "expected `(` or `{`, found the end of the line"
    assert document.networks == ()


def test_parentheses_belong_to_the_expression_around_them_not_to_the_one_inside():
    # As in Python's own spans: `(1 + 2)` spans `1 + 2`; `(1 + 2) * 3` starts at the parenthesis.
    text = "network n {\n  a = kind((1 + 2) * 3, -(x))\n}\n"
    first, second = parse_ok(text).networks[0].body[0].call.arguments
    assert text[first.span.start : first.span.end] == "(1 + 2) * 3"
    assert text[first.value.left.span.start : first.value.left.span.end] == "1 + 2"
    assert text[second.value.span.start : second.value.span.end] == "-(x)"
    assert text[second.value.operand.span.start : second.value.operand.span.end] == "x"


@pytest.mark.parametrize(
    "value,code", [("-" * 150 + "1", "E102"), (" + ".join(["1"] * 150), "E102"), ("[" * 4 + "1" + "]" * 4, "E101"), ("1" + "0" * 200, "E102")]
)
def test_a_value_too_deep_or_too_long_to_read_is_one_diagnostic(value, code):
    # Later stages walk expressions recursively: the parser refuses what would exhaust them (E102,
    # over a limit), and lists deeper than any argument takes (E101).
    text = f"network n {{\n  a = kind(1)\n  b = kind({value})\n  c = kind(2 3)\n}}\n"
    document, diagnostics = parse(Source("t.dlg", text))
    assert [d.code for d in diagnostics] == ["E101", code]  # the syntax error, then the value
    assert diagnostics[1].span.line == 3 and document.definitions == ()


def test_a_value_in_a_broken_statement_is_not_read():
    # The parser reads `1000...0` before it meets the missing comma; the statement is blanked, and
    # with it what was noted about it.
    text = "network n {\n  a = kind(1)\n  b = kind(1" + "0" * 200 + ", 2 3)\n  c = kind(2)\n}\n"
    document, diagnostics = parse(Source("t.dlg", text))
    assert [d.message for d in diagnostics] == ["expected `)` or `,`, found `3`"]
    assert [type(s).__name__ for s in document.networks[0].body] == ["LayerDecl", "BrokenDecl", "LayerDecl"]


def test_keywords_are_contextual():
    # `network`, `true` and `false` are keywords only where the grammar expects them.
    document = parse_ok("network n {\n  network = relu()\n  true = relu()\n  network2 = relu()\n}\n")
    assert [s.name for s in document.networks[0].body] == ["network", "true", "network2"]


def test_the_grammar_is_conflict_free_lalr():
    from lark import Lark

    from graphdl.syntax._grammar import grammar_text

    Lark(grammar_text(), parser="lalr", strict=True)


# ---- recovery: one pass over the file ----------------------------------------------------------


def _blanked(text: str, document) -> str:
    """`text` with the statements reported broken blanked out, as recovery promises to parse it."""
    for definition in document.networks + document.blocks:
        for statement in definition.body:
            if isinstance(statement, BrokenDecl):
                start, end = statement.span.start, statement.span.end
                text = text[:start] + "".join(c if c == "\n" else " " for c in text[start:end]) + text[end:]
    return text


RECOVERY_CASES = {
    "first and last statements": "network n {\n  a = f(1 2)\n  b = relu()\n  c = relu(\n}\n",
    "statements in a row": "network n {\n  a = relu()\n  b = f(1 2)\n  c = f(3 4)\n  d = f(,)\n  e = relu()\n}\n",
    "a call left open over lines": "network n {\n  a = relu()\n  b = f(1,\n    2\n  c = relu()\n  d = f(1 2)\n  e = relu()\n}\n",
    "a block and a network": (
        "block u(c) {\n  input x\n  output y\n  p = f(c c)\n  q = relu()\n  x -> q -> y\n}\n\n"
        "network n {\n  a = imageInput([8, 8, 1])\n  b = u(1) for i in 1..2\n  c = g(] \n  d = relu()\n  a -> b -> d\n}\n"
    ),
    "wiring": "network n {\n  a = relu()\n  b = relu()\n  a -> -> b\n  a -> b\n  b -> a/\n}\n",
}


def test_recovery_parses_the_rest_as_if_the_broken_statements_were_blank():
    for name, text in RECOVERY_CASES.items():
        document, diagnostics = parse(Source("t.dlg", text))
        broken = [s for d in document.networks + document.blocks for s in d.body if isinstance(s, BrokenDecl)]
        assert diagnostics and len(broken) == len(diagnostics), name
        clean = parse_ok(_blanked(text, document))
        # The same definitions and statements, the broken ones left out: nothing of the broken
        # statements leaked into the parser's state for what follows them.
        for recovered, expected in zip(document.networks + document.blocks, clean.networks + clean.blocks, strict=True):
            assert tuple(s for s in recovered.body if not isinstance(s, BrokenDecl)) == expected.body, name


def test_each_broken_statement_is_reported_once_in_order_up_to_the_cap():
    from graphdl.syntax._parser import _MAX_SYNTAX_ERRORS

    lines = [f"  ok{i} = relu()\n  bad{i} = f({i} {i})\n" for i in range(_MAX_SYNTAX_ERRORS + 10)]
    text = "network n {\n" + "".join(lines) + "}\n"
    document, diagnostics = parse(Source("t.dlg", text))
    assert len(diagnostics) == _MAX_SYNTAX_ERRORS
    assert [d.span.line for d in diagnostics] == [3 + 2 * i for i in range(_MAX_SYNTAX_ERRORS)]
    assert all(d.message == f"expected `)` or `,`, found `{i}`" for i, d in enumerate(diagnostics))

    fewer = "network n {\n" + "".join(lines[:20]) + "}\n"
    document, diagnostics = parse(Source("t.dlg", fewer))
    assert len(diagnostics) == 20
    names = [s.name for s in document.networks[0].body]
    assert names == [name for i in range(20) for name in (f"ok{i}", f"bad{i}")]


# ---- the built parser, cached --------------------------------------------------------------------


def _counting_builds(monkeypatch) -> list[int]:
    from graphdl.syntax import _grammar

    builds = []
    build = _grammar.build_parser

    def counted(grammar):
        builds.append(1)
        return build(grammar)

    monkeypatch.setattr(_grammar, "build_parser", counted)
    return builds


SAMPLE = "network n {\n  a = imageInput([28, 28, 1])\n  b = f(1,\n    k=[2, 3])\n  a -> b/in2\n}\n"


def test_the_built_parser_is_stored_once_and_then_loaded(tmp_path, monkeypatch):
    from graphdl.syntax._grammar import cached_parser, grammar_text

    builds = _counting_builds(monkeypatch)
    built = cached_parser(grammar_text(), tmp_path)
    assert len(builds) == 1 and len(list(tmp_path.glob("parser-*.lark"))) == 1
    loaded = cached_parser(grammar_text(), tmp_path)
    assert len(builds) == 1
    assert loaded is not built
    assert loaded.parse(SAMPLE, start="start") == built.parse(SAMPLE, start="start")
    assert not list(tmp_path.glob("*.tmp"))  # the temporary file was renamed into place


def test_the_cache_folder_is_made_private(tmp_path, monkeypatch):
    from graphdl.syntax._grammar import cached_parser, grammar_text

    folder = tmp_path / "cache" / "graphdl"
    cached_parser(grammar_text(), folder)
    assert folder.stat().st_mode & 0o777 == 0o700


def test_a_cache_that_cannot_be_written_means_building_quietly(tmp_path, monkeypatch, capfd):
    import warnings

    from graphdl.syntax._grammar import cached_parser, grammar_text

    builds = _counting_builds(monkeypatch)
    (tmp_path / "a-file").write_text("")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(2):
            parser = cached_parser(grammar_text(), tmp_path / "a-file" / "graphdl")  # no folder can be made there
            assert parser.parse(SAMPLE, start="start")
    assert len(builds) == 2
    assert capfd.readouterr() == ("", "")


@contextlib.contextmanager
def read_only(folder: Path):
    """`folder` as a folder this process cannot write: taken away by its mode, or, for the
    superuser, whom modes do not stop, seen through a read-only bind mount."""
    if os.geteuid() != 0:
        folder.chmod(0o500)
        try:
            yield folder
        finally:
            folder.chmod(0o700)
        return
    view = folder.with_name(folder.name + "-read-only")
    view.mkdir(mode=0o700)
    subprocess.run(["mount", "--bind", str(folder), str(view)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], check=True)
        yield view
    finally:
        subprocess.run(["umount", str(view)], check=True)


def test_a_read_only_cache_folder_is_read_and_never_written(tmp_path, monkeypatch, capfd):
    from graphdl.syntax._grammar import cached_parser, grammar_text

    builds = _counting_builds(monkeypatch)
    filled, empty = tmp_path / "filled", tmp_path / "empty"
    cached_parser(grammar_text(), filled)
    empty.mkdir(mode=0o700)
    with read_only(filled) as filled_view, read_only(empty) as empty_view:
        with pytest.raises(OSError):
            (empty_view / "probe").write_text("")  # the folder really is read-only
        cached_parser(grammar_text(), filled_view)
        assert len(builds) == 1
        assert cached_parser(grammar_text(), empty_view).parse(SAMPLE, start="start")
        assert len(builds) == 2 and list(empty_view.iterdir()) == []
    assert capfd.readouterr() == ("", "")


def test_a_damaged_or_foreign_cache_file_is_rebuilt_and_replaced(tmp_path, monkeypatch):
    from graphdl.syntax._grammar import cached_parser, grammar_text

    builds = _counting_builds(monkeypatch)
    cached_parser(grammar_text(), tmp_path)
    (path,) = tmp_path.glob("parser-*.lark")
    whole = path.read_bytes()
    header = whole[: whole.index(b"\n") + 1]
    for damaged in (whole[: len(whole) // 2], header + b"not a pickle", b"something else\n" + whole[len(header):], b""):
        path.write_bytes(damaged)
        before = len(builds)
        parser = cached_parser(grammar_text(), tmp_path)
        assert len(builds) == before + 1
        assert parser.parse(SAMPLE, start="start")
        cached_parser(grammar_text(), tmp_path)  # replaced by a good one
        assert len(builds) == before + 1


def test_a_cache_in_a_folder_others_may_write_is_not_trusted(tmp_path, monkeypatch):
    from graphdl.syntax._grammar import cached_parser, grammar_text

    builds = _counting_builds(monkeypatch)
    cached_parser(grammar_text(), tmp_path)
    tmp_path.chmod(0o777)  # anyone could have put this pickle here
    try:
        cached_parser(grammar_text(), tmp_path)
    finally:
        tmp_path.chmod(0o700)
    assert len(builds) == 2


def test_the_cache_key_follows_the_grammar_and_lark(monkeypatch):
    import lark

    from graphdl.syntax._grammar import cache_key, grammar_text

    key = cache_key(grammar_text())
    assert cache_key(grammar_text()) == key
    assert cache_key(grammar_text() + "\n// a comment\n") != key
    monkeypatch.setattr(lark, "__version__", "0.0.1")
    assert cache_key(grammar_text()) != key


def test_the_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    from graphdl.syntax._grammar import cache_folder

    monkeypatch.setenv("GRAPHDL_CACHE_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_folder() == tmp_path / "mine"
    monkeypatch.delenv("GRAPHDL_CACHE_DIR")
    assert cache_folder() == tmp_path / "xdg" / "graphdl"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_folder() == tmp_path / "home" / ".cache" / "graphdl"
