"""graphdl: neural networks as graphs of named layers.

A `.dlg` file names layers and wires them; graphdl checks it like a compiler, compiles it to a
PyTorch module and trains it, the way MATLAB's layerGraph, dlnetwork and trainnet do:

    lgraph = graphdl.load("mnist.dlg")          # layerGraph(layers), checked
    net = graphdl.dlnetwork(lgraph)             # dlnetwork(lgraph)
    net, info = graphdl.trainnet(X, T, net, "crossentropy", graphdl.training_options("sgdm"))

The names that need torch are imported on first use, so that checking, summarising and rendering
a network never pays for importing torch.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version

from graphdl.analysis import Analysis, LayerInfo, analyze
from graphdl.diagnostics import Diagnostic, GraphdlError
from graphdl.graph import Connection, Layer, LayerGraph, layer
from graphdl.load import Checked, check, load, loads
from graphdl.printer import to_dlg
from graphdl.render import render, to_dot
from graphdl.shape import Shape
from graphdl.summary import summary, summary_data
from graphdl.syntax.formatter import format_dlg

try:
    __version__ = version("graphdl")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

_NEEDS_TORCH = {
    "dlnetwork": "graphdl.compile",
    "DLNetwork": "graphdl.network",
    "LayerError": "graphdl.layer_error",
    "Table": "graphdl.table",
    "trainnet": "graphdl.train",
    "TrainingOptions": "graphdl.train",
    "TrainingInfo": "graphdl.train",
    "TrainingError": "graphdl.train",
    "training_options": "graphdl.train",
    "TrainingProgressMonitor": "graphdl.train",
    "MiniBatchQueue": "graphdl.train",
    "dlfeval": "graphdl.train",
    "dlgradient": "graphdl.train",
    "sgdmupdate": "graphdl.train",
    "adamupdate": "graphdl.train",
    "rmspropupdate": "graphdl.train",
    "dlupdate": "graphdl.train",
    "clip_gradients": "graphdl.train",
    "TimeBasedDecay": "graphdl.train",
    "Piecewise": "graphdl.train",
    "crossentropy": "graphdl.train",
    "mse": "graphdl.train",
    "save_network": "graphdl.network_file",
    "load_network": "graphdl.network_file",
    "load_weights": "graphdl.network_file",
    "from_torch": "graphdl.torch_import",
    "to_python": "graphdl.python_module",
    "export_onnx": "graphdl.export",
    "export_torchscript": "graphdl.export",
}


def __getattr__(name: str):
    if name in _NEEDS_TORCH:
        value = getattr(importlib.import_module(_NEEDS_TORCH[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'graphdl' has no attribute {name!r}")


__all__ = [
    "Analysis",
    "Checked",
    "Connection",
    "Diagnostic",
    "GraphdlError",
    "Layer",
    "LayerGraph",
    "LayerInfo",
    "Shape",
    "analyze",
    "check",
    "format_dlg",
    "layer",
    "load",
    "loads",
    "render",
    "summary",
    "summary_data",
    "to_dlg",
    "to_dot",
    *_NEEDS_TORCH,
]
