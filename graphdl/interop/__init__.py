"""Leaving graphdl and coming in: network files, Python source, ONNX and TorchScript, and import
from PyTorch modules."""

from graphdl.interop._export import example_inputs, export_onnx, export_torchscript
from graphdl.interop._from_torch import from_torch
from graphdl.interop._network_file import load_network, load_weights, read_checkpoint, save_checkpoint, save_network
from graphdl.interop._python import to_python

__all__ = [
    "example_inputs", "export_onnx", "export_torchscript", "from_torch", "load_network", "load_weights", "read_checkpoint", "save_checkpoint",
    "save_network", "to_python",
]
