"""Parse: `.dlg` text to a syntax tree of small frozen dataclasses, every node with its span.

The first stage after the ground floor (`source`, `diagnostics`): it knows no layer names and
imports nothing else of graphdl's.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from graphdl.syntax._printer import format_expr, format_value, show_value
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

__all__ = [
    "Argument", "Binary", "BlockDecl", "BrokenDecl", "Call", "Chain", "Condition", "Conditional", "Document", "Expr",
    "Function", "Import", "Index", "LayerDecl", "Let", "ListExpr", "Literal", "Name", "NetworkDecl", "Parameter",
    "PortRef", "Ports", "Repeat", "Unary",
    "format_dlg", "format_expr", "format_value", "parse", "parse_expression", "read_expression", "show_value",
]

# What needs the parser is imported on first use: the catalog prints values with `format_value`,
# and `graphdl layers` should not load Lark for that.
_LAZY = {"parse": "_parser", "parse_expression": "_parser", "read_expression": "_parser", "format_dlg": "_formatter"}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f"graphdl.syntax.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'graphdl.syntax' has no attribute {name!r}")


if TYPE_CHECKING:
    from graphdl.syntax._formatter import format_dlg
    from graphdl.syntax._parser import parse, parse_expression, read_expression
