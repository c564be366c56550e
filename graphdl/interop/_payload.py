"""What a network file holds, checked field by field before any of it is used.

torch.load(weights_only=True) keeps code out of a network file, but not crafted values: any field
can hold a list where a dictionary belongs, a row of the wrong length, a name the network does not
have, or a source far over the size of any `.dlg` file. Each is found here and reported (E007 for
a field of the wrong form, E013 for a source over the size limit, E502 for factors or frozen
learnables that the network has no row of), all in one error, before the source is checked or a
weight copied; a file written by `save_network` passes every check.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from graphdl.diagnostics import Diagnostic, GraphdlError
from graphdl.limits import LIMITS, Limits
from graphdl.source import FileTooLarge, shown

FORMAT = "graphdl-network-1"
# The content's version, beside the format: files without one (version 1) still load. Version 2
# may hold a "training" entry (a trainnet checkpoint's state for resuming), which load_network
# ignores, so a checkpoint is a network file to every reader.
VERSION = 2

_PLAIN = (bool, int, float, str)


@dataclass(frozen=True)
class Payload:
    """The fields of a network file, each of the form `save_network` writes."""

    network: str
    parameters: dict[str, object]
    sources: dict[str, str]
    state_dict: Mapping[str, object]
    learn_rate_factors: tuple[tuple[str, str, float], ...]
    l2_factors: tuple[tuple[str, str, float], ...]
    frozen: tuple[tuple[str, str], ...]
    metadata: dict[str, object]
    training: dict | None


def is_network_file(payload: object) -> bool:
    """Whether `payload` says it is a network file (whether its fields are whole or not)."""
    return isinstance(payload, dict) and payload.get("format") == FORMAT


def validated(payload: dict, path, limits: Limits = LIMITS) -> Payload:
    """The fields of a network file's `payload` (read from `path`), or GraphdlError listing
    every field that is missing, of the wrong form, or over its limit."""
    problems: list[str] = []
    oversized: list[Diagnostic] = []

    def wrong(text: str) -> None:
        problems.append(text)

    version = payload.get("version", 1)
    if type(version) is not int or version < 1:
        wrong(f"`version` is {_brief(version)}, not a positive integer")
    elif version > VERSION:
        wrong(f"`version` is {version}: written by a newer graphdl (this one reads versions 1 to {VERSION})")
    network = payload.get("network")
    if not (isinstance(network, str) and network and network.isprintable()):
        wrong(f"`network` is {_brief(network)}, not a network's name")
    parameters = payload.get("parameters")
    if not isinstance(parameters, dict):
        wrong(f"`parameters` is {_brief(parameters)}, not a dictionary")
    else:
        for key, value in parameters.items():
            if not isinstance(key, str) or not _value(value):
                wrong(f"`parameters` holds {_brief(key)}: {_brief(value)}, not a name and a value the language can write")
                break
    sources = payload.get("sources")
    if not (isinstance(sources, dict) and sources):
        wrong(f"`sources` is {_brief(sources)}, not a dictionary of at least one path and its text")
    else:
        for key, text in sources.items():
            if not (isinstance(key, str) and key and "\0" not in key) or not isinstance(text, str):
                wrong(f"`sources` holds {_brief(key)}: {_brief(text)}, not a path and its text")
                break
            size = _utf8_size(text, limits.file_bytes)
            if size is None:
                wrong(f"the source `{shown(key)}` is not Unicode text (it holds lone surrogates)")
            elif size > limits.file_bytes:
                problem = FileTooLarge(key, limits.file_bytes)
                oversized.append(Diagnostic("E013", f"cannot read {shown(path)}: its source `{shown(key)}` is {problem.strerror}", help=FileTooLarge.HELP))
    state = payload.get("state_dict")
    if not (isinstance(state, Mapping) and all(isinstance(key, str) for key in state)):
        wrong(f"`state_dict` is {_brief(state)}, not a dictionary from names to tensors")
    learn_rate = _rows(payload, "learn_rate_factors", 3, wrong)
    l2 = _rows(payload, "l2_factors", 3, wrong)
    frozen = _rows(payload, "frozen", 2, wrong)
    metadata = payload.get("metadata", {})
    if not (isinstance(metadata, dict) and all(isinstance(k, str) and (v is None or type(v) in _PLAIN) for k, v in metadata.items())):
        wrong(f"`metadata` is {_brief(metadata)}, not a dictionary of names to numbers, strings and booleans")
    training = payload.get("training")
    if training is not None and not isinstance(training, dict):
        wrong(f"`training` is {_brief(training)}, not a dictionary")
    diagnostics = list(oversized)
    if problems:
        diagnostics.insert(
            0,
            Diagnostic(
                "E007",
                f"cannot read {shown(path)}: a graphdl network file with missing or damaged fields",
                notes=tuple(problems),
                help="a network file is written by graphdl.save_network or by trainnet's checkpoints; save it again",
            ),
        )
    if diagnostics:
        raise GraphdlError(diagnostics)
    return Payload(network, parameters, sources, state, learn_rate, l2, frozen, metadata, training)


def check_rows(payload: Payload, learnables, path) -> None:
    """E502 for factors or frozen learnables of the file that name no learnable of the network
    its source builds (`learnables`: its (layer, parameter, value) rows)."""
    rows = {(layer, parameter) for layer, parameter, _ in learnables}
    strays = []
    for field, entries in (("learn_rate_factors", payload.learn_rate_factors), ("l2_factors", payload.l2_factors), ("frozen", payload.frozen)):
        for layer, parameter, *_ in entries:
            if (layer, parameter) not in rows:
                strays.append(f"`{field}` names {shown(layer)}/{shown(parameter)}")
    if strays:
        shown_rows = strays[:8] + ([f"and {len(strays) - 8} more"] if len(strays) > 8 else [])
        raise GraphdlError(
            [
                Diagnostic(
                    "E502",
                    f"{shown(path)}: factors or frozen learnables for learnables that network `{payload.network}` does not have",
                    notes=tuple(shown_rows),
                    help="a network file is written by graphdl.save_network or by trainnet's checkpoints; save it again",
                )
            ]
        )


def _rows(payload: dict, field: str, width: int, wrong) -> tuple[tuple, ...]:
    """A list of rows [layer, parameter] or [layer, parameter, factor]; files written before the
    factors were kept have none."""
    rows = payload.get(field, [])
    if not isinstance(rows, (list, tuple)):
        wrong(f"`{field}` is {_brief(rows)}, not a list of rows")
        return ()
    form = "[layer, parameter, factor], the factor a non-negative number" if width == 3 else "[layer, parameter]"
    for i, row in enumerate(rows):
        whole = isinstance(row, (list, tuple)) and len(row) == width and all(isinstance(name, str) for name in row[:2])
        if not (whole and (width == 2 or _factor(row[2]))):
            wrong(f"`{field}` row {i} is {_brief(row)}, not {form}")
            return ()
    return tuple(tuple(row) for row in rows)


def _factor(value: object) -> bool:
    try:  # float() as the network's factors are kept: an integer of a thousand digits has none
        return type(value) in (int, float) and math.isfinite(float(value)) and value >= 0
    except OverflowError:
        return False


def _value(value: object, depth: int = 0) -> bool:
    """A network parameter's value as save_network writes one: numbers, strings, booleans and
    lists of them, nested no deeper than an expression may be."""
    if value is None or type(value) in _PLAIN:
        return True
    if isinstance(value, (list, tuple)) and depth < LIMITS.nesting:
        return all(_value(item, depth + 1) for item in value)
    return False


def _utf8_size(text: str, limit: int) -> int | None:
    """The size of `text` in UTF-8, as the file it came from would have it (past `limit`, perhaps
    only a lower bound of it); None for text that UTF-8 cannot encode (lone surrogates, which no
    file read as UTF-8 can hold)."""
    if len(text) > limit:  # over it already, at a byte or more a character: not worth encoding
        return len(text)
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        return None


def _brief(value: object) -> str:
    """A value of a crafted file as a message shows it: short, whatever its size or depth."""
    if isinstance(value, torch.Tensor):
        return f"a tensor of size {tuple(value.shape)}"
    if type(value) is int and value.bit_length() > 64:  # its decimal digits could pass Python's limit on them
        return f"an integer of {value.bit_length()} bits"
    try:
        text = _REPR.repr(value)
    except ValueError:  # a large integer inside a list
        text = ""
    return text if text and text.isprintable() else f"a {type(value).__name__}"


# Short texts of values: a few items, a few levels, a few dozen characters of a string.
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxtuple, _REPR.maxdict = 2, 40, 40, 4, 4, 4
