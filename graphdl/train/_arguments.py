"""What trainnet is given, read and checked before the network is touched: the data as one
tensor (or source of batches) per input and output, the loss, the metrics, the device, and the
folders it will write to. A refusal here leaves the network as it was."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import torch
from torch.utils.data import Dataset

from graphdl.diagnostics import error
from graphdl.train._data import as_tensor
from graphdl.train._datastores import ArrayDatastore, AugmentedImageDatastore, ImageDatastore, check_datastore
from graphdl.train._losses import LOSSES
from graphdl.train._metrics import named_metric
from graphdl.train._options import TrainingOptions
from graphdl.train._sources import DataQueue, data_queue


def per_port(net, data, port: str, role: str = "") -> tuple[torch.Tensor, ...]:
    """The arrays of `X` (port "input") or `T` ("output"), one per input or output of the
    network, as tensors."""
    names = net.input_names if port == "input" else net.output_names
    what = ("X" if port == "input" else "T") if not role else f"{role}{'X' if port == 'input' else 'T'}"
    if len(names) == 1 and isinstance(data, tuple):
        if len(data) != 1:
            raise error("E801", f"trainnet: `{net.graph.name}` has one {port} ({names[0]}): give {what} as one array, not a tuple of {len(data)}")
        data = data[0]  # a tuple of one array is the same as the array
    if len(names) == 1:
        data = (data,)
    elif not isinstance(data, (tuple, list)) or len(data) != len(names):
        given = f"{len(data)} arrays" if isinstance(data, (tuple, list)) else "one array"
        raise error(
            "E801",
            f"trainnet: `{net.graph.name}` has {len(names)} {port}s ({', '.join(names)}): give {what} as a tuple of "
            f"{len(names)} arrays, one per {port} in that order, not {given}"
        )
    tensors = []
    for name, array in zip(names, data):
        try:
            tensors.append(as_tensor(array))
        except (TypeError, ValueError, RuntimeError) as e:
            raise error("E801", f"trainnet: {what} for the {port} `{name}` is not an array of numbers: {e}") from None
    return tuple(tensors)


# The datastores check_datastore reads whole before training, naming each file that does not fit.
DATASTORES = (ImageDatastore, ArrayDatastore, AugmentedImageDatastore)


def is_pair(data) -> bool:
    """validation_data given as (X, T) arrays, as opposed to a Dataset or an iterable of batches."""
    return isinstance(data, (tuple, list)) and len(data) == 2 and not isinstance(data, Dataset)


def data_source(net, data, options: TrainingOptions, device: torch.device, role: str = "", shard: tuple[int, int] = (0, 1)) -> tuple[DataQueue, tuple]:
    """The mini-batches of a Dataset, a DataLoader or an iterable of batches, checked before
    training: a datastore read whole (check_datastore), and any data's first mini-batch against
    the network's inputs and outputs as arrays are. Returns the queue and that first batch."""
    dataset = data if isinstance(data, Dataset) else getattr(data, "dataset", None)
    if isinstance(dataset, DATASTORES):
        check_datastore(dataset, net)
    queue = data_queue(
        data, lambda batch: split_batch(net, batch, role), device, mini_batch_size=options.mini_batch_size,
        num_workers=options.num_workers, training=not role, shard=shard,
    )
    first = queue.first_batch()
    check_data(net, first[: len(net.input_names)], first[len(net.input_names) :], role)
    return queue, first


def split_batch(net, batch, role: str = "") -> tuple[torch.Tensor, ...]:
    """A batch (X, T), X and T each a tensor or a tuple of one per input or output, as one tuple
    of tensors: the inputs, then the targets."""
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
        given = f"a {type(batch).__name__}" + (f" of {len(batch)}" if isinstance(batch, (tuple, list)) else "")
        raise error("E801", f"trainnet: each {role}batch, and each item of a Dataset, must be a pair (X, T), not {given}",
                    help="a datastore without labels cannot train a network")
    X, T = (tuple(part) if isinstance(part, list) else part for part in batch)
    return (*per_port(net, X, "input", role), *per_port(net, T, "output", role))


def loss_function(net, loss) -> Callable[[tuple, tuple], torch.Tensor]:
    """The loss as a function of the outputs and the targets (tuples), checked against the
    network's outputs."""
    outputs = net.output_names
    if callable(loss):
        return lambda Y, T: loss(*Y, *T)
    if loss is None:
        loss = tuple(getattr(net.graph[name].catalog_kind, "loss", "crossentropy") for name in outputs)
    per_output = (loss,) if isinstance(loss, str) else tuple(loss)
    if len(per_output) != len(outputs):
        raise error(
            "E803",
            f"trainnet: `{net.graph.name}` has {len(outputs)} outputs ({', '.join(outputs)}): give one loss per output, "
            f"(\"crossentropy\", \"mse\"), or a function of the outputs then the targets, not {loss!r}"
        )
    functions = []
    for name, each in zip(outputs, per_output):
        if callable(each):
            functions.append(each)
            continue
        if each not in LOSSES:
            raise error("E803", f"unknown loss {each!r}: use one of {', '.join(LOSSES)} or a function of predictions and targets")
        if each == "crossentropy":
            check_probabilities(net, name)
        functions.append(LOSSES[each])
    if len(functions) == 1:
        (only,) = functions
        return lambda Y, T: only(Y[0], T[0])
    return lambda Y, T: sum(f(y, t) for f, y, t in zip(functions, Y, T))


def metric_functions(net, targets: tuple, wanted) -> dict[str, Callable[[tuple, tuple], torch.Tensor]]:
    """The metrics recorded beside the loss, by name, as functions of the outputs and the targets
    (tuples). Left unset, the accuracy of each output trained on class indices."""
    outputs = net.output_names
    # Outputs trained on class indices: integer targets, one per observation (and pixel).
    classified = [
        i for i, t in enumerate(targets) if not t.is_floating_point() and t.dim() == len(net.analysis[outputs[i]].output.torch_size(1, 1)) - 1
    ]
    functions: dict = {}
    for n, metric in enumerate(wanted or (["accuracy"] if classified else []), 1):
        if callable(metric):
            name = getattr(metric, "__name__", "<lambda>")
            name = f"metric {n}" if name == "<lambda>" else name
            functions[name] = lambda Y, T, metric=metric: metric(*Y, *T)
            continue
        function, classification = named_metric(metric)
        applies = [i for i in range(len(outputs)) if (i in classified) == classification]
        if not applies:
            kind = "trained on class indices" if classification else "trained on numeric targets (regression)"
            raise error("E802", f"trainnet: the metric {metric!r} needs an output {kind}, and `{net.graph.name}` has none")
        for i in applies:
            name = metric if len(outputs) == 1 else f"{outputs[i]} {metric}"
            functions[name] = lambda Y, T, i=i, function=function: function(Y[i], T[i])
    return functions


def check_probabilities(net, name: str) -> None:
    # crossentropy takes probabilities; fed raw scores it still "trains", to a meaningless loss.
    output = net.graph[name]
    if output.catalog_kind.category == "output":  # an output layer passes on what it receives
        output = net.graph[net.graph.incoming(output.name)[0].source]
    if output.kind != "softmax":
        raise error(
            "E803",
            f"trainnet: crossentropy takes probabilities, but the output `{output.name}` is a {output.kind} layer: "
            "end the network with `softmax()`"
        )


def check_writable(options: TrainingOptions) -> None:
    """Find out now, not after an epoch, that a checkpoint or the plot cannot be written."""
    folders = [Path(options.checkpoint_path)] if options.checkpoint_path else []
    if options.plot_file is not None:
        folders.append(options.plot_file.resolve().parent)
    if options.log_csv is not None:
        folders.append(Path(options.log_csv).resolve().parent)
    if options.tensorboard_dir is not None:
        folders.append(Path(options.tensorboard_dir))
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise error("E006", f"trainnet: cannot write to {folder}: {e.strerror or e}", os_error=e) from e
        if not os.access(folder, os.W_OK):
            raise error("E006", f"trainnet: cannot write to {folder}: permission denied")


def device_of(environment: str) -> torch.device:
    """MATLAB's execution environment, or a torch device ("cuda:1", "mps"), checked to exist."""
    if environment in ("gpu", "multi-gpu") and not torch.cuda.is_available():
        raise error("E802", f'execution_environment "{environment}" needs a CUDA device, and torch sees none')
    if environment == "parallel":
        return torch.device("cpu")
    if environment in ("gpu", "auto", "multi-gpu"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(environment)
    if device.type == "cuda" and not (torch.cuda.is_available() and (device.index or 0) < torch.cuda.device_count()):
        seen = f"{torch.cuda.device_count()} CUDA devices" if torch.cuda.is_available() else "no CUDA device"
        raise error("E802", f"execution_environment {environment!r}: torch sees {seen}")
    if device.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise error("E802", f"execution_environment {environment!r}: this machine has no MPS device (Apple silicon)")
    if device.type not in ("cpu", "cuda", "mps"):
        # Other backends (xpu, ...) are torch's to check; a device torch cannot make is refused by it.
        try:
            torch.empty(0, device=device)
        except (RuntimeError, AssertionError) as e:
            raise error("E802", f"execution_environment {environment!r}: {e}") from None
    return device


def check_data(net, inputs: tuple[torch.Tensor, ...], targets: tuple[torch.Tensor, ...], role: str = "") -> None:
    lengths = {len(d) if d.dim() else 0 for d in inputs + targets}
    if lengths == {0}:
        raise error("E801", f"trainnet: the {role}data has no observations")
    if len(lengths) != 1:
        counts = ", ".join(f"{len(d)}" for d in inputs + targets)
        raise error("E801", f"trainnet: the {role}observations and targets must be as many: the arrays hold {counts}")
    for name, T in zip(net.output_names, targets):
        output = net.analysis[name].output
        if output.is_sequence and T.dim() == 1:
            raise error(
                "E801",
                f"trainnet: the network's output `{name}` is a sequence ({output}), but there is one target per observation: "
                'to classify or regress a whole sequence, give the recurrent layer outputMode="last"'
            )
    for name, X in zip(net.input_names, inputs):
        shape = net.analysis[name].output
        expected = shape.torch_size(len(X), X.shape[-1] if shape.is_sequence and X.dim() > 1 else None)
        if tuple(X.shape) != expected:
            raise error(
                "E801",
                f"trainnet: the network's input `{name}` takes {shape} observations, tensors of size "
                f"(N, {', '.join(map(str, expected[1:]))}), but the {role}data has size {tuple(X.shape)}"
            )
