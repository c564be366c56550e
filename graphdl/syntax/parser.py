"""Text to syntax tree, with every syntax error reported, not just the first.

Recovery is statement-level: when the parser stops, the statement it stopped in is reported, blanked
out (positions kept) and the text parsed again, so one run reports each broken statement once and
the rest of the file still reaches the later stages. A blanked statement becomes a `BrokenDecl`.
"""

from __future__ import annotations

import re

from lark import Transformer, v_args
from lark.exceptions import UnexpectedInput, VisitError

from graphdl.diagnostics import Diagnostic
from graphdl.source import Source, Span
from graphdl.syntax.grammar import lalr_parser
from graphdl.syntax.recovery import broken_statement, syntax_error
from graphdl.syntax.tree import (
    Argument,
    BrokenDecl,
    Call,
    Chain,
    Document,
    LayerDecl,
    Literal,
    NetworkDecl,
    PortRef,
)

_MAX_SYNTAX_ERRORS = 50


def parse(source: Source) -> tuple[Document, list[Diagnostic]]:
    """Parse a whole file. Returns the syntax tree of what parsed and one diagnostic per broken
    statement."""
    text = source.text
    diagnostics: list[Diagnostic] = []
    broken: list[BrokenDecl] = []
    while True:
        try:
            tree = lalr_parser().parse(text)
            break
        except UnexpectedInput as e:
            diagnostic, region = syntax_error(e, text, source)
            diagnostics.append(diagnostic)
            if region is None or len(diagnostics) >= _MAX_SYNTAX_ERRORS:
                return Document(source, ()), diagnostics
            start, end = region
            if not text[start:end].strip():
                return Document(source, ()), diagnostics
            broken.append(broken_statement(text[start:end], source.span(start, end)))
            text = text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]
    try:
        networks = _ToTree(source).transform(tree)
    except (VisitError, RecursionError) as e:
        problem = e.orig_exc if isinstance(e, VisitError) else e
        span = problem.span if isinstance(problem, _LiteralProblem) else None
        message = problem.message if isinstance(problem, _LiteralProblem) else "the file is nested too deeply to read"
        return Document(source, ()), diagnostics + [Diagnostic("E101", message, span)]
    return Document(source, tuple(_with_broken(n, broken) for n in networks)), diagnostics


def _with_broken(network: NetworkDecl, broken: list[BrokenDecl]) -> NetworkDecl:
    inside = [b for b in broken if network.span.start <= b.span.start < network.span.end]
    if not inside:
        return network
    body = sorted(network.body + tuple(inside), key=lambda s: s.span.start)
    return NetworkDecl(network.name, network.name_span, tuple(body), network.span)


# ---- parse tree to syntax tree --------------------------------------------------------------------

# No argument takes lists of lists of lists; deeper nesting is a mistake, and would only exhaust
# the recursion of later stages.
_MAX_LIST_DEPTH = 3


class _LiteralProblem(Exception):
    def __init__(self, message: str, span: Span):
        super().__init__(message)
        self.message = message
        self.span = span


class _ToTree(Transformer):
    def __init__(self, source: Source):
        super().__init__()
        self.path = source.path

    def _span(self, meta) -> Span:
        return Span(self.path, meta.line, meta.column, meta.end_line, meta.end_column, meta.start_pos, meta.end_pos)

    def start(self, networks):
        return tuple(networks)

    @v_args(meta=True)
    def network(self, meta, children):
        name, *body = children
        return NetworkDecl(str(name), self._span(name), tuple(s for s in body if s is not None), self._span(meta))

    @v_args(meta=True)
    def layer(self, meta, children):
        name, call = children
        return LayerDecl(str(name), self._span(name), call, self._span(meta))

    @v_args(meta=True)
    def call(self, meta, children):
        kind, *arguments = children
        return Call(str(kind), self._span(kind), tuple(a for a in arguments if a is not None), self._span(meta))

    @v_args(meta=True)
    def positional(self, meta, children):
        return Argument(None, children[0], self._span(meta))

    @v_args(meta=True)
    def keyword(self, meta, children):
        name, value = children
        return Argument(str(name), value, self._span(meta), self._span(name))

    @v_args(meta=True)
    def chain(self, meta, children):
        return Chain(tuple(children), self._span(meta))

    @v_args(meta=True)
    def port(self, meta, children):
        layer, port = children
        return PortRef(str(layer), str(port) if port is not None else None, self._span(meta), self._span(layer))

    def _literal(self, meta, value):
        return Literal(value, self._span(meta))

    def _int(self, meta, token) -> int:
        if len(token) > 100:  # Python refuses to convert integers of thousands of digits
            raise _LiteralProblem(f"a number of {len(token)} digits is too long", self._span(meta))
        return int(token)

    @v_args(meta=True)
    def int(self, meta, children):
        return self._literal(meta, self._int(meta, children[0]))

    @v_args(meta=True)
    def negative_int(self, meta, children):
        return self._literal(meta, -self._int(meta, children[-1]))

    @v_args(meta=True)
    def float(self, meta, children):
        return self._literal(meta, float(children[0]))

    @v_args(meta=True)
    def negative_float(self, meta, children):
        return self._literal(meta, -float(children[-1]))

    @v_args(meta=True)
    def string(self, meta, children):
        return self._literal(meta, str(children[0])[1:-1])

    @v_args(meta=True)
    def true(self, meta, children):
        return self._literal(meta, True)

    @v_args(meta=True)
    def false(self, meta, children):
        return self._literal(meta, False)

    @v_args(meta=True)
    def list(self, meta, children):
        items = tuple(c for c in children if c is not None)
        if _depth(items) >= _MAX_LIST_DEPTH:
            raise _LiteralProblem(f"lists nested more than {_MAX_LIST_DEPTH} deep", self._span(meta))
        return self._literal(meta, items)


def _depth(items: tuple) -> int:
    return max((1 + _depth(item.value) for item in items if isinstance(item.value, tuple)), default=0)
