"""The network file: one file holding a network's `.dlg` source and its weights.

It is a `torch.save` dictionary of tensors, strings and numbers only, so it is read with
`torch.load(weights_only=True)`: no pickled code runs, whoever made the file. It keeps every
source the network was built from (imports included) with the network parameters it was given,
so loading builds the very same network again, declared in the same text, and then loads the
weights. Files are written whole or not at all (to a partial file, then renamed), so a failure
while writing never leaves a broken file where the last good one was; weights are checked against
the network before any is copied, so weights that do not fit leave the network as it was.

Reading never trusts the file: only a regular file within the size limit is opened, the part that
is not tensors (sources, names, metadata) is bounded before it is unpickled, and every field is
checked (`_payload`) before it is used; the saved source is checked as a `.dlg` file is.
"""

from __future__ import annotations

import os
import pickle
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path

import torch

from graphdl._frontend import check_source
from graphdl.compiler import dlnetwork
from graphdl.diagnostics import error, reason, writing
from graphdl.graph import to_dlg
from graphdl.interop._payload import FORMAT, VERSION, check_rows, is_network_file, validated
from graphdl.limits import LIMITS, raising
from graphdl.source import FileTooLarge, Source, open_regular, shown


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
    fields = validated(payload, path) if is_network_file(payload) else None
    if fields is None or fields.training is None:
        raise error("E007", f"{shown(path)} is not a trainnet checkpoint", help="resume takes a checkpoint written by trainnet with checkpoint_path set")
    return fields.state_dict, fields.training


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
    if not is_network_file(payload):
        raise error("E007", f"{shown(path)} is not a graphdl network file", help=_WRITTEN_BY)
    fields = validated(payload, path)
    main, *_ = fields.sources
    # The saved source is text from the file like any other: the same checks and limits as a .dlg file.
    checked = check_source(Source(main, fields.sources[main]), fields.network, fields.parameters, files=fields.sources)
    checked.raise_errors()
    if checked.graph is None:  # a source of blocks only: warnings, and no network
        raise error("E002", f"{shown(path)}: its source defines no network `{fields.network}`")
    net = dlnetwork(checked.graph)
    check_rows(fields, net.learnables, path)
    net.load_state_dict(fields.state_dict, origin=f"network `{fields.network}` in {shown(path)}")
    # Factors and frozen learnables came with the second version of the format's content.
    for layer, parameter, factor in fields.learn_rate_factors:
        net.set_learn_rate_factor(layer, parameter, factor)
    for layer, parameter, factor in fields.l2_factors:
        net.set_l2_factor(layer, parameter, factor)
    for row in fields.frozen:
        net.learnables[row].requires_grad_(False)
    return net.to(device)


def load_weights(net, path: str | Path) -> None:
    """Load the weights in `path` (a network file, or a state_dict saved with torch.save) into
    `net`, after checking that every tensor fits; weights that do not fit, or a file that cannot
    be read whole, raise GraphdlError and leave `net` as it was."""
    payload = _read(path)
    if is_network_file(payload):
        fields = validated(payload, path)
        state, origin = fields.state_dict, f"network `{fields.network}` in {shown(path)}"
    elif isinstance(payload, Mapping) and all(isinstance(key, str) and isinstance(value, torch.Tensor) for key, value in payload.items()):
        state, origin = payload, shown(path)
    else:
        raise error("E007", f"{shown(path)} holds neither a graphdl network nor a state_dict")
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
        with open_regular(path, LIMITS.network_file_bytes) as f:
            _check_objects(f, path)
            return torch.load(f, map_location="cpu", weights_only=True)
    except FileTooLarge as e:
        raise error("E013", f"cannot read {shown(path)}: {e.strerror}", os_error=e, help=_LARGER_FILES) from e
    except pickle.UnpicklingError as e:
        wanted = re.search(r"GLOBAL (\S+) was not an allowed global", str(e))
        if wanted is None:  # not code: pickled bytes that are damaged
            problem = re.search(r"WeightsUnpickler error:\s*(.+)", str(e))
            raise error("E007", f"cannot read {shown(path)}: not a whole graphdl network or weights file ({problem.group(1) if problem else reason(e)})") from e
        raise error(
            "E007",
            f"cannot read {shown(path)}: it holds Python objects other than tensors, numbers and strings, which only running code from the file "
            f"could rebuild (`{shown(wanted.group(1))[:80]}`)",
            help=(
                "graphdl reads files with torch.load(weights_only=True) and never runs code from them; "
                "save weights with graphdl.save_network or torch.save(net.state_dict(), path)"
            ),
        ) from e
    except OSError as e:  # missing, a folder, a FIFO, not readable: not a question of what the file holds
        raise error("E001", f"cannot read {shown(path)}: {e.strerror or reason(e)}", os_error=e) from e
    except Exception as e:
        if isinstance(e.__context__, FileTooLarge):  # torch's reader reports the stream's error as its own
            raise error("E013", f"cannot read {shown(path)}: {e.__context__.strerror}", help=_LARGER_FILES) from e
        # A truncated or corrupted file: torch's readers fail on damaged bytes with whatever error
        # the damage leads to (EOFError, RuntimeError, a pickle opcode's IndexError, ...).
        raise error("E007", f"cannot read {shown(path)}: not a whole graphdl network or weights file ({type(e).__name__}: {reason(e)})") from e


_WRITTEN_BY = "a network file is written by graphdl.save_network or by trainnet's checkpoints"
_LARGER_FILES = f"{raising('network_file_bytes')} (network_file_objects_bytes for what is not tensors)"


def _check_objects(f, path) -> None:
    """FileTooLarge where the part of the file that is not tensors (the pickle, unpickled whole
    into memory: sources, names, metadata) is over its limit, before it is read. torch.save
    writes a zip archive with that part in `data.pkl`; a file in torch's older format is all
    pickle."""
    limit = LIMITS.network_file_objects_bytes
    try:
        pickles = [info.file_size for info in zipfile.ZipFile(f).infolist() if info.filename.endswith("data.pkl")]
    except zipfile.BadZipFile:
        pickles = [f.seek(0, os.SEEK_END)]
    if any(size > limit for size in pickles):
        raise FileTooLarge(path, limit)
    f.seek(0)
