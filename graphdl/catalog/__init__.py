"""The layer catalog: every layer kind graphdl knows, one contract per kind (see _registry.py).

Importing this package registers the built-in kinds, a module per family of layers in this folder
(found, not listed, so that adding a family touches one file), then the kinds that installed
packages offer through the `graphdl.layers` entry point. It does not import torch.
"""

from __future__ import annotations

import importlib
import pkgutil

from graphdl.catalog._arguments import (
    REQUIRED,
    Any,
    ArgType,
    ArgumentProblem,
    BindingProblem,
    Bool,
    Choice,
    Float,
    Int,
    IntList,
    Padding,
    Param,
    Size,
    as_value,
    bind,
    is_factor_param,
    parameter_names,
)
from graphdl.catalog._categories import CATEGORIES, Category
from graphdl.catalog._emit import Emit
from graphdl.catalog._importing import (
    BATCH,
    SIZES,
    LayerSpec,
    Marker,
    Refused,
    TracedTensor,
    compact,
    layer_spec,
    per_dimension,
    refuse_if,
    show,
    size_of,
    torch_padding,
    window_dims,
)
from graphdl.catalog._registry import Factors, Inferred, LayerKind, LayerProblem, importers, kinds, load_plugins, lookup, register
from graphdl.catalog._shape import Shape

# The modules of the contract itself; every other module here is a family of kinds.
_NOT_FAMILIES = {"_arguments", "_categories", "_emit", "_importing", "_registry", "_shape", "_torch_modules", "_window"}

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module not in _NOT_FAMILIES:
        importlib.import_module(f"{__name__}.{_module}")

load_plugins()

# Grouped by who uses what, each group sorted; ruff's RUF022 would sort the whole list as one and
# leave each comment above names of other groups.
__all__ = [  # noqa: RUF022
    # the contract, for built-in kinds and plugins alike
    "CATEGORIES", "Category", "Emit", "Factors", "Inferred", "LayerKind", "LayerProblem", "Shape", "register",
    # argument types
    "REQUIRED", "Any", "ArgType", "Bool", "Choice", "Float", "Int", "IntList", "Padding", "Param", "Size",
    # importing from PyTorch: what importers get, make and share
    "BATCH", "SIZES", "LayerSpec", "Marker", "Refused", "TracedTensor",
    "compact", "layer_spec", "per_dimension", "refuse_if", "show", "size_of", "torch_padding", "window_dims",
    # the registry and binding arguments, for the stages that read layers
    "ArgumentProblem", "BindingProblem", "as_value", "bind", "importers", "is_factor_param", "kinds", "lookup", "parameter_names",
]
