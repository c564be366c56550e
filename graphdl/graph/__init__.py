"""LayerGraph: the editable network, layers joined port to port, and its printing back to text."""

from graphdl.graph._layer_graph import Connection, Instance, Layer, LayerGraph, binding_diagnostics, instance_labels, layer
from graphdl.graph._names import NETWORK_ATTRIBUTES, name_problem
from graphdl.graph._text import to_dlg

__all__ = [
    "NETWORK_ATTRIBUTES", "Connection", "Instance", "Layer", "LayerGraph",
    "binding_diagnostics", "instance_labels", "layer", "name_problem", "to_dlg",
]
