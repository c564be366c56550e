"""The bounds graphdl keeps to on any input, stated once.

A `.dlg` file is code that people share, paste into services and open in editors, so every stage
keeps its work bounded: a file over a limit is a diagnostic at the construct that exceeds it
(naming the limit), never a hang, a memory error or a traceback. The defaults are far above what
any published network needs. To raise one (a very large generated network), set the
environment variable before graphdl starts: `GRAPHDL_LIMITS="layers=10000000,repeat=10000000"`;
`LIMITS` is read from it once, and stays as it is. docs/limits.md lists them with the reasons.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class Limits:
    file_bytes: int = 16 * 2**20  # a .dlg file or an import, and the source saved in a network file
    network_file_bytes: int = 64 * 2**30  # a network file (weights included)
    network_file_objects_bytes: int = 256 * 2**20  # what a network file holds besides tensors (sources, names, metadata)
    line_characters: int = 100_000
    nesting: int = 100  # expressions, lists and parentheses within one another
    items: int = 10_000  # of one list, or arguments of one call
    block_depth: int = 50  # block instances within one another
    learnables: int = 10**12  # past this, a warning: no device holds them (4 TB of float32)
    activation_bytes: int = 2**34  # past this, a warning: one observation's activations (16 GiB)
    layers: int = 1_000_000  # in one network, after every repeat and block is expanded
    repeat: int = 1_000_000  # the count of one `for` range
    ports: int = 10_000  # inputs of one layer (addition(n), depthConcatenation(n))
    integer_digits: int = 100  # an integer in an expression, written or computed
    import_depth: int = 32  # files importing files
    errors: int = 50  # diagnostics reported before the rest are summarised


def from_environment(text: str) -> Limits:
    """The limits, with those `text` names ("name=value,name=value") changed. A name that is no
    limit or a value that is no positive whole number is ignored, with a warning, so that a typo
    in the environment does not stop every command."""
    known = {f.name for f in fields(Limits)}
    changes = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = (part.strip() for part in item.partition("="))
        value = value.replace("_", "")
        if name in known and value.isdigit() and int(value) > 0:
            changes[name] = int(value)
        else:
            warnings.warn(f"GRAPHDL_LIMITS: {item!r} ignored: give name=N with N a positive whole number, the names: {', '.join(sorted(known))}",
                          stacklevel=2)
    return replace(Limits(), **changes)


LIMITS = from_environment(os.environ.get("GRAPHDL_LIMITS", ""))


def raising(name: str) -> str:
    """How to raise the limit `name`, for a diagnostic's help."""
    return f"the limit is {name}={getattr(LIMITS, name):,}, raised with the environment variable GRAPHDL_LIMITS=\"{name}=N\""
