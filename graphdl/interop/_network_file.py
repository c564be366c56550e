"""The network file: one file holding a network's `.dlg` source and its weights.

It is a `torch.save` dictionary of tensors, strings and numbers only, so it is read with
`torch.load(weights_only=True)`: no pickled code runs, whoever made the file. It keeps every
source the network was built from (imports included) with the network parameters it was given,
so loading builds the very same network again, declared in the same text, and then loads the
weights. Files are written whole or not at all (to a partial file, then renamed), so a failure
while writing never leaves a broken file where the last good one was; weights are checked against
the network before any is copied, so weights that do not fit leave the network as it was.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Mapping
from pathlib import Path

import torch

from graphdl._frontend import check_source
from graphdl.compiler import dlnetwork
from graphdl.diagnostics import error, reason, writing
from graphdl.graph import to_dlg
from graphdl.source import Source

FORMAT = "graphdl-network-1"
# The content's version, beside the format: files without one (version 1) still load. Version 2
# may hold a "training" entry (a trainnet checkpoint's state for resuming), which load_network
# ignores, so a checkpoint is a network file to every reader.
VERSION = 2


def save_network(net, path: str | Path, **metadata) -> Path:
    """Write `net` (its sources, network parameters and state_dict) and `metadata` (numbers,
    strings and booleans: an epoch, a note) to `path`, replacing any file there only once the new
    one is whole."""
    return _write(net, path, metadata, None)


def save_checkpoint(net, path: str | Path, training: dict, **metadata) -> Path:
    """A network file that also holds `training`, trainnet's state for resuming: tensors, numbers,
    strings, booleans, None, and lists, tuples and dicts of them only (checked here, so that the
    file stays readable with weights_only)."""
    _check_plain("training", training)
    return _write(net, path, metadata, training)


def read_checkpoint(path: str | Path) -> tuple[Mapping, dict]:
    """The state_dict and the training state in a trainnet checkpoint; E007 for a file that is
    not one (a network file without training state included)."""
    payload = _read(path)
    whole = isinstance(payload, dict) and payload.get("format") == FORMAT and isinstance(payload.get("state_dict"), Mapping)
    if not (whole and isinstance(payload.get("training"), dict)):
        raise error("E007", f"{path} is not a trainnet checkpoint", help="resume takes a checkpoint written by trainnet with checkpoint_path set")
    return payload["state_dict"], payload["training"]


def _write(net, path: str | Path, metadata: dict, training: dict | None) -> Path:
    graph = net.graph
    metadata = {key: _plain(key, value) for key, value in metadata.items()}
    sources = _sources(graph)
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "network": graph.name,
        "parameters": dict(graph.parameters),
        "sources": sources,
        "state_dict": net.state_dict(),
        # Learn-rate and L2 factors set from Python, and frozen learnables, as (layer, parameter, value).
        "learn_rate_factors": [[layer, parameter, net.learn_rate_factor(layer, parameter)] for layer, parameter, _ in net.learnables],
        "l2_factors": [[layer, parameter, net.l2_factor(layer, parameter)] for layer, parameter, _ in net.learnables],
        "frozen": [[layer, parameter] for layer, parameter, value in net.learnables if not value.requires_grad],
        "metadata": metadata,
    }
    if training is not None:
        payload["training"] = training
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            torch.save(payload, partial)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
    return path


def load_network(path: str | Path, device: str | torch.device = "cpu"):
    """The DLNetwork saved in a network file (or a trainnet checkpoint): its source checked and
    compiled again, its weights loaded. Raises GraphdlError for a file that is not a whole
    network file, or whose source no longer checks (with the diagnostics in that source)."""

    payload = _read(path)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise error("E007", f"{path} is not a graphdl network file", help="a network file is written by graphdl.save_network or by trainnet's checkpoints")
    try:
        sources, network, parameters, state = payload["sources"], payload["network"], payload["parameters"], payload["state_dict"]
        main, *_ = sources
        text = sources[main]
        if not (isinstance(text, str) and isinstance(network, str) and isinstance(parameters, dict) and isinstance(state, Mapping)):
            raise TypeError("a field of the wrong type")  # caught just below: E007
        # Factors and frozen learnables came with the second version of the format's content.
        learn_rate, l2, frozen = payload.get("learn_rate_factors", []), payload.get("l2_factors", []), payload.get("frozen", [])
    except (KeyError, ValueError, TypeError) as e:
        raise error("E007", f"cannot read {path}: a graphdl network file with missing or damaged fields ({reason(e)})") from e
    checked = check_source(Source(main, text), network, parameters, files=sources)
    checked.raise_errors()
    net = dlnetwork(checked.graph)
    net.load_state_dict(state, origin=f"network `{network}` in {path}")
    for layer, parameter, factor in learn_rate:
        net.set_learn_rate_factor(layer, parameter, factor)
    for layer, parameter, factor in l2:
        net.set_l2_factor(layer, parameter, factor)
    for row in frozen:
        net.learnables[tuple(row)].requires_grad_(False)
    return net.to(device)


def load_weights(net, path: str | Path) -> None:
    """Load the weights in `path` (a network file, or a state_dict saved with torch.save) into
    `net`, after checking that every tensor fits; weights that do not fit, or a file that cannot
    be read whole, raise GraphdlError and leave `net` as it was."""
    payload = _read(path)
    if isinstance(payload, dict) and payload.get("format") == FORMAT and isinstance(payload.get("state_dict"), Mapping):
        state, origin = payload["state_dict"], f"network `{payload['network']}` in {path}"
    elif isinstance(payload, Mapping) and all(isinstance(value, torch.Tensor) for value in payload.values()):
        state, origin = payload, str(path)
    else:
        raise error("E007", f"{path} holds neither a graphdl network nor a state_dict")
    net.load_state_dict(state, origin=origin)


def _sources(graph) -> dict[str, str]:
    """The text that builds `graph` again: the sources it was built from, while they still do;
    what `to_dlg` prints once it has been edited from Python (or when it was built there)."""
    if graph.sources:
        sources = {path: source.text for path, source in graph.sources.items()}
        main, *_ = sources
        if check_source(Source(main, sources[main]), graph.name, graph.parameters, files=sources).graph == graph:
            return sources
    return {f"{graph.name}.dlg": to_dlg(graph)}


def _plain(key: str, value: object) -> object:
    """A metadata value as the file can hold it for weights_only loading."""
    if type(value) in (bool, int, float, str) or value is None:  # not subclasses: numpy.float64 is a float
        return value
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # a NumPy or torch scalar
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise error("E229", f"save_network: metadata `{key}` must be a number, a string or a boolean, not {type(value).__name__}")


def _check_plain(where: str, value: object) -> None:
    """Refuse now, not at load time, what torch.load(weights_only=True) would not read back."""
    if isinstance(value, torch.Tensor) or type(value) in (bool, int, float, str) or value is None:
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_plain(f"{where}[{i}]", item)
        return
    if type(value) is dict:
        for key, item in value.items():
            _check_plain(f"{where}[{key!r}]", key)
            _check_plain(f"{where}[{key!r}]", item)
        return
    raise error("E229", f"a checkpoint holds tensors, numbers and strings only, and {where} is a {type(value).__name__}")


def _read(path: str | Path) -> object:
    """The file's content, on the CPU: where it goes is the caller's choice, not the file's."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        raise error(
            "E007",
            f"cannot read {path}: it holds Python objects other than tensors, numbers and strings, which only running code from the file could rebuild",
            help=(
                "graphdl reads files with torch.load(weights_only=True) and never runs code from them; "
                "save weights with graphdl.save_network or torch.save(net.state_dict(), path)"
            ),
        ) from e
    except OSError as e:  # missing, a folder, not readable: not a question of what the file holds
        raise error("E001", f"cannot read {path}: {e.strerror or reason(e)}", os_error=e) from e
    except (EOFError, RuntimeError, ValueError) as e:
        # A truncated or corrupted file, or one that would need code to unpickle.
        raise error("E007", f"cannot read {path}: not a whole graphdl network or weights file ({type(e).__name__}: {reason(e)})") from e
