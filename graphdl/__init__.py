"""graphdl: neural networks as graphs of named layers.

A `.dlg` file names layers and wires them; graphdl checks it like a compiler, compiles it to a
PyTorch module and trains it, the way MATLAB's layerGraph, dlnetwork and trainnet do:

    lgraph = graphdl.load("mnist.dlg")          # layerGraph(layers), checked
    net = graphdl.dlnetwork(lgraph)             # dlnetwork(lgraph)
    net, info = graphdl.trainnet(X, T, net, "crossentropy", graphdl.training_options("sgdm"))

This module is the public API and nothing else. Every name is imported on first use, from the
pipeline's package that owns it, so that `import graphdl` costs nothing, and checking, summarising
and rendering a network never pays for importing torch.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

# Each public name and the package it lives in, in pipeline order.
_HOMES = {
    "diagnostics": ("Diagnostic", "GraphdlError"),
    "syntax": ("format_dlg",),
    "catalog": ("Shape",),
    "graph": ("Connection", "Layer", "LayerGraph", "layer", "to_dlg"),
    "analysis": ("Analysis", "LayerInfo", "analyze"),
    "_frontend": ("Checked", "check", "check_text", "load", "loads", "networks"),
    "views": ("render", "summary", "summary_data", "to_dot"),
    "compiler": ("DLNetwork", "LayerError", "Table", "dlnetwork"),
    "interop": ("export_onnx", "export_torchscript", "from_torch", "load_network", "load_weights", "save_network", "to_python"),
    "train": (
        "Callback", "Cosine", "MiniBatchQueue", "Piecewise", "ProgressInfo", "TimeBasedDecay", "TrainingError", "TrainingInfo", "TrainingOptions",
        "TrainingProgressMonitor", "Warmup", "adamupdate", "binary_crossentropy", "clip_gradients", "crossentropy", "dlfeval", "dlgradient",
        "dlupdate", "mse", "rmspropupdate", "sgdmupdate", "trainnet", "training_options",
        "ArrayDatastore", "AugmentedImageDatastore", "ImageDataAugmenter", "ImageDatastore", "array_datastore",
        "augmented_image_datastore", "check_datastore", "image_data_augmenter", "image_datastore", "read_idx", "split_each_label",
    ),
}
_HOME_OF = {name: f"graphdl.{package}" for package, names in _HOMES.items() for name in names}


def __getattr__(name: str):
    if name == "__version__":  # importlib.metadata alone costs more than the rest of `import graphdl`
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("graphdl")
        except PackageNotFoundError:  # a source tree that is not installed
            value = "0+unknown"
        globals()[name] = value
        return value
    if name in _HOME_OF:
        value = getattr(importlib.import_module(_HOME_OF[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'graphdl' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOME_OF])


__all__ = sorted(_HOME_OF)

# Inside IPython (a Jupyter kernel above all), graphs, analyses and networks show as their picture,
# so views are loaded at import there, and only there. IPython is looked for, not imported: a
# kernel has always imported it, and anywhere else importing it would cost time for nothing.
_shell = sys.modules["IPython"].get_ipython() if "IPython" in sys.modules else None
if _shell is not None:
    from graphdl.views import show_pictures_in as _show_pictures_in

    _show_pictures_in(_shell.display_formatter)

if TYPE_CHECKING:  # for type checkers and editors: the same names, re-exported explicitly
    from graphdl._frontend import (
        Checked as Checked,
        check as check,
        check_text as check_text,
        load as load,
        loads as loads,
        networks as networks,
    )
    from graphdl.analysis import (
        Analysis as Analysis,
        LayerInfo as LayerInfo,
        analyze as analyze,
    )
    from graphdl.catalog import (
        Shape as Shape,
    )
    from graphdl.compiler import (
        DLNetwork as DLNetwork,
        LayerError as LayerError,
        Table as Table,
        dlnetwork as dlnetwork,
    )
    from graphdl.diagnostics import (
        Diagnostic as Diagnostic,
        GraphdlError as GraphdlError,
    )
    from graphdl.graph import (
        Connection as Connection,
        Layer as Layer,
        LayerGraph as LayerGraph,
        layer as layer,
        to_dlg as to_dlg,
    )
    from graphdl.interop import (
        export_onnx as export_onnx,
        export_torchscript as export_torchscript,
        from_torch as from_torch,
        load_network as load_network,
        load_weights as load_weights,
        save_network as save_network,
        to_python as to_python,
    )
    from graphdl.syntax import (
        format_dlg as format_dlg,
    )
    from graphdl.train import (
        ArrayDatastore as ArrayDatastore,
        AugmentedImageDatastore as AugmentedImageDatastore,
        Callback as Callback,
        Cosine as Cosine,
        ImageDataAugmenter as ImageDataAugmenter,
        ImageDatastore as ImageDatastore,
        MiniBatchQueue as MiniBatchQueue,
        Piecewise as Piecewise,
        ProgressInfo as ProgressInfo,
        TimeBasedDecay as TimeBasedDecay,
        TrainingError as TrainingError,
        TrainingInfo as TrainingInfo,
        TrainingOptions as TrainingOptions,
        TrainingProgressMonitor as TrainingProgressMonitor,
        Warmup as Warmup,
        adamupdate as adamupdate,
        array_datastore as array_datastore,
        augmented_image_datastore as augmented_image_datastore,
        binary_crossentropy as binary_crossentropy,
        check_datastore as check_datastore,
        clip_gradients as clip_gradients,
        crossentropy as crossentropy,
        dlfeval as dlfeval,
        dlgradient as dlgradient,
        dlupdate as dlupdate,
        image_data_augmenter as image_data_augmenter,
        image_datastore as image_datastore,
        mse as mse,
        read_idx as read_idx,
        rmspropupdate as rmspropupdate,
        sgdmupdate as sgdmupdate,
        split_each_label as split_each_label,
        training_options as training_options,
        trainnet as trainnet,
    )
    from graphdl.views import (
        render as render,
        summary as summary,
        summary_data as summary_data,
        to_dot as to_dot,
    )
