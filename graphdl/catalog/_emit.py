"""Emit: what a layer kind writes its part of the generated forward with.

It lives in the catalog because it is part of a kind's contract (`LayerKind.generate`); the compiler
makes one per layer. It only calls methods of the fx Graph it is given, so the catalog still
imports no torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import fx


@dataclass(frozen=True)
class Emit:
    """What a layer kind's `generate` writes its part of the forward with: a call of the layer's
    module, torch functions and methods, and the module's own tensors, each a node of the graph.
    The values are named after the layer (`fc`, and `fc_flatten` for a step on the way)."""

    graph: fx.Graph
    layer: str
    target: str  # the path of the layer's module (its owner's, for a layer that shares one)
    has_module: bool

    def module(self, *values: fx.Node) -> fx.Node:
        if not self.has_module:
            return values[0]
        return self.graph.create_node("call_module", self.target, values, name=self._name())

    def function(self, fn, *args, **kwargs) -> fx.Node:
        return self.graph.create_node("call_function", fn, args, kwargs, name=self._name(fn.__name__))

    def method(self, name: str, *args, **kwargs) -> fx.Node:
        return self.graph.create_node("call_method", name, args, kwargs, name=self._name(name))

    def tensor(self, name: str) -> fx.Node:
        """A parameter or buffer of the layer's module (`self.input.mean`)."""
        return self.graph.get_attr(f"{self.target}.{name}")

    def _name(self, step: str | None = None) -> str:
        return self.layer.replace(".", "_") + (f"_{step}" if step else "")
