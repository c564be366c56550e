"""MATLAB's (Layer, Parameter, Value) tables: a network's learnables and state, their gradients,
an optimiser's velocities.

A table taken from a network (`net.learnables`, `net.state`) is live: its values are the
network's own tensors, and assigning a value copies it into the network. Any other table (the
gradients from `dlgradient`, a velocity) just holds tensors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

import torch

from graphdl.diagnostics import error, suggest


class Row(NamedTuple):
    layer: str
    parameter: str
    value: torch.Tensor


class Table:
    def __init__(self, rows: Iterable[tuple[str, str, torch.Tensor]], *, live: bool = False):
        self._rows: dict[tuple[str, str], torch.Tensor] = {(layer, parameter): value for layer, parameter, value in rows}
        self.live = live

    @property
    def keys(self) -> tuple[tuple[str, str], ...]:
        return tuple(self._rows)

    @property
    def values(self) -> tuple[torch.Tensor, ...]:
        return tuple(self._rows.values())

    def __iter__(self) -> Iterator[Row]:
        return (Row(layer, parameter, value) for (layer, parameter), value in self._rows.items())

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def __getitem__(self, key: tuple[str, str]) -> torch.Tensor:
        return self._rows[self._key(key)]

    def __setitem__(self, key: tuple[str, str], value: torch.Tensor) -> None:
        key = self._key(key)
        current = self._rows[key]
        value = torch.as_tensor(value)
        if self.live:
            if value.shape != current.shape:
                raise error("E502", f"{key[0]}/{key[1]} has size {size_text(current)}; cannot assign a value of size {size_text(value)}")
            with torch.no_grad():
                current.copy_(value)
        else:
            self._rows[key] = value

    def map(self, fn: Callable[..., torch.Tensor], *others: Table) -> Table:
        """A new table of fn(value, *other values) row by row, as MATLAB's dlupdate."""
        for other in others:
            if other.keys != self.keys:
                raise error("E503", "tables to combine must have the same rows in the same order")
        return Table((layer, parameter, fn(value, *(other[layer, parameter] for other in others))) for layer, parameter, value in self)

    def copy_from(self, other: Table) -> None:
        """Assign every row of `other` (which must have the same rows) into this table."""
        if set(other.keys) != set(self.keys):
            missing = sorted(set(self.keys) - set(other.keys)) or sorted(set(other.keys) - set(self.keys))
            raise error("E503", f"the tables' rows differ, e.g. at {missing[0][0]}/{missing[0][1]}")
        for key in self.keys:
            self[key] = other[key]

    def _key(self, key: tuple[str, str]) -> tuple[str, str]:
        if key not in self._rows:  # a NotFoundError, a KeyError as a dictionary's missing key is
            layer = key[0] if isinstance(key, tuple) else key
            names = sorted({f"{lay}/{par}" for lay, par in self._rows if lay == layer}) or sorted({lay for lay, _ in self._rows})
            wanted = "/".join(map(str, key)) if isinstance(key, tuple) else str(key)
            close = suggest(wanted, [f"{lay}/{par}" for lay, par in self._rows])
            raise error("E504", f"no row {key!r}; rows include: {', '.join(names[:8])}", help=close)
        return key

    def __repr__(self) -> str:
        lines = [f"{len(self)}x3 table (Layer, Parameter, Value)"]
        width = max([len(layer) for layer, _ in self._rows] + [5])
        pwidth = max([len(parameter) for _, parameter in self._rows] + [9])
        for (layer, parameter), value in self._rows.items():
            lines.append(f"  {layer:<{width}}  {parameter:<{pwidth}}  {size_text(value)} {str(value.dtype).removeprefix('torch.')}")
        return "\n".join(lines)


def size_text(value: torch.Tensor) -> str:
    """A tensor's size as MATLAB writes it, 3x3x20 ("scalar" for none)."""
    return "x".join(map(str, value.shape)) or "scalar"
