"""Text to syntax tree, with every syntax error reported, not just the first.

The Lark grammar (`grammar/graphdl.lark`, shipped as `graphdl/grammar/`) is LALR with positions on.
Recovery is statement-level: when the parser stops, the statement it stopped in is reported, blanked
out (positions kept) and the text parsed again, so one run reports each broken statement once and
the rest of the file still reaches the later stages. A blanked statement becomes a `BrokenDecl`.
"""

from __future__ import annotations

import functools
import re
from importlib.resources import files
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from lark.lark import PostLex

from graphdl.diagnostics import Diagnostic, Label
from graphdl.source import Source, Span
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

_OPENING = {"LPAR": "RPAR", "LSQB": "RSQB"}
_CLOSING = {"(": ")", "[": "]", "{": "}"}
_MAX_SYNTAX_ERRORS = 50


def parse(source: Source) -> tuple[Document, list[Diagnostic]]:
    """Parse a whole file. Returns the syntax tree of what parsed and one diagnostic per broken
    statement."""
    text = source.text
    diagnostics: list[Diagnostic] = []
    broken: list[BrokenDecl] = []
    while True:
        try:
            tree = _parser().parse(text)
            break
        except UnexpectedInput as e:
            diagnostic, region = _syntax_error(e, text, source)
            diagnostics.append(diagnostic)
            if region is None or len(diagnostics) >= _MAX_SYNTAX_ERRORS:
                return Document(source, ()), diagnostics
            start, end = region
            if not text[start:end].strip():
                return Document(source, ()), diagnostics
            broken.append(_broken(text[start:end], source.span(start, end)))
            text = text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]
    try:
        networks = _ToTree(source).transform(tree)
    except (VisitError, RecursionError) as e:
        problem = e.orig_exc if isinstance(e, VisitError) else e
        span = problem.span if isinstance(problem, _LiteralProblem) else None
        message = problem.message if isinstance(problem, _LiteralProblem) else "the file is nested too deeply to read"
        return Document(source, ()), diagnostics + [Diagnostic("E101", message, span)]
    return Document(source, tuple(_with_broken(n, broken) for n in networks)), diagnostics


def grammar_text() -> str:
    """The grammar: inside the installed package, or at the top of a source checkout (where an
    editable install finds it)."""
    packaged = files("graphdl").joinpath("grammar/graphdl.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "grammar" / "graphdl.lark").read_text(encoding="utf-8")


@functools.lru_cache(maxsize=None)
def _parser() -> Lark:
    return Lark(grammar_text(), parser="lalr", propagate_positions=True, maybe_placeholders=True, postlex=_FreeLinesInBrackets())


@functools.lru_cache(maxsize=None)
def _lexer() -> Lark:
    """A plain lexer of the same grammar, built once, for looking at the tokens around an error
    (Lark.lex of the parser would build a new lexer each call)."""
    return Lark(grammar_text(), parser=None, lexer="basic")


def _tokens(text: str):
    return _lexer().lex(text, dont_ignore=False)


class _FreeLinesInBrackets(PostLex):
    """Drops line breaks inside (...) and [...], so that long argument lists may wrap."""

    always_accept = ("_NL",)

    def process(self, stream):
        depth = 0
        for token in stream:
            if token.type in _OPENING:
                depth += 1
            elif token.type in _OPENING.values():
                depth = max(0, depth - 1)
            elif token.type == "_NL" and depth:
                continue
            yield token


# ---- syntax errors --------------------------------------------------------------------------------

_DESCRIPTIONS = {
    "NAME": "a name",
    "INT": "a number",
    "FLOAT": "a number",
    "STRING": "a string",
    "_NL": "the end of the line",
    "$END": "the end of the file",
    "NETWORK": "`network`",
    "TRUE": "`true`",
    "FALSE": "`false`",
}
_PUNCTUATION = {
    "LPAR": "(", "RPAR": ")", "LSQB": "[", "RSQB": "]", "LBRACE": "{", "RBRACE": "}",
    "ARROW": "->", "SLASH": "/", "EQUAL": "=", "COMMA": ",", "MINUS": "-",
}


def _describe(terminal: str) -> str:
    if terminal in _PUNCTUATION:
        return f"`{_PUNCTUATION[terminal]}`"
    return _DESCRIPTIONS.get(terminal, terminal.lower())


def _expected(names) -> str:
    # A value can start with many tokens; say "a value" instead of listing them.
    described = sorted({_describe(n) for n in names if not n.startswith("__")})
    values = {"a number", "a string", "`true`", "`false`", "`[`", "`-`"}
    if values <= set(described):
        described = sorted(set(described) - values) + ["a value"]
    if len(described) == 1:
        return described[0]
    return ", ".join(described[:-1]) + " or " + described[-1]


def _syntax_error(e: UnexpectedInput, text: str, source: Source) -> tuple[Diagnostic, tuple[int, int] | None]:
    """The diagnostic for one Lark error, and the region of text to blank out before parsing on
    (None when there is no sensible way on)."""
    if isinstance(e, UnexpectedToken) and e.token.type != "$END":
        token = e.token
        found = "the end of the line" if token.type == "_NL" else f"`{token.value}`"
        start = token.start_pos
        end = start + 1 if token.type == "_NL" else token.end_pos
        message = f"expected {_expected(e.accepts or e.expected)}, found {found}"
    elif isinstance(e, UnexpectedCharacters):
        start, end = e.pos_in_stream, e.pos_in_stream + 1
        message = f"unexpected character `{text[start]}`"
    else:  # UnexpectedEOF, or UnexpectedToken at the end
        start = end = len(text.rstrip())
        expected = e.expected if isinstance(e, UnexpectedEOF) else (e.accepts or e.expected)
        message = f"expected {_expected(expected)}, found the end of the file"
    span = source.span(start, end)
    if start >= len(text.rstrip()):
        braces = _unclosed_brackets(text, len(text), {"LBRACE": "RBRACE", **_OPENING})
        if braces:
            # The file ended inside a network body (or a call): the opening is the mistake.
            bracket = braces[-1]
            closing = _CLOSING[bracket.value]
            label = Label(span, f"expected `{closing}` before the end of the file")
            return Diagnostic("E101", f"this `{bracket.value}` is never closed", source.span(bracket.start_pos, bracket.end_pos), "unclosed", (label,)), None
    opened = _unclosed_brackets(text, start)
    braces = _unclosed_brackets(text, start, {"LBRACE": "RBRACE"})
    if braces and _NETWORK_START.match(text, text.rfind("\n", 0, start) + 1):
        # A network starts inside another: the first one's `}` is missing.
        label = Label(_first_token(text, start, source), "expected `}` before this")
        brace = braces[-1]
        return Diagnostic("E101", "this `{` is never closed", source.span(brace.start_pos, brace.end_pos), "unclosed", (label,)), None
    region = _region_to_blank(text, start, opened)
    if opened and opened[0].line < span.line and _starts_statement(text, start):
        # A statement left a bracket open and the next line's first token is where the parser
        # noticed: the bracket is the mistake.
        bracket = opened[0]
        diagnostic = Diagnostic(
            "E101",
            f"this `{bracket.value}` is never closed",
            source.span(bracket.start_pos, bracket.end_pos),
            "unclosed",
            (Label(_first_token(text, start, source), f"expected `{_CLOSING[bracket.value]}` before this"),),
        )
        return diagnostic, region
    labels = tuple(Label(source.span(t.start_pos, t.end_pos), f"this `{t.value}` is never closed") for t in opened[:1] if t.line < span.line)
    help = None
    if isinstance(e, UnexpectedToken) and e.token.type == "NAME" and "COMMA" in (e.accepts or e.expected):
        help = "separate arguments with `,`"
    return Diagnostic("E101", message, span, "unexpected here", labels, help=help), region


def _first_on_its_line(text: str, offset: int) -> bool:
    return text[text.rfind("\n", 0, offset) + 1 : offset].strip() == ""


def _first_token(text: str, offset: int, source: Source) -> Span:
    match = re.compile(r"[A-Za-z_]\w*|\S").search(text, text.rfind("\n", 0, offset) + 1)
    return source.span(match.start(), match.end())


_NETWORK_START = re.compile(r"\s*network\s+[A-Za-z_]\w*\s*\{")
_STATEMENT_START = re.compile(r"\s*([A-Za-z_]\w*\s*=\s*[A-Za-z_]\w*\s*\(|[A-Za-z_][\w/]*\s*->|})")


def _starts_statement(text: str, offset: int) -> bool:
    """Whether the line of `offset` looks like the start of a statement (so that a bracket left
    open above it, not this line, is the mistake)."""
    line_start = text.rfind("\n", 0, offset) + 1
    return _first_on_its_line(text, offset) or bool(_STATEMENT_START.match(text, line_start))


def _unclosed_brackets(text: str, offset: int, pairs: dict[str, str] = _OPENING) -> list[Token]:
    """The brackets (by default ( and [) opened before `offset` and not closed before it."""
    stack: list[Token] = []
    try:
        for token in _tokens(text):
            if token.start_pos >= offset:
                break
            if token.type in pairs:
                stack.append(token)
            elif token.type in pairs.values() and stack:
                stack.pop()
    except UnexpectedInput:
        pass
    return stack


def _region_to_blank(text: str, offset: int, opened: list[Token]) -> tuple[int, int] | None:
    """The statement the parser stopped in: the line of the error, or, when a bracket opened on
    an earlier line is still open, the lines from that bracket's up to the error's line."""
    if offset >= len(text.rstrip()):
        return None
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    line_end = len(text) if line_end < 0 else line_end
    if opened and opened[0].start_pos < line_start:
        start = text.rfind("\n", 0, opened[0].start_pos) + 1
        if _starts_statement(text, offset):
            # The error's line starts a new statement: the statement before it is the broken one.
            line_end = line_start - 1
        line_start = start
    # Braces delimit networks; a region holding one, or a network's header, is no statement, and
    # blanking it would only make more errors.
    region = text[line_start:line_end]
    if _has_brace(region) or re.match(r"\s*network\s+[A-Za-z_]", region):
        return None
    return line_start, line_end


def _has_brace(region: str) -> bool:
    """Whether a stretch of text holds `{` or `}` as tokens (not in a string or a comment)."""
    try:
        return any(token.type in ("LBRACE", "RBRACE") for token in _tokens(region))
    except UnexpectedInput:
        code = re.sub(r"#.*|\"[^\"\n]*\"|'[^'\n]*'", " ", region)
        return "{" in code or "}" in code


def _broken(statement: str, span: Span) -> BrokenDecl:
    code = re.sub(r"#.*|\"[^\"\n]*\"|'[^'\n]*'", " ", statement)
    declared = re.match(r"\s*([A-Za-z_]\w*)\s*=(?!=)", code)
    return BrokenDecl(
        declared.group(1) if declared else None,
        span,
        mentions=tuple(dict.fromkeys(re.findall(r"[A-Za-z_]\w*", code))),
        wiring="->" in code,
    )


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
