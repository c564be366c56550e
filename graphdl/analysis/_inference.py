"""Static shape inference: every layer's input and output sizes, and its learnables, from the
input layers' sizes alone, with a symbolic batch size.

Layers are visited in a deterministic topological order. A layer whose inputs are not all known
(fed by a layer with an error, or left unconnected) is skipped without a word: one mistake gives one
diagnostic, not one per layer downstream of it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from graphdl.catalog import LayerProblem, Shape, parameter_names
from graphdl.diagnostics import Diagnostic, Label, Severity
from graphdl.graph import Layer, LayerGraph, instance_labels
from graphdl.source import Span


@dataclass(frozen=True)
class LayerInfo:
    """What analysis knows of one layer. Learnable and state sizes are PyTorch's."""

    layer: Layer
    inputs: Mapping[str, Shape]
    outputs: Mapping[str, Shape]
    learnables: Mapping[str, tuple[int, ...]]
    state: Mapping[str, tuple[int, ...]]
    flops: int = 0  # of one observation's forward (one step of a sequence of any length)

    @property
    def memory(self) -> int:
        """Bytes of the activations this layer outputs for one observation (float32)."""
        return 4 * sum(shape.numel for shape in self.outputs.values())

    @property
    def output(self) -> Shape:
        """The output shape of a single-output layer."""
        (shape,) = self.outputs.values()
        return shape

    @property
    def num_learnables(self) -> int:
        return sum(math.prod(size) for size in self.learnables.values())


def infer_shapes(graph: LayerGraph, order: list[str], skip: set[str]) -> tuple[dict[str, LayerInfo], list[Diagnostic]]:
    infos: dict[str, LayerInfo] = {}
    diagnostics: list[Diagnostic] = []
    for name in order:
        layer = graph[name]
        if name in skip or not layer.valid:
            continue
        incoming = {c.destination_port: c for c in graph.incoming(name)}
        if any(port not in incoming for port in layer.input_ports):
            continue
        inputs: dict[str, Shape] = {}
        for port in layer.input_ports:
            c = incoming[port]
            source = infos.get(c.source)
            if source is None or c.source_port not in source.outputs:
                break
            inputs[port] = source.outputs[c.source_port]
        else:
            try:
                inferred = layer.catalog_kind.infer(layer.args, inputs)
                flops = layer.catalog_kind.flops(layer.args, inputs, inferred)
            except LayerProblem as problem:
                diagnostics.append(_diagnostic(layer, problem, incoming, inputs))
                continue
            except ArithmeticError:
                # A size past what a float holds (a scale of 1e300, twice): no input fits it.
                problem = LayerProblem("its output would be larger than any number can say", code="E403")
                diagnostics.append(_diagnostic(layer, problem, incoming, inputs))
                continue
            infos[name] = LayerInfo(layer, inputs, dict(inferred.outputs), dict(inferred.learnables), dict(inferred.state), flops)
            for caution in layer.catalog_kind.cautions(layer.args, inputs):
                diagnostics.append(replace(_diagnostic(layer, caution, incoming, inputs), severity=Severity.WARNING))
    return infos, diagnostics


def _diagnostic(layer: Layer, problem: LayerProblem, incoming, inputs: Mapping[str, Shape]) -> Diagnostic:
    span = argument_span(layer, problem.argument) if problem.argument else None
    labels = []
    for port in problem.ports:
        c = incoming[port]
        if c.span is not None and c.span != layer.span:
            labels.append(Label(c.span, f"{port}: {inputs[port]} from `{c.source}`"))
    label = f"this {layer.kind}" if span is None else ""
    message = problem.message if layer.call else f"layer `{layer.name}`: {problem.message}"
    labels += instance_labels(layer)
    return Diagnostic(problem.code, message, span or layer.span, label, tuple(labels), problem.notes, problem.help)


def argument_span(layer: Layer, param: str) -> Span | None:
    """Where the argument `param` of a layer is written, if it is."""
    if layer.call is None:
        return None
    for argument, name in zip(layer.call.arguments, parameter_names(layer.catalog_kind.params, layer.arguments)):
        if name == param:
            return argument.value.span
    return None


def check_shared_sizes(infos: dict[str, LayerInfo]) -> list[Diagnostic]:
    """Layers that share parameters must need parameters of the same sizes."""
    diagnostics = []
    for info in infos.values():
        owner = infos.get(info.layer.shares) if info.layer.shares else None
        if owner is not None and dict(owner.learnables) != dict(info.learnables):
            mine, theirs = _show(info.learnables), _show(owner.learnables)
            labels = ((Label(owner.layer.name_span, f"needs {theirs}"),) if owner.layer.name_span else ()) + instance_labels(info.layer)
            diagnostics.append(
                Diagnostic(
                    "E404", f"`{info.layer.name}` needs learnables of other sizes than `{owner.layer.name}`, whose parameters it shares",
                    info.layer.name_span or info.layer.span, f"needs {mine}", labels, help="give both layers inputs of one size",
                )
            )
    return diagnostics


def _show(learnables) -> str:
    return ", ".join(f"{name} {'x'.join(map(str, size))}" for name, size in learnables.items())
