"""The bounds graphdl keeps to on any input, stated once.

A `.dlg` file is code that people share, paste into services and open in editors, so every stage
keeps its work bounded: a file over a limit is a diagnostic at the construct that exceeds it
(naming the limit), never a hang, a memory error or a traceback. The defaults are far above what
any published network needs; `Limits` with other values (e.g. `dataclasses.replace(LIMITS,
layers=10_000_000)` for a very large generated network) is given where a stage takes it.
docs/limits.md lists them with the reasons.
"""

from __future__ import annotations

from dataclasses import dataclass


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


LIMITS = Limits()
