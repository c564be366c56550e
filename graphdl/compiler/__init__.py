"""Compile: a checked LayerGraph to a DLNetwork, a torch module whose forward is generated code."""

from graphdl.compiler._codegen import GeneratedForward, forward_graph, generate_forward
from graphdl.compiler._layer_error import LayerError
from graphdl.compiler._network import DLNetwork, dlnetwork
from graphdl.compiler._table import Table
from graphdl.compiler._weights import weight_problems, weights_error

__all__ = [
    "DLNetwork", "GeneratedForward", "LayerError", "Table",
    "dlnetwork", "forward_graph", "generate_forward", "weight_problems", "weights_error",
]
