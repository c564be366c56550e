"""Export: a compiled network as ONNX or TorchScript, for runtimes without graphdl or Python.

Both are exported in inference behaviour (dropout off, batch normalisation with its running
statistics), with the batch size (and the length of sequences of any length) left free, and the
network's input and output layers' names as the graph's input and output names.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import warnings
from pathlib import Path

import torch

from graphdl.diagnostics import error, writing


def example_inputs(net, batch: int = 2, length: int = 5, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """Random inputs of the sizes the input layers take: sequences of any length get `length`
    steps, and an input that feeds word embeddings gets word indices of their vocabulary."""
    graph, inputs = net.graph, []
    generator = torch.Generator().manual_seed(seed)
    for name in net.input_names:
        size = net.analysis[name].output.torch_size(batch, length)
        words = [graph[c.destination].args["numWords"] for c in graph.outgoing(name) if graph[c.destination].kind == "wordEmbedding"]
        x = torch.randint(1, min(words) + 1, size, generator=generator).float() if words else torch.randn(size, generator=generator)
        inputs.append(x.to(net.device))
    return tuple(inputs)


def export_onnx(net, path: str | Path, *, opset: int | None = None) -> Path:
    """Write `net` as an ONNX model (torch's exporter, from torch.export); needs the `onnx` and
    `onnxscript` packages (`pip install "graphdl[onnx]"`)."""
    try:
        import onnxscript  # noqa: F401  (the exporter needs it, and says so less clearly)
    except ImportError as e:
        raise error("E008", "ONNX export needs the packages onnx and onnxscript", help='pip install "graphdl[onnx]"') from e
    path = Path(path)
    inputs = example_inputs(net)
    batch = torch.export.Dim("batch", min=1)
    dynamic = {}
    # The forward's parameters are named after the input layers (`inspect.signature(net.forward)`).
    for name, parameter in zip(net.input_names, inspect.signature(net.forward).parameters):
        shape = net.analysis[name].output
        axes = {0: batch}
        if shape.is_sequence and shape.length is None:
            axes[len(shape.torch_size(1)) - 1] = torch.export.Dim(f"{parameter}_time", min=1)
        dynamic[parameter] = axes
    with net.inference(), _quiet():
        program = torch.onnx.export(
            net,
            inputs,
            dynamo=True,
            # The layers' own names (ONNX allows dots: `layer1.0.relu2`, distinct from `layer1_0_relu2`).
            input_names=list(net.input_names),
            # A network of an input layer alone has an output of that name: ONNX needs another.
            output_names=[name + ("_output" if name in net.input_names else "") for name in net.output_names],
            dynamic_shapes=dynamic,
            opset_version=opset,
            verbose=False,
        )
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        program.save(str(path))
    return path


def export_torchscript(net, path: str | Path) -> Path:
    """Write `net` as a TorchScript module (`torch.jit.load(path)` runs it without graphdl or
    Python). The network is traced (torch.jit.trace) on a batch of 2, and the traced module is
    checked against the network on another batch size, and another length for sequences of any
    length: a network whose trace would compute something else is refused, not written."""
    with net.inference(), torch.no_grad(), _quiet():
        traced = torch.jit.trace(net, example_inputs(net, batch=2, length=5), check_trace=False)
        check = example_inputs(net, batch=3, length=7, seed=1)
        expected, actual = _tuple(net(*check)), _tuple(traced(*check))
    for name, want, got in zip(net.output_names, expected, actual):
        if want.shape != got.shape or not torch.allclose(want, got, rtol=1e-4, atol=1e-5):
            raise error(
                "E702",
                f"cannot export network `{net.graph.name}` to TorchScript: its traced output `{name}` differs from the network's at another input size",
                help="export it to ONNX instead",
            )
    path = Path(path)
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        traced.save(str(path))
    return path


@contextlib.contextmanager
def _quiet():
    """Without the exporters' notes to their own developers (deprecations inside torch, optional
    packages it can do without): what the user needs to know, graphdl says."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _tuple(value) -> tuple[torch.Tensor, ...]:
    return value if isinstance(value, tuple) else (value,)
