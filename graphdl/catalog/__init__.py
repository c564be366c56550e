"""The layer catalog: every layer kind graphdl knows, one contract per kind (see registry.py).

Importing this package registers the built-in kinds, a module per family of layers in this folder
(found, not listed, so that adding a family touches one file), then the kinds that installed
packages offer through the `graphdl.layers` entry point. It does not import torch.
"""

from __future__ import annotations

import importlib
import pkgutil

from graphdl.catalog.arguments import ArgType, Bool, Choice, Float, Int, IntList, Padding, Param, Size
from graphdl.catalog.registry import Factors, Inferred, LayerKind, LayerProblem, kinds, load_plugins, lookup, register

_NOT_FAMILIES = {"arguments", "registry", "window", "modules"}

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module not in _NOT_FAMILIES:
        importlib.import_module(f"{__name__}.{_module}")

load_plugins()

__all__ = [
    "Factors",
    "ArgType", "Bool", "Choice", "Float", "Inferred", "Int", "IntList", "LayerKind", "LayerProblem",
    "Padding", "Param", "Size", "kinds", "lookup", "register",
]
