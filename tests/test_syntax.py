"""Parsing: the syntax tree and its spans, and syntax errors (their wording is in the golden
diagnostics)."""

from __future__ import annotations

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


def test_keywords_are_contextual():
    # `network`, `true` and `false` are keywords only where the grammar expects them.
    document = parse_ok("network n {\n  network = relu()\n  true = relu()\n  network2 = relu()\n}\n")
    assert [s.name for s in document.networks[0].body] == ["network", "true", "network2"]


def test_the_grammar_is_conflict_free_lalr():
    from lark import Lark

    from graphdl.syntax._grammar import grammar_text

    Lark(grammar_text(), parser="lalr", strict=True)
