"""Compile: a checked LayerGraph to a DLNetwork, a torch module whose forward is generated code."""

from graphdl.compiler._codegen import forward_graph
from graphdl.compiler._layer_error import LayerError
from graphdl.compiler._network import DLNetwork, dlnetwork
from graphdl.compiler._table import Table

__all__ = ["DLNetwork", "LayerError", "Table", "dlnetwork", "forward_graph"]
