"""Parse: `.dlg` text to a syntax tree of small frozen dataclasses, every node with its span.

The first stage after the ground floor (`source`, `diagnostics`): it knows no layer names and
imports nothing else of graphdl's.
"""

from graphdl.syntax._formatter import format_dlg
from graphdl.syntax._parser import parse, parse_expression
from graphdl.syntax._printer import format_expr, format_value
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

__all__ = [
    "Argument", "Binary", "BlockDecl", "BrokenDecl", "Call", "Chain", "Conditional", "Document", "Expr",
    "Function", "Import", "LayerDecl", "Let", "ListExpr", "Literal", "Name", "NetworkDecl", "Parameter",
    "PortRef", "Ports", "Repeat", "Unary",
    "format_dlg", "format_expr", "format_value", "parse", "parse_expression",
]
