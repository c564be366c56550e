"""Syntax errors: the diagnostic for each, and the statement to blank out to parse on.

A diagnostic names what was expected and what was found, or, when a bracket or a network's brace
was left open, points at that opening instead of at where the parser noticed. Blanking a whole
statement (its line, or the lines of a call left open) lets the rest of the file parse; a region
that holds a network's braces or header is never blanked, since that would only make more errors.
The brackets still open where the parser stopped come from the parser, which saw every token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from graphdl.diagnostics import Diagnostic, Label
from graphdl.source import Source, Span
from graphdl.syntax._tree import BrokenDecl

_CLOSING = {"(": ")", "[": "]", "{": "}"}


_DESCRIPTIONS = {
    "NAME": "a name",
    "INT": "a number",
    "FLOAT": "a number",
    "STRING": "a string",
    "_NL": "the end of the line",
    "$END": "the end of the file",
    "PATH": "a name",
}
_PUNCTUATION = {
    "LPAR": "(", "RPAR": ")", "LSQB": "[", "RSQB": "]", "LBRACE": "{", "RBRACE": "}",
    "ARROW": "->", "SLASH": "/", "EQUAL": "=", "COMMA": ",", "MINUS": "-", "RANGE": "..",
    "PLUS": "+", "STAR": "*", "DOUBLESLASH": "//", "PERCENT": "%", "POWER": "**", "COMPARE": "a comparison",
}


def _describe(terminal: str) -> str:
    if terminal in _PUNCTUATION:
        return f"`{_PUNCTUATION[terminal]}`"
    if terminal in _KEYWORDS:
        return f"`{terminal.lower()}`"
    return _DESCRIPTIONS.get(terminal, terminal.lower())


# Tokens that may continue an expression or a declaration; listing them after a complete value
# ("expected `)`, `,`, `+`, `*`, `if`, ...") buries the one that was meant.
_CONTINUATIONS = {"LSQB", "PLUS", "MINUS", "STAR", "SLASH", "DOUBLESLASH", "PERCENT", "POWER", "COMPARE", "AND", "OR", "IF", "FOR", "SHARES"}
_VALUE_STARTS = {"INT", "FLOAT", "STRING", "TRUE", "FALSE", "LSQB", "LPAR", "MINUS", "NAME", "NOT"}
_KEYWORDS = {"NETWORK", "BLOCK", "IMPORT", "TRUE", "FALSE", "FOR", "IN", "SHARES", "IF", "ELSE", "AND", "OR", "NOT"}


def _expected(names) -> str:
    names = {n for n in names if not n.startswith("__")}
    value = False
    if {"INT", "STRING", "LSQB"} <= names:
        # A value can start with many tokens; say "a value" instead of listing them.
        names -= _VALUE_STARTS
        value = True
    if names - _CONTINUATIONS:
        names -= _CONTINUATIONS
    described = sorted({_describe(n) for n in names}) + (["a value"] if value else [])
    if len(described) == 1:
        return described[0]
    return ", ".join(described[:-1]) + " or " + described[-1]


@dataclass(frozen=True)
class OpenBrackets:
    """The openings not yet closed where the parser stopped, innermost last: `(` and `[`
    (`brackets`), `{` (`braces`), and all three together, any closing closing the last
    (`any`)."""

    brackets: list[Token]
    braces: list[Token]
    any: list[Token]


def syntax_error(e: UnexpectedInput, text: str, source: Source, still_open: OpenBrackets) -> tuple[Diagnostic, tuple[int, int] | None]:
    """The diagnostic for one Lark error, and the region of text to blank out before parsing on
    (None when there is no sensible way on). `still_open` is what was open before the error."""
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
        braces = still_open.any
        if braces:
            # The file ended inside a network body (or a call): the opening is the mistake.
            bracket = braces[-1]
            closing = _CLOSING[bracket.value]
            label = Label(span, f"expected `{closing}` before the end of the file")
            return Diagnostic("E101", f"this `{bracket.value}` is never closed", source.span(bracket.start_pos, bracket.end_pos), "unclosed", (label,)), None
    opened, braces = still_open.brackets, still_open.braces
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
    elif isinstance(e, UnexpectedToken):
        help = _slip(text, start, e.token)
    return Diagnostic("E101", message, span, "unexpected here", labels, help=help), region


_ASSIGNED_NAME = re.compile(r"\s*([A-Za-z_]\w*)\s*=\s*([A-Za-z_][\w.]*)\s*$")


def _slip(text: str, offset: int, token: Token) -> str | None:
    """The fix of a likely slip at the token the parser stopped at: an arrow written as `=>` or
    `- >`, a layer connected with `=`, a layer declared inside a chain."""
    line_start = text.rfind("\n", 0, offset) + 1
    before = text[line_start:offset]
    line_end = text.find("\n", offset)
    line = text[line_start : len(text) if line_end < 0 else line_end]
    if token.value == ">" and before.rstrip().endswith("="):
        return "layers are connected with `->`, not `=>`"
    if token.value == ">" or (token.value == "-" and text[token.end_pos : token.end_pos + 2].lstrip().startswith(">")):
        return "write the arrow `->` without a space inside it"
    if token.type == "_NL" and (assigned := _ASSIGNED_NAME.match(line)):
        source, target = assigned.groups()
        return f"`=` declares a layer, `{source} = kind(...)`; to connect `{source}` to `{target}`, write `{source} -> {target}`"
    if token.value == "=" and "->" in before:
        return "declare the layer on a line of its own (`name = kind(...)`), then connect it in the chain by its name"
    return None


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
    """Whether a stretch of text holds `{` or `}` as tokens: not in a string or a comment (the
    pattern skips them as the lexer does)."""
    code = _without_strings_and_comments(region)
    return "{" in code or "}" in code


def _without_strings_and_comments(text: str) -> str:
    return re.sub(r"#.*|\"[^\"\n]*\"|'[^'\n]*'", " ", text)


def broken_statement(statement: str, span: Span) -> BrokenDecl:
    """What later stages need of a statement that did not parse."""
    code = _without_strings_and_comments(statement)
    name = r"[A-Za-z_]\w*(?:\.\w+)*"  # dotted too: `layer2.0`
    declared = re.match(rf"\s*({name})\s*=(?!=)", code)
    constant = re.match(rf"\s*let\s+({name})\s*=(?!=)", code)
    return BrokenDecl(
        declared.group(1) if declared else None,
        span,
        mentions=tuple(dict.fromkeys(re.findall(name, code))),
        wiring="->" in code,
        name_span=_within(statement, span, declared.start(1), declared.end(1)) if declared else None,
        constant=constant.group(1) if constant else None,
    )


def _within(statement: str, span: Span, start: int, end: int) -> Span:
    """The span of `statement[start:end]`, a stretch of one line of the statement at `span`."""
    line_break = statement.rfind("\n", 0, start)
    line = span.line + statement.count("\n", 0, start)
    column = (span.column + start) if line_break < 0 else start - line_break
    return Span(span.path, line, column, line, column + end - start, span.start + start, span.start + end)
