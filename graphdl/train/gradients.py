"""Gradients of a loss with respect to a table of learnables: MATLAB's dlfeval and dlgradient.

In PyTorch every operation is traced already; `dlfeval` makes sure tracing is on (inside
`torch.no_grad()` too), and `dlgradient` returns the gradients as a table with the learnables' rows
instead of accumulating them in `.grad`, so a custom loop can inspect, clip or combine them.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from graphdl.table import Table


def dlfeval(fn: Callable, *args, **kwargs):
    """Evaluate `fn(*args)` with gradient tracing on, as MATLAB's dlfeval."""
    with torch.enable_grad():
        return fn(*args, **kwargs)


def dlgradient(loss: torch.Tensor, learnables: Table, *, retain_graph: bool = False) -> Table:
    """The gradient of the scalar `loss` with respect to each row of `learnables`; a learnable the
    loss does not depend on, or a frozen one, gets zeros."""
    if loss.dim() != 0:
        raise ValueError(f"dlgradient: the loss must be a scalar, but has size {tuple(loss.shape)}")
    # Frozen learnables (requires_grad off) are not differentiated: they get zeros.
    tracked = [value for value in learnables.values if value.requires_grad]
    grads = dict(zip(map(id, tracked), torch.autograd.grad(loss, tracked, retain_graph=retain_graph, allow_unused=True))) if tracked else {}
    return Table(
        (layer, parameter, torch.zeros_like(value) if grads.get(id(value)) is None else grads[id(value)])
        for layer, parameter, value in learnables
    )
