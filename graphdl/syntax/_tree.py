"""The syntax tree: what the text says, with a span on every node, and no meaning yet.

Argument values are expressions; the elaborator evaluates them (with the parameters, constants and
repeat indices in scope) and checks the results against the layer catalog.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphdl.source import Source, Span

# ---- expressions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    value: object  # int, float, str or bool
    span: Span


@dataclass(frozen=True)
class Name:
    name: str
    span: Span


@dataclass(frozen=True)
class ListExpr:
    items: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True)
class Unary:
    op: str  # "-" or "not"
    operand: Expr
    span: Span


@dataclass(frozen=True)
class Binary:
    op: str  # + - * / // % ** == != < <= > >= and or
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True)
class Conditional:
    """`then if condition else otherwise`."""

    then: Expr
    condition: Expr
    otherwise: Expr
    span: Span


@dataclass(frozen=True)
class Function:
    name: str
    name_span: Span
    arguments: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True)
class Index:
    """`items[position]`: one item of a list, counted from 0 (from the end when negative)."""

    items: Expr
    position: Expr
    span: Span


Expr = Literal | Name | ListExpr | Index | Unary | Binary | Conditional | Function


# ---- statements -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Argument:
    name: str | None  # None for a positional argument
    value: Expr
    span: Span
    name_span: Span | None = None


@dataclass(frozen=True)
class Call:
    """`callee(arguments)`: a layer kind or a block."""

    callee: str
    callee_span: Span
    arguments: tuple[Argument, ...]
    span: Span


@dataclass(frozen=True)
class Repeat:
    """`for i in first..last` or `for w in widths`: the declaration repeated in series, once per
    index of the range (`last` given) or per item of the list (`last` None; an item that is a list
    is unpacked when there are several names, `for t, c in table`)."""

    names: tuple[str, ...]
    name_spans: tuple[Span, ...]
    first: Expr  # the first index, or the list
    last: Expr | None
    span: Span

    @property
    def over_list(self) -> bool:
        return self.last is None


@dataclass(frozen=True)
class LayerDecl:
    name: str
    name_span: Span
    call: Call
    span: Span
    repeat: Repeat | None = None
    shares: str | None = None  # the layer or block instance whose parameters this one uses
    shares_span: Span | None = None


@dataclass(frozen=True)
class Ports:
    """`input x, y` or `output z` in a block; in a network, `output prob`, or `output aux if
    training` for outputs computed only in training (`only` holds the word after `if`)."""

    keyword: str
    keyword_span: Span
    names: tuple[str, ...]
    name_spans: tuple[Span, ...]
    span: Span
    only: str | None = None
    only_span: Span | None = None


@dataclass(frozen=True)
class Let:
    """`let name = expression`: a constant."""

    keyword: str
    keyword_span: Span
    name: str
    name_span: Span
    value: Expr
    span: Span


@dataclass(frozen=True)
class BrokenDecl:
    """A statement that did not parse; its syntax error is already reported. It keeps what later
    stages need to say nothing more about it: the layer name it seems to declare, the names it
    mentions, and whether it was wiring (`->`), which makes its body a DAG."""

    name: str | None
    span: Span
    mentions: tuple[str, ...] = ()
    wiring: bool = False
    name_span: Span | None = None
    constant: str | None = None  # the name a broken `let` seems to define


@dataclass(frozen=True)
class PortRef:
    layer: str
    port: str | None
    span: Span
    layer_span: Span


@dataclass(frozen=True)
class Chain:
    nodes: tuple[PortRef | Call, ...]  # a Call is an inline, anonymous layer or block instance
    span: Span


@dataclass(frozen=True)
class Condition:
    """`if test { ... } else { ... }`: the statements of one branch or the other. `otherwise`
    holds the else branch's statements, or one Condition for `else if`."""

    keyword_span: Span
    test: Expr
    then: tuple[Statement, ...]
    otherwise: tuple[Statement, ...]
    span: Span
    else_span: Span | None = None


Statement = LayerDecl | Chain | Ports | Let | Condition | BrokenDecl


# ---- definitions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    name: str
    span: Span
    default: Expr | None = None


@dataclass(frozen=True)
class Definition:
    """A named body with parameters: a network or a block."""

    name: str
    name_span: Span
    parameters: tuple[Parameter, ...]
    body: tuple[Statement, ...]
    span: Span


class NetworkDecl(Definition):
    """`network name(parameters) { ... }`: what a file offers to build."""


class BlockDecl(Definition):
    """`block name(parameters) { ... }`: a sub-network, instantiated by name."""


@dataclass(frozen=True)
class Import:
    path: str
    span: Span  # of the path string


@dataclass(frozen=True)
class Document:
    source: Source
    definitions: tuple[NetworkDecl | BlockDecl | Import, ...]

    @property
    def networks(self) -> tuple[NetworkDecl, ...]:
        return tuple(d for d in self.definitions if isinstance(d, NetworkDecl))

    @property
    def blocks(self) -> tuple[BlockDecl, ...]:
        return tuple(d for d in self.definitions if isinstance(d, BlockDecl))

    @property
    def imports(self) -> tuple[Import, ...]:
        return tuple(d for d in self.definitions if isinstance(d, Import))
