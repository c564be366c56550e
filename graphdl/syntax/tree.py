"""The syntax tree: what the text says, with a span on every node, and no meaning yet.

Values are Python values (int, float, str, bool, tuple for lists) wrapped in `Literal` so that each
keeps its span; the elaborator checks them against the layer catalog.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphdl.source import Source, Span


@dataclass(frozen=True)
class Literal:
    value: object
    span: Span

    def python(self) -> object:
        """The plain Python value, with lists as tuples of plain values."""
        if isinstance(self.value, tuple):
            return tuple(item.python() for item in self.value)
        return self.value


@dataclass(frozen=True)
class Argument:
    name: str | None  # None for a positional argument
    value: Literal
    span: Span
    name_span: Span | None = None


@dataclass(frozen=True)
class Call:
    kind: str
    kind_span: Span
    arguments: tuple[Argument, ...]
    span: Span


@dataclass(frozen=True)
class LayerDecl:
    name: str
    name_span: Span
    call: Call
    span: Span


@dataclass(frozen=True)
class BrokenDecl:
    """A statement that did not parse; its syntax error is already reported. It keeps what later
    stages need to say nothing more about it: the layer name it seems to declare, the names it
    mentions, and whether it was wiring (`->`), which makes its network a DAG."""

    name: str | None
    span: Span
    mentions: tuple[str, ...] = ()
    wiring: bool = False


@dataclass(frozen=True)
class PortRef:
    layer: str
    port: str | None
    span: Span
    layer_span: Span


@dataclass(frozen=True)
class Chain:
    ports: tuple[PortRef, ...]
    span: Span


Statement = LayerDecl | BrokenDecl | Chain


@dataclass(frozen=True)
class NetworkDecl:
    name: str
    name_span: Span
    body: tuple[Statement, ...]
    span: Span


@dataclass(frozen=True)
class Document:
    source: Source
    networks: tuple[NetworkDecl, ...]
