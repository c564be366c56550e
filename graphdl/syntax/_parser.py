"""Text to syntax tree, with every syntax error reported, not just the first.

Recovery is statement-level: when the parser stops, the statement it stopped in is reported and
blanked out (positions kept), and parsing goes on as if the blanked text had been parsed from the
start, so one run reports each broken statement once and the rest of the file still reaches the
later stages. A blanked statement becomes a `BrokenDecl`.

It is one pass, not one pass per error: the parser is Lark's interactive one, fed token by token,
and at every line break outside brackets (where a statement ends) the driver notes the parser's
stacks. After blanking, it puts back the last note made before the blanked text and lexes on from
there, which is what parsing the whole blanked text would have done, without doing it again.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

from lark import TextSlice, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedInput, VisitError

from graphdl.diagnostics import Diagnostic
from graphdl.source import Source, Span
from graphdl.syntax._grammar import lalr_parser
from graphdl.syntax._recovery import OpenBrackets, broken_statement, syntax_error
from graphdl.syntax._tree import (
    Argument,
    Binary,
    BlockDecl,
    BrokenDecl,
    Call,
    Chain,
    Conditional,
    Document,
    Expr,
    Function,
    Import,
    LayerDecl,
    Let,
    ListExpr,
    Literal,
    Name,
    NetworkDecl,
    Parameter,
    PortRef,
    Ports,
    Repeat,
    Unary,
)

_MAX_SYNTAX_ERRORS = 50


def parse(source: Source) -> tuple[Document, list[Diagnostic]]:
    """Parse a whole file. Returns the syntax tree of what parsed and one diagnostic per broken
    statement."""
    text = source.text
    diagnostics: list[Diagnostic] = []
    broken: list[BrokenDecl] = []
    # The broken statement starts after the last mark passed before the error, or is the line of
    # a line break that failed (the mark before it then): two marks are all that can be needed,
    # and holding every one would keep every intermediate tree alive.
    marks: deque[_Mark] = deque(maxlen=2)
    beginning = _Mark(-1, list(lalr_parser().parse_interactive("", start="start").parser_state.state_stack), [], [], [], None)
    resume = beginning
    while True:
        try:
            tree = _parse_from(resume, text, marks)
            break
        except _Stopped as stopped:
            diagnostic, region = syntax_error(stopped.error, text, source, stopped.still_open)
            diagnostics.append(diagnostic)
            if region is None or len(diagnostics) >= _MAX_SYNTAX_ERRORS:
                return Document(source, ()), diagnostics
            start, end = region
            if not text[start:end].strip():
                return Document(source, ()), diagnostics
            broken.append(broken_statement(text[start:end], source.span(start, end)))
            text = text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]
            # The notes made in or after the blanked text are of text that is gone; the parser
            # passes the last one before it again and notes it anew.
            while marks and marks[-1].offset >= start:
                marks.pop()
            resume = marks.pop() if marks else beginning
    try:
        definitions = _ToTree(source).transform(tree)
    except (VisitError, RecursionError) as e:
        problem = e.orig_exc if isinstance(e, VisitError) else e
        span = problem.span if isinstance(problem, _LiteralProblem) else None
        message = problem.message if isinstance(problem, _LiteralProblem) else "the file is nested too deeply to read"
        return Document(source, ()), diagnostics + [Diagnostic("E101", message, span)]
    return Document(source, tuple(_with_broken(d, broken) for d in definitions)), diagnostics


@dataclass
class _Mark:
    """The parser just before a line break outside brackets (or at the start of the text, offset
    -1): enough to parse on from there."""

    offset: int
    states: list[int]
    values: list[tuple[object, int | None]]  # each value, and how many children a tree had then
    braces: list[Token]
    any: list[Token]
    last: Token | None

    def restored_values(self) -> list:
        # Lark builds a left-recursive list (the statements of a body) by appending to the list
        # of the tree before: cut the trees still on the stack back to what they held here.
        for value, length in self.values:
            if length is not None:
                del value.children[length:]
        return [value for value, _ in self.values]


class _Stopped(Exception):
    def __init__(self, error: UnexpectedInput, still_open: OpenBrackets):
        super().__init__(str(error))
        self.error = error
        self.still_open = still_open


_OPENS_BRACKET = {"LPAR", "LSQB"}
_CLOSES_BRACKET = {"RPAR", "RSQB"}


def _parse_from(mark: _Mark, text: str, marks: deque[_Mark]) -> Tree:
    """Parse `text` from `mark` on, noting a mark at every line break outside brackets. Returns
    the parse tree, or raises _Stopped at the first syntax error with the brackets open there."""
    parser = lalr_parser().parse_interactive(TextSlice(text, max(mark.offset, 0), None), start="start")
    state = parser.parser_state
    state.state_stack[:] = mark.states
    state.value_stack[:] = mark.restored_values()
    brackets: list[Token] = []  # none is open at a mark: the post-lexer keeps line breaks only outside
    braces, nesting, last = list(mark.braces), list(mark.any), mark.last
    try:
        for token in parser.lexer_thread.lex(state):
            kind = token.type
            if kind == "_NL":
                values = [(v, len(v.children) if isinstance(v, Tree) else None) for v in state.value_stack]
                marks.append(_Mark(token.start_pos, list(state.state_stack), values, list(braces), list(nesting), last))
            parser.feed_token(token)
            last = token
            if kind in _OPENS_BRACKET:
                brackets.append(token)
                nesting.append(token)
            elif kind == "LBRACE":
                braces.append(token)
                nesting.append(token)
            elif kind in _CLOSES_BRACKET or kind == "RBRACE":
                for stack in (brackets if kind != "RBRACE" else braces), nesting:
                    if stack:
                        stack.pop()
        return parser.feed_eof(last)
    except UnexpectedInput as e:
        e.interactive_parser = parser  # as Lark's own parse does: what `e.accepts` asks
        raise _Stopped(e, OpenBrackets(brackets, braces, nesting)) from None


def parse_expression(text: str) -> Expr | None:
    """One expression (`100`, `[32, 32, 3]`, `2 * 64`) as a syntax tree; None if `text` is not one."""
    try:
        return _ToTree(Source("<value>", text)).transform(lalr_parser().parse(text, start="expr"))
    except (UnexpectedInput, VisitError):
        return None


def _with_broken(definition, broken: list[BrokenDecl]):
    """The definition with the broken statements inside it put back in their places."""
    if isinstance(definition, Import):
        return definition
    inside = [b for b in broken if definition.span.start <= b.span.start < definition.span.end]
    if not inside:
        return definition
    body = sorted(definition.body + tuple(inside), key=lambda s: s.span.start)
    return type(definition)(definition.name, definition.name_span, definition.parameters, tuple(body), definition.span)


# ---- parse tree to syntax tree --------------------------------------------------------------------

# No argument takes lists of lists of lists; deeper nesting is a mistake, and would only exhaust
# the recursion of later stages.
_MAX_LIST_DEPTH = 3


class _LiteralProblem(Exception):
    def __init__(self, message: str, span: Span):
        super().__init__(message)
        self.message = message
        self.span = span


def _binary(op: str):
    @v_args(meta=True)
    def method(self, meta, children):
        left, right = children[0], children[-1]
        return Binary(op, left, right, self._span(meta))

    return method


class _ToTree(Transformer):
    def __init__(self, source: Source):
        super().__init__()
        self.path = source.path

    def _span(self, meta) -> Span:
        return Span(self.path, meta.line, meta.column, meta.end_line, meta.end_column, meta.start_pos, meta.end_pos)

    # ---- definitions ----

    def start(self, definitions):
        return tuple(definitions)

    @v_args(meta=True)
    def import_(self, meta, children):
        (path,) = children
        return Import(str(path)[1:-1], self._span(path))

    def _definition(self, kind, meta, children):
        name, parameters, *body = children
        return kind(str(name), self._span(name), parameters or (), tuple(s for s in body if s is not None), self._span(meta))

    @v_args(meta=True)
    def network(self, meta, children):
        return self._definition(NetworkDecl, meta, children)

    @v_args(meta=True)
    def block(self, meta, children):
        return self._definition(BlockDecl, meta, children)

    def parameters(self, children):
        return tuple(c for c in children if c is not None)

    @v_args(meta=True)
    def parameter(self, meta, children):
        name, default = children
        return Parameter(str(name), self._span(name), default)

    # ---- statements ----

    @v_args(meta=True)
    def layer(self, meta, children):
        name, call, repeat, shares = children
        return LayerDecl(
            str(name), self._span(name), call, self._span(meta), repeat,
            str(shares) if shares is not None else None, self._span(shares) if shares is not None else None,
        )

    def shares(self, children):
        return children[0]

    @v_args(meta=True)
    def repeat(self, meta, children):
        index, first, last = children
        return Repeat(str(index), self._span(index), first, last, self._span(meta))

    @v_args(meta=True)
    def call(self, meta, children):
        callee, *arguments = children
        return Call(str(callee), self._span(callee), tuple(a for a in arguments if a is not None), self._span(meta))

    @v_args(meta=True)
    def positional(self, meta, children):
        return Argument(None, children[0], self._span(meta))

    @v_args(meta=True)
    def keyword(self, meta, children):
        name, value = children
        return Argument(str(name), value, self._span(meta), self._span(name))

    @v_args(meta=True)
    def ports(self, meta, children):
        keyword, *names = children
        return Ports(str(keyword), self._span(keyword), tuple(map(str, names)), tuple(self._span(n) for n in names), self._span(meta))

    @v_args(meta=True)
    def let(self, meta, children):
        keyword, name, value = children
        return Let(str(keyword), self._span(keyword), str(name), self._span(name), value, self._span(meta))

    @v_args(meta=True)
    def chain(self, meta, children):
        return Chain(tuple(children), self._span(meta))

    @v_args(meta=True)
    def port(self, meta, children):
        layer, port = children
        return PortRef(str(layer), str(port) if port is not None else None, self._span(meta), self._span(layer))

    # ---- expressions ----

    def _int(self, meta, token) -> int:
        if len(token) > 100:  # Python refuses to convert integers of thousands of digits
            raise _LiteralProblem(f"a number of {len(token)} digits is too long", self._span(meta))
        return int(token)

    @v_args(meta=True)
    def int(self, meta, children):
        return Literal(self._int(meta, children[0]), self._span(meta))

    @v_args(meta=True)
    def float(self, meta, children):
        return Literal(float(children[0]), self._span(meta))

    @v_args(meta=True)
    def string(self, meta, children):
        return Literal(str(children[0])[1:-1], self._span(meta))

    @v_args(meta=True)
    def true(self, meta, children):
        return Literal(True, self._span(meta))

    @v_args(meta=True)
    def false(self, meta, children):
        return Literal(False, self._span(meta))

    @v_args(meta=True)
    def name(self, meta, children):
        return Name(str(children[0]), self._span(meta))

    @v_args(meta=True)
    def function(self, meta, children):
        name, *arguments = children
        return Function(str(name), self._span(name), tuple(a for a in arguments if a is not None), self._span(meta))

    @v_args(meta=True)
    def list(self, meta, children):
        items = tuple(c for c in children if c is not None)
        if _depth(items) >= _MAX_LIST_DEPTH:
            raise _LiteralProblem(f"lists nested more than {_MAX_LIST_DEPTH} deep", self._span(meta))
        return ListExpr(items, self._span(meta))

    @v_args(meta=True)
    def negate(self, meta, children):
        return Unary("-", children[-1], self._span(meta))

    @v_args(meta=True)
    def not_(self, meta, children):
        return Unary("not", children[-1], self._span(meta))

    @v_args(meta=True)
    def compare(self, meta, children):
        left, op, right = children
        return Binary(str(op), left, right, self._span(meta))

    @v_args(meta=True)
    def conditional(self, meta, children):
        then, condition, otherwise = children
        return Conditional(then, condition, otherwise, self._span(meta))

    add = _binary("+")
    subtract = _binary("-")
    multiply = _binary("*")
    divide = _binary("/")
    floor_divide = _binary("//")
    modulo = _binary("%")
    power = _binary("**")
    and_ = _binary("and")
    or_ = _binary("or")


def _depth(items: tuple) -> int:
    return max((1 + _depth(item.items) for item in items if isinstance(item, ListExpr)), default=0)
