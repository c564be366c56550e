"""Layer kinds as the editor shows them: a description, as `graphdl layers` lists it (the
signature is the kind's own, `LayerKind.signature`), and the values an argument can take where
they are few."""

from __future__ import annotations

from graphdl.catalog import Bool, Choice, LayerKind, Padding, Param
from graphdl.syntax import format_value


def description(kind: LayerKind) -> str:
    """The kind's category, summary and ports (of an instance with the default arguments: no
    kind's ports depend on a required argument), as Markdown."""
    defaults = kind.complete({})
    inputs = ", ".join(kind.inputs(defaults)) or "none"
    return f"{kind.category}: {kind.summary}\n\ninputs: {inputs}; outputs: {', '.join(kind.outputs(defaults))}"


def values(param: Param) -> tuple[str, ...]:
    """The values of an argument that takes one of a few words, written as in the language."""
    if isinstance(param.type, Choice):
        return tuple(format_value(c) for c in param.type.choices)
    if isinstance(param.type, Padding):
        return (format_value("same"),)
    if isinstance(param.type, Bool):
        return ("true", "false")
    return ()
