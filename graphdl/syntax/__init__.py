"""Parse: `.dlg` text to a syntax tree of small frozen dataclasses, every node with its span."""

from graphdl.syntax.parser import parse, parse_value
from graphdl.syntax.tree import Argument, BrokenDecl, Call, Chain, Document, LayerDecl, Literal, NetworkDecl, PortRef

__all__ = ["Argument", "BrokenDecl", "Call", "Chain", "Document", "LayerDecl", "Literal", "NetworkDecl", "PortRef", "parse", "parse_value"]
