"""The layer catalog: every layer kind graphdl knows, one contract per kind (see registry.py).

Importing this package registers the built-in kinds; it does not import torch.
"""

from graphdl.catalog import activation, combination, convolution, input, normalization, pooling, reshape  # noqa: F401  (registers)
from graphdl.catalog.arguments import ArgType, Bool, Choice, Float, Int, IntList, Padding, Param, Size
from graphdl.catalog.registry import Inferred, LayerKind, LayerProblem, kinds, lookup, register

__all__ = [
    "ArgType", "Bool", "Choice", "Float", "Inferred", "Int", "IntList", "LayerKind", "LayerProblem",
    "Padding", "Param", "Size", "kinds", "lookup", "register",
]
