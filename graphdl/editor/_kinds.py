"""Layer kinds as the editor shows them: a signature and a description, as `graphdl layers`
lists them, and the values an argument can take where they are few."""

from __future__ import annotations

from graphdl.catalog import REQUIRED, Bool, Choice, LayerKind, Padding, Param, is_factor_param
from graphdl.syntax import format_value


def signature(kind: LayerKind) -> str:
    """`convolution2d(filterSize, numFilters, stride=1, ...)`: the arguments in order, required
    ones bare, optional ones without a default in brackets (learn-rate and L2 factors left out)."""
    return f"{kind.name}({', '.join(_argument(p) for p in kind.params if not is_factor_param(p))})"


def _argument(p: Param) -> str:
    if p.default is REQUIRED:
        return p.name
    if p.default is None:
        return f"[{p.name}]"
    return f"{p.name}={format_value(p.default)}"


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
