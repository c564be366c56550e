"""Whether a state_dict fits a network, checked before any tensor is copied, so that weights
that do not fit leave the network as it was."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from graphdl.compiler._table import size_text
from graphdl.diagnostics import GraphdlError, counted, error


def weight_problems(net, state: Mapping[str, torch.Tensor], *, strict: bool = True) -> list[str]:
    """What keeps `state` from loading into `net`: names it lacks or has in excess (when
    `strict`), and tensors of other sizes; empty when it fits."""
    own = net.state_dict()
    problems = []
    if strict:
        missing = [key for key in own if key not in state]
        unexpected = [key for key in state if key not in own]
        if missing:
            problems.append(f"{counted(len(missing), 'tensor')} of the network missing, e.g. {_examples(missing)}")
        if unexpected:
            problems.append(f"{counted(len(unexpected), 'tensor')} the network does not have, e.g. {_examples(unexpected)}")
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            problems.append(f"`{key}` is a {type(value).__name__}, not a tensor")
        elif key in own and tuple(value.shape) != tuple(own[key].shape):
            problems.append(f"`{key}` is {size_text(value)} but the network's is {size_text(own[key])}")
    return problems


def weights_error(net, problems: list[str], origin: str) -> GraphdlError:
    return error(
        "E502",
        f"the weights from {origin} do not fit network `{net.graph.name}`",
        notes=tuple(problems[:5]) + ((f"and {len(problems) - 5} more",) if len(problems) > 5 else ()),
        help="the network was left as it was; load weights saved from this network (or one with the same layers)",
    )


def _examples(keys: list[str]) -> str:
    return ", ".join(f"`{key}`" for key in keys[:3])
