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

from graphdl.diagnostics import GraphdlError, error, reason

FORMAT = "graphdl-network-1"


def save_network(net, path: str | Path, **metadata) -> Path:
    """Write `net` (its sources, network parameters and state_dict) and `metadata` (numbers and
    strings: an epoch, a note) to `path`, replacing any file there only once the new one is whole."""
    from graphdl.printer import to_dlg

    graph = net.graph
    if graph.sources:
        sources = {path: source.text for path, source in graph.sources.items()}
    else:  # built in Python: its text is what to_dlg prints
        sources = {f"{graph.name}.dlg": to_dlg(graph)}
    payload = {
        "format": FORMAT,
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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
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
    from graphdl.compile import dlnetwork
    from graphdl.load import check_source
    from graphdl.source import Source

    payload = _read(path, device)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise error("E001", f"{path} is not a graphdl network file", help="a network file is written by graphdl.save_network or by trainnet's checkpoints")
    main, *_ = payload["sources"]
    checked = check_source(Source(main, payload["sources"][main]), payload["network"], payload["parameters"], files=payload["sources"])
    checked.raise_errors()
    net = dlnetwork(checked.graph).to(device)
    net.load_state_dict(payload["state_dict"])
    for layer, parameter, factor in payload["learn_rate_factors"]:
        net.set_learn_rate_factor(layer, parameter, factor)
    for layer, parameter, factor in payload["l2_factors"]:
        net.set_l2_factor(layer, parameter, factor)
    for row in payload["frozen"]:
        net.learnables[tuple(row)].requires_grad_(False)
    return net


def load_weights(net, path: str | Path) -> None:
    """Load the weights in `path` (a network file, or a state_dict saved with torch.save) into
    `net`, after checking that every tensor fits; weights that do not fit, or a file that cannot
    be read whole, raise GraphdlError and leave `net` as it was."""
    payload = _read(path, net.device)
    if isinstance(payload, dict) and payload.get("format") == FORMAT:
        state, origin = payload["state_dict"], f"network `{payload['network']}` in {path}"
    elif isinstance(payload, Mapping) and all(isinstance(value, torch.Tensor) for value in payload.values()):
        state, origin = payload, str(path)
    else:
        raise error("E001", f"{path} holds neither a graphdl network nor a state_dict")
    net.load_state_dict(state, origin=origin)


def weight_problems(net, state: Mapping[str, torch.Tensor], *, strict: bool = True) -> list[str]:
    """What keeps `state` from loading into `net`: names it lacks or has in excess (when
    `strict`), and tensors of other sizes; empty when it fits."""
    own = net.state_dict()
    problems = []
    if strict:
        missing = [key for key in own if key not in state]
        unexpected = [key for key in state if key not in own]
        if missing:
            problems.append(f"{_count(missing, 'tensor')} of the network missing, e.g. {_examples(missing)}")
        if unexpected:
            problems.append(f"{_count(unexpected, 'tensor')} the network does not have, e.g. {_examples(unexpected)}")
    for key, value in state.items():
        if key in own and tuple(value.shape) != tuple(own[key].shape):
            size = "x".join(map(str, value.shape)) or "scalar"
            problems.append(f"`{key}` is {size} but the network's is {'x'.join(map(str, own[key].shape)) or 'scalar'}")
    return problems


def weights_error(net, problems: list[str], origin: str) -> GraphdlError:
    return error(
        "E502",
        f"the weights from {origin} do not fit network `{net.graph.name}`",
        notes=tuple(problems[:5]) + ((f"and {len(problems) - 5} more",) if len(problems) > 5 else ()),
        help="the network was left as it was; load weights saved from this network (or one with the same layers)",
    )


def _read(path: str | Path, device) -> object:
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except FileNotFoundError as e:
        raise error("E001", f"cannot read {path}: {e.strerror}") from e
    except (OSError, EOFError, RuntimeError, ValueError, pickle.UnpicklingError) as e:
        # A truncated or corrupted file, or one that would need code to unpickle.
        raise error("E001", f"cannot read {path}: not a whole graphdl network or weights file ({type(e).__name__}: {reason(e)})") from e


def _count(keys: list[str], word: str) -> str:
    return f"{len(keys)} {word}{'s' if len(keys) != 1 else ''}"


def _examples(keys: list[str]) -> str:
    return ", ".join(f"`{key}`" for key in keys[:3])

