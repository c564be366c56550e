"""Text to syntax tree, with every syntax error reported, not just the first.

Recovery is statement-level: when the parser stops, the statement it stopped in is reported and
blanked out (positions kept), and parsing goes on as if the blanked text had been parsed from the
start, so one run reports each broken statement once and the rest of the file still reaches the
later stages. A blanked statement becomes a `BrokenDecl`.

It is one pass, not one pass per error: the parser is Lark's interactive one, fed token by token,
and at every line break outside brackets (where a statement ends) the driver notes the parser's
stacks. After blanking, it puts back the last note made before the blanked text and lexes on from
there, which is what parsing the whole blanked text would have done, without doing it again.

The syntax tree is built by the parser's callbacks as it reduces each rule (`_Builder`), with spans
from the tokens, not from a Lark tree afterwards: a tree with positions, then a pass over it,
cost twice what the rest of parsing does. The builder's state goes back with the parser's stacks.
"""

from __future__ import annotations

import re
from collections import deque
from copy import copy
from dataclasses import dataclass

from lark import TextSlice, Token, Tree
from lark.exceptions import UnexpectedInput
from lark.parsers.lalr_interactive_parser import InteractiveParser

from graphdl.diagnostics import Diagnostic
from graphdl.limits import LIMITS, raising
from graphdl.source import Source, Span
from graphdl.syntax._grammar import lalr_parser, tree_builder
from graphdl.syntax._recovery import OpenBrackets, broken_statement, syntax_error
from graphdl.syntax._tree import (
    Argument,
    Binary,
    BlockDecl,
    BrokenDecl,
    Call,
    Chain,
    Condition,
    Conditional,
    Document,
    Expr,
    Function,
    Import,
    Index,
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
    too_large = _over_text_limits(source)
    if too_large is not None:
        return Document(source, ()), [too_large]
    diagnostics: list[Diagnostic] = []
    broken: list[BrokenDecl] = []
    builder = _Builder(source.path)
    callbacks = tree_builder().create_callback(builder)
    # The broken statement starts after the last mark passed before the error, or is the line of
    # a line break that failed (the mark before it then): two marks are all that can be needed,
    # and holding every one would keep every intermediate tree alive.
    marks: deque[_Mark] = deque(maxlen=2)
    beginning = _Mark(-1, list(lalr_parser().parse_interactive("", start="start").parser_state.state_stack), [], [], [], None, 0)
    resume = beginning
    while True:
        try:
            definitions = _parse_from(resume, text, marks, callbacks, builder)
            break
        except _OverLimit as over:
            # Refused as soon as it is seen, before the parser spends its time on the rest.
            return Document(source, ()), [*diagnostics, Diagnostic("E102", over.message, over.span, over.label, help=over.help)]
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
    if builder.problems:
        # A number or a nesting later stages cannot take: the first, in the order of the text, and
        # nothing of the file goes on.
        problem = builder.problems[0]
        return Document(source, ()), [*diagnostics, Diagnostic(problem.code, problem.message, problem.span, help=problem.help)]
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
    problems: int  # how many problems the builder had noted

    def restored_values(self) -> list:
        # Lark builds a left-recursive list (the statements of a body) by appending to the list
        # of the tree before: cut the trees still on the stack back to what they held here.
        for value, length in self.values:
            if length is not None:
                del value.children[length:]
        return [value for value, _ in self.values]


def _over_text_limits(source: Source) -> Diagnostic | None:
    """The file too large, or a line too long, to parse: checked before parsing, in linear time."""
    text = source.text
    if len(text) > LIMITS.file_bytes or (len(text) * 4 > LIMITS.file_bytes and len(text.encode("utf-8", "surrogatepass")) > LIMITS.file_bytes):
        return Diagnostic(
            "E102", f"the text is larger than {LIMITS.file_bytes:,} bytes, the most the language reads from one file", source.span(0, 0),
            help=f"split it into files that import each other; {raising('file_bytes')}",
        )  # fmt: skip
    lines = text.split("\n")
    if max(map(len, lines)) <= LIMITS.line_characters:
        return None
    start = 0
    for line in lines:
        if len(line) > LIMITS.line_characters:
            cut = start + LIMITS.line_characters
            return Diagnostic(
                "E102", f"this line is {len(line):,} characters long; lines end at {LIMITS.line_characters:,}", source.span(cut, cut + 1),
                "here", help=f"break it: a line break inside `(...)` and `[...]` is allowed; {raising('line_characters')}",
            )  # fmt: skip
        start += len(line) + 1
    return None




class _OverLimit(Exception):
    """Text past a limit that parsing would spend its time on (a list of a million items, brackets
    nested thousands deep): raised as soon as the parser meets it."""

    def __init__(self, message: str, span: Span, label: str, help: str):
        super().__init__(message)
        self.message, self.span, self.label, self.help = message, span, label, help


class _Stopped(Exception):
    def __init__(self, error: UnexpectedInput, still_open: OpenBrackets):
        super().__init__(str(error))
        self.error = error
        self.still_open = still_open


_OPENS_BRACKET = {"LPAR", "LSQB"}
_CLOSES_BRACKET = {"RPAR", "RSQB"}


def _parse_from(mark: _Mark, text: str, marks: deque[_Mark], callbacks: dict, builder: _Builder) -> tuple:
    """Parse `text` from `mark` on, noting a mark at every line break outside brackets. Returns
    the definitions, or raises _Stopped at the first syntax error with the brackets open there."""
    parser = _interactive(TextSlice(text, max(mark.offset, 0), None), "start", callbacks)
    state = parser.parser_state
    state.state_stack[:] = mark.states
    state.value_stack[:] = mark.restored_values()
    del builder.problems[mark.problems:]
    brackets: list[Token] = []  # none is open at a mark: the post-lexer keeps line breaks only outside
    braces, nesting, last = list(mark.braces), list(mark.any), mark.last
    items: list[int] = []  # of each bracket open in `brackets`: the commas met in it so far
    feed = state.feed_token  # what `parser.feed_token` calls, without its frame: once per token
    try:
        for token in parser.lexer_thread.lex(state):
            kind = token.type
            if kind == "_NL":
                values = [(v, len(v.children) if isinstance(v, Tree) else None) for v in state.value_stack]
                marks.append(_Mark(token.start_pos, list(state.state_stack), values, list(braces), list(nesting), last, len(builder.problems)))
            feed(token)
            last = token
            if kind == "COMMA" and items:
                items[-1] += 1
                if items[-1] >= LIMITS.items:
                    raise _OverLimit(
                        f"more than {LIMITS.items:,} items in one list or call", builder._token_span(brackets[-1]), "this one",
                        f"no argument takes so many; {raising('items')}",
                    )  # fmt: skip
            elif kind in _OPENS_BRACKET:
                brackets.append(token)
                nesting.append(token)
                items.append(0)
                if len(nesting) > LIMITS.nesting:
                    raise _OverLimit(
                        f"brackets nested more than {LIMITS.nesting} deep", builder._token_span(token), "one too many",
                        f"write it flatter, with `let` constants for the parts; {raising('nesting')}",
                    )  # fmt: skip
            elif kind == "LBRACE":
                braces.append(token)
                nesting.append(token)
            elif kind in _CLOSES_BRACKET or kind == "RBRACE":
                for stack in (brackets if kind != "RBRACE" else braces), nesting:
                    if stack:
                        stack.pop()
                if kind != "RBRACE" and items:
                    items.pop()
        return parser.feed_eof(last)
    except UnexpectedInput as e:
        e.interactive_parser = parser  # as Lark's own parse does: what `e.accepts` asks
        raise _Stopped(e, OpenBrackets(brackets, braces, nesting)) from None


def _interactive(text: TextSlice | str, start: str, callbacks: dict) -> InteractiveParser:
    """Lark's interactive parser, calling `callbacks` as it reduces. The callbacks a Lark parser
    is built with are fixed, and these carry the file's path: the parser gets a configuration of
    its own with them, as Lark's `InteractiveParser.accepts` does to run without callbacks."""
    parser = lalr_parser().parse_interactive(text, start=start)
    configuration = copy(parser.parser_state.parse_conf)
    configuration.callbacks = callbacks
    parser.parser_state.parse_conf = configuration
    return parser


def parse_expression(text: str) -> Expr | None:
    """One expression (`100`, `[32, 32, 3]`, `2 * 64`) as a syntax tree; None if `text` is not one."""
    expr, problem = read_expression(text)
    return None if problem else expr


def read_expression(text: str) -> tuple[Expr | None, str | None]:
    """One expression as a syntax tree (None if `text` is not one), or why the expression cannot
    be read (`an expression nested more than 100 deep`)."""
    builder = _Builder("<value>")
    try:
        parsed = _interactive(text, "expr", tree_builder().create_callback(builder)).resume_parse()
    except UnexpectedInput:
        return None, None
    expr = builder.whole_expression(parsed)
    return (None, builder.problems[0].message) if builder.problems else (expr, None)


def _with_broken(definition, broken: list[BrokenDecl]):
    """The definition with the broken statements inside it put back in their places."""
    if isinstance(definition, Import):
        return definition
    inside = [b for b in broken if definition.span.start <= b.span.start < definition.span.end]
    if not inside:
        return definition
    return type(definition)(definition.name, definition.name_span, definition.parameters, _placed(definition.body, inside), definition.span)


def _placed(statements: tuple, broken: list[BrokenDecl]) -> tuple:
    """Statements with the broken ones among them put in their places, inside the branch of a
    condition where they were written."""
    statements = list(statements)
    for i, statement in enumerate(statements):
        if isinstance(statement, Condition):
            within = [b for b in broken if statement.span.start <= b.span.start < statement.span.end]
            if within:
                broken = [b for b in broken if b not in within]
                statements[i] = _placed_in_condition(statement, within)
    return tuple(sorted(statements + broken, key=lambda s: s.span.start))


def _placed_in_condition(condition: Condition, broken: list[BrokenDecl]) -> Condition:
    before_else = condition.else_span.start if condition.else_span is not None else condition.span.end
    then = [b for b in broken if b.span.start < before_else]
    rest = [b for b in broken if b.span.start >= before_else]
    return Condition(
        condition.keyword_span, condition.test, _placed(condition.then, then), _placed(condition.otherwise, rest), condition.span, condition.else_span
    )


# ---- the syntax tree, built as the parser reduces ------------------------------------------------

# No argument takes lists of lists of lists; deeper nesting is a mistake, and would only exhaust
# the recursion of later stages.
_MAX_LIST_DEPTH = 3


@dataclass(frozen=True)
class _LiteralProblem:
    """A text that parses but cannot be read: a number too long, lists or an expression nested
    too deeply."""

    message: str
    span: Span
    help: str | None = None
    code: str = "E102"  # over a limit; E101 where the language has no such text


class _Parenthesised:
    """An expression in parentheses, as the parser hands it on: the expression keeps its own span,
    and the expressions around it start or end at the parentheses, as Python's spans do."""

    __slots__ = ("expr", "span")

    def __init__(self, expr: Expr, span: Span):
        self.expr = expr
        self.span = span


def _expr(value) -> Expr:
    return value.expr if isinstance(value, _Parenthesised) else value


def _binary(op: str):
    def method(self, children):
        left, right = children
        return Binary(op, _expr(left), _expr(right), self._span(left, right))

    return method


class _Builder:
    """The parser's callbacks, one method per rule of the grammar, named after it: given the
    rule's children (tokens, and what the callbacks made of its sub-rules), each returns a node of
    the syntax tree. Rules without a method (the inlined `_body`, `_node`, ...) become Lark trees
    that their parent rule takes apart, so no other method here may bear a rule's name.

    A node spans its first child to its last; a rule whose span starts or ends at a keyword or a
    bracket names that terminal in the grammar, so that the token reaches its callback.

    The callbacks run as the parser goes, also over text it may blank out later: the problems they
    note are cut back with the parser's stacks when it resumes from a mark."""

    def __init__(self, path: str):
        self.path = path
        self.problems: list[_LiteralProblem] = []

    def _span(self, first, last) -> Span:
        """From the start of `first` to the end of `last`, each a token or a node."""
        if isinstance(first, Token):
            line, column, start = first.line, first.column, first.start_pos
        else:
            span = first.span
            line, column, start = span.line, span.column, span.start
        if isinstance(last, Token):
            return Span(self.path, line, column, last.end_line, last.end_column, start, last.end_pos)
        span = last.span
        return Span(self.path, line, column, span.end_line, span.end_column, start, span.end)

    def _token_span(self, token: Token) -> Span:
        return Span(self.path, token.line, token.column, token.end_line, token.end_column, token.start_pos, token.end_pos)

    def whole_expression(self, value) -> Expr:
        """A whole expression (an argument, a default, a bound, a constant), its nesting checked."""
        expr = _expr(value)
        # Later stages walk an expression recursively (evaluating it, printing it): one nested
        # deeper (`-(-(-(...)))`, a sum of a hundred terms) is refused here, where it does no harm.
        if _deeper_than(expr, LIMITS.nesting):
            help = f"write it in steps, with `let` constants; {raising('nesting')}"
            self.problems.append(_LiteralProblem(f"an expression nested more than {LIMITS.nesting} deep", expr.span, help))
        return expr

    # ---- definitions ----

    def start(self, definitions):
        return tuple(definitions)

    def import_(self, children):
        (path,) = children
        return Import(str(path)[1:-1], self._token_span(path))

    def _named_body(self, kind, children):
        keyword, name, parameters, *body, end = children
        return kind(str(name), self._token_span(name), parameters or (), tuple(s for s in body if s is not None), self._span(keyword, end))

    def network(self, children):
        return self._named_body(NetworkDecl, children)

    def block(self, children):
        return self._named_body(BlockDecl, children)

    def parameters(self, children):
        return tuple(c for c in children if c is not None)

    def parameter(self, children):
        name, default = children
        return Parameter(str(name), self._token_span(name), self.whole_expression(default) if default is not None else None)

    # ---- statements ----

    def layer(self, children):
        name, call, repeat, shares = children
        last = shares if shares is not None else repeat if repeat is not None else call
        return LayerDecl(
            str(name), self._token_span(name), call, self._span(name, last), repeat,
            str(shares) if shares is not None else None, self._token_span(shares) if shares is not None else None,
        )

    def shares(self, children):
        return children[0]

    def repeat(self, children):
        keyword, *names, first, last = children
        end = last if last is not None else first
        last = self.whole_expression(last) if last is not None else None
        return Repeat(tuple(map(str, names)), tuple(map(self._token_span, names)), self.whole_expression(first), last, self._span(keyword, end))

    def condition(self, children):
        keyword, test, *then, end, otherwise = children
        statements = tuple(s for s in then if s is not None)
        if otherwise is None:
            return Condition(self._token_span(keyword), self.whole_expression(test), statements, (), self._span(keyword, end))
        else_span, branch, last = otherwise
        return Condition(self._token_span(keyword), self.whole_expression(test), statements, branch, self._span(keyword, last), else_span)

    def otherwise(self, children):
        """The else keyword's span, the else branch's statements, and what its span ends at."""
        keyword, *statements, end = children
        if isinstance(end, Condition):  # `else if`
            return self._token_span(keyword), (end,), end
        return self._token_span(keyword), tuple(s for s in statements if s is not None), end

    def call(self, children):
        callee, *arguments, end = children
        return Call(str(callee), self._token_span(callee), tuple(a for a in arguments if a is not None), self._span(callee, end))

    def positional(self, children):
        (value,) = children
        return Argument(None, self.whole_expression(value), self._span(value, value))

    def keyword(self, children):
        name, value = children
        return Argument(str(name), self.whole_expression(value), self._span(name, value), self._token_span(name))

    def ports(self, children):
        keyword, *names, _, only = children
        end = only if only is not None else names[-1]
        return Ports(
            str(keyword), self._token_span(keyword), tuple(map(str, names)), tuple(map(self._token_span, names)), self._span(keyword, end),
            str(only) if only is not None else None, self._token_span(only) if only is not None else None,
        )  # fmt: skip

    def let(self, children):
        keyword, name, value = children
        return Let(str(keyword), self._token_span(keyword), str(name), self._token_span(name), self.whole_expression(value), self._span(keyword, value))

    def chain(self, children):
        return Chain(tuple(children), self._span(children[0], children[-1]))

    def port(self, children):
        layer, port = children
        return PortRef(str(layer), str(port) if port is not None else None, self._span(layer, port if port is not None else layer), self._token_span(layer))

    # ---- expressions ----

    def int(self, children):
        (token,) = children
        if len(token) > LIMITS.integer_digits:  # Python refuses to convert integers of thousands of digits
            help = f"an integer has at most {LIMITS.integer_digits} digits; {raising('integer_digits')}"
            self.problems.append(_LiteralProblem(f"a number of {len(token):,} digits is too long", self._token_span(token), help))
            return Literal(0, self._token_span(token))  # never read: a problem drops the document
        return Literal(int(token), self._token_span(token))

    def float(self, children):
        (token,) = children
        return Literal(float(token), self._token_span(token))

    def string(self, children):
        (token,) = children
        return Literal(str(token)[1:-1], self._token_span(token))

    def true(self, children):
        return Literal(True, self._token_span(children[0]))

    def false(self, children):
        return Literal(False, self._token_span(children[0]))

    def name(self, children):
        (token,) = children
        return Name(str(token), self._token_span(token))

    def function(self, children):
        name, *arguments, end = children
        return Function(str(name), self._token_span(name), tuple(_expr(a) for a in arguments if a is not None), self._span(name, end))

    def list(self, children):
        start, *items, end = children
        items = tuple(_expr(c) for c in items if c is not None)
        span = self._span(start, end)
        if _nests_lists(items, _MAX_LIST_DEPTH):
            self.problems.append(_LiteralProblem(f"lists nested more than {_MAX_LIST_DEPTH} deep", span, "no argument takes lists of lists of lists", "E101"))
        return ListExpr(items, span)

    def index(self, children):
        items, position, end = children
        return Index(_expr(items), self.whole_expression(position), self._span(items, end))

    def parenthesised(self, children):
        start, value, end = children
        return _Parenthesised(_expr(value), self._span(start, end))

    def negate(self, children):
        sign, operand = children
        return Unary("-", _expr(operand), self._span(sign, operand))

    def not_(self, children):
        keyword, operand = children
        return Unary("not", _expr(operand), self._span(keyword, operand))

    def compare(self, children):
        left, op, right = children
        return Binary(str(op), _expr(left), _expr(right), self._span(left, right))

    def conditional(self, children):
        then, condition, otherwise = children
        return Conditional(_expr(then), _expr(condition), _expr(otherwise), self._span(then, otherwise))

    add = _binary("+")
    subtract = _binary("-")
    multiply = _binary("*")
    divide = _binary("/")
    floor_divide = _binary("//")
    modulo = _binary("%")
    power = _binary("**")
    and_ = _binary("and")
    or_ = _binary("or")


def _nests_lists(items: tuple, levels: int) -> bool:
    """Whether `items` hold lists nested `levels` deep. It looks no deeper than that, so a list
    nested thousands deep costs a few steps per bracket, not a recursion through all of them."""
    if levels == 0:
        return True
    return any(isinstance(item, ListExpr) and _nests_lists(item.items, levels - 1) for item in items)


def _deeper_than(expr: Expr, limit: int) -> bool:
    """Whether `expr` nests more than `limit` levels: it looks no deeper than that."""
    if limit < 0:
        return True
    match expr:
        case Literal() | Name():
            return False
        case ListExpr(items=parts) | Function(arguments=parts):
            return any(_deeper_than(part, limit - 1) for part in parts)
        case Unary(operand=operand):
            return _deeper_than(operand, limit - 1)
        case Index(items=items, position=position):
            return _deeper_than(items, limit - 1) or _deeper_than(position, limit - 1)
        case Binary(left=left, right=right):
            return _deeper_than(left, limit - 1) or _deeper_than(right, limit - 1)
        case Conditional(then=then, condition=condition, otherwise=otherwise):
            return any(_deeper_than(part, limit - 1) for part in (then, condition, otherwise))
    raise TypeError(f"not an expression: {expr!r}")
