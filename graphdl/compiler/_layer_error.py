"""Errors raised inside a compiled forward, told in the terms of the network's source.

A torch error from deep inside a forward says what went wrong but not where in the network. The
network catches it at its own call (a `try` costs nothing until something is raised), finds the
line of the generated forward that raised it in the traceback, and from that line the layer:
its name, kind and declaration in the `.dlg` file, what it received and what it expects.
"""

from __future__ import annotations

import re

import torch

from graphdl.analysis import Analysis
from graphdl.compiler._codegen import GeneratedForward
from graphdl.diagnostics import Diagnostic, RunError, reason, render
from graphdl.graph import instance_labels


class LayerError(RunError):
    """A layer failed while the network ran (E501), a RuntimeError as torch's own errors are.
    `layer`, `kind` and `received` (the sizes of the tensors it was given, by variable) say which
    and with what; the exception that torch raised is the `__cause__`. It pickles (GraphdlError's
    `__reduce__` brings these attributes back), so one raised in a worker reaches the parent."""

    def __init__(self, diagnostic: Diagnostic, sources, layer: str, kind: str, received: dict[str, tuple[int, ...]]):
        super().__init__([diagnostic], sources)
        self.diagnostic = diagnostic
        self.layer = layer
        self.kind = kind
        self.received = received

    def _text(self) -> str:
        return render(self.diagnostics[0], self.sources)  # one diagnostic: no count of errors after it


_ASSIGNMENT = re.compile(r"\s*(\w+) = ")


def layer_error(error: Exception, generated: GeneratedForward, analysis: Analysis) -> LayerError | None:
    """The LayerError for `error`, raised while `generated` ran; None if it did not come from a
    layer (a wrong number of inputs, say)."""
    found = None
    traceback = error.__traceback__
    while traceback is not None:  # the innermost frame of the generated code is the failing line
        if traceback.tb_frame.f_code.co_filename == generated.filename:
            found = traceback.tb_frame, traceback.tb_lineno
        traceback = traceback.tb_next
    if found is None:
        return None
    frame, line = found
    assignment = _ASSIGNMENT.match(generated.code.splitlines()[line - 1])
    nodes = {node.name: node for node in generated.graph.nodes}
    node = nodes.get(assignment.group(1)) if assignment else None
    if node is None or "layer" not in node.meta:
        return None
    name = node.meta["layer"]
    info = analysis[name]
    layer = info.layer
    received, notes = {}, []
    for argument in node.all_input_nodes:
        value = frame.f_locals.get(argument.name)
        if isinstance(value, torch.Tensor) and argument.op != "get_attr":
            received[argument.name] = tuple(value.shape)
            source = argument.meta.get("layer")
            what = f"the output of `{source}`" if source != name else f"`{argument.name}`"
            notes.append(f"it received {what}, a tensor of size {_size(value)}")
    notes += [f"it expects {_port(port, layer)}{shape} ({_what(shape)}), tensors of size {shape.torch_text()}" for port, shape in info.inputs.items()]
    diagnostic = Diagnostic(
        "E501",
        f"layer `{name}` ({layer.kind}) failed: {type(error).__name__}: {reason(error)}",
        layer.name_span or layer.span,
        "declared here" if layer.name_span else "",
        labels=instance_labels(layer),
        notes=tuple(notes),
    )
    return LayerError(diagnostic, analysis.graph.sources, name, layer.kind, received)


def _size(value: torch.Tensor) -> str:
    return f"({', '.join(map(str, value.shape))}), {str(value.dtype).removeprefix('torch.')} on {value.device}"


def _port(port: str, layer) -> str:
    return f"at `{port}` " if len(layer.input_ports) > 1 else ""


def _what(shape) -> str:
    return "sequences" if shape.is_sequence else "features" if shape.format == "C" else "images"

