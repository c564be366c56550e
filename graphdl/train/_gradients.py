"""Gradients of a loss with respect to a table of learnables: MATLAB's dlfeval and dlgradient.

In PyTorch every operation is traced already; `dlfeval` makes sure tracing is on (inside
`torch.no_grad()` too), and `dlgradient` returns the gradients as a table with the learnables' rows
instead of accumulating them in `.grad`, so a custom loop can inspect, clip or combine them.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from graphdl.compiler import Table
from graphdl.diagnostics import error


def dlfeval(fn: Callable, *args, **kwargs):
    """Evaluate `fn(*args)` with gradient tracing on, as MATLAB's dlfeval."""
    with torch.enable_grad():
        return fn(*args, **kwargs)


def dlgradient(loss: torch.Tensor, *learnables: Table, retain_graph: bool = False) -> Table | tuple[Table, ...]:
    """The gradient of the scalar `loss` with respect to each row of `learnables`; a learnable the
    loss does not depend on, or a frozen one, gets zeros. Several tables give one gradient table
    each, from one backward pass, as MATLAB's `[g1, g2] = dlgradient(loss, net1.Learnables,
    net2.Learnables)`; one table gives one Table."""
    if not isinstance(loss, torch.Tensor):
        raise error("E802", f"dlgradient: the loss must be a scalar tensor computed from the network, not a {type(loss).__name__}")
    if loss.dim() != 0:
        raise error("E802", f"dlgradient: the loss must be a scalar, but has size {tuple(loss.shape)}")
    if not learnables:
        raise error("E802", "dlgradient: give the learnables to differentiate with respect to: dlgradient(loss, net.learnables)")
    for table in learnables:
        if not isinstance(table, Table):
            raise error("E802", f"dlgradient: the learnables are Tables (net.learnables), one argument each, not a {type(table).__name__}")
    # Frozen learnables (requires_grad off) are not differentiated: they get zeros. A tensor in
    # two tables is differentiated once.
    tracked = list({id(value): value for table in learnables for value in table.values if value.requires_grad}.values())
    grads = dict(zip(map(id, tracked), _gradients(loss, tracked, retain_graph))) if tracked else {}
    tables = tuple(
        Table((layer, parameter, torch.zeros_like(value) if grads.get(id(value)) is None else grads[id(value)]) for layer, parameter, value in table)
        for table in learnables
    )
    return tables[0] if len(tables) == 1 else tables


def _gradients(loss: torch.Tensor, tensors: list[torch.Tensor], retain_graph: bool) -> list[torch.Tensor | None]:
    """d loss / d each tensor (None where the loss does not depend on it), leaving `.grad` as it was.

    For leaves (a network's learnables) through `backward(inputs=...)` into `.grad`, then taken out
    and `.grad` put back: the same numbers as `torch.autograd.grad`, which is 3-4 % slower per step
    of a small network, and the gradient accumulators run, so hooks on them (DistributedDataParallel's
    all-reduce, FSDP's reduce-scatter) see the gradients as they do in a `loss.backward()` loop."""
    if not all(t.is_leaf for t in tensors):
        return list(torch.autograd.grad(loss, tensors, retain_graph=retain_graph, allow_unused=True))
    saved = [t.grad for t in tensors]
    for t in tensors:
        t.grad = None
    # FSDP's sharded learnables (DTensors) are not in the graph: the forward pass used gathered
    # copies, whose gradients FSDP's hooks reduce into the shards' .grad; so backward runs whole.
    sharded = any(hasattr(t, "device_mesh") for t in tensors)
    try:
        torch.autograd.backward(loss, inputs=None if sharded else tensors, retain_graph=retain_graph)
        return [t.grad for t in tensors]
    finally:
        for t, grad in zip(tensors, saved):
            t.grad = grad


def clip_gradients(gradients: Table, threshold: float, method: str = "l2norm") -> Table:
    """Gradients no larger than `threshold`, as MATLAB's GradientThreshold options clip them:

    - "l2norm": each learnable's gradient whose L2 norm is above the threshold is scaled down to it;
    - "global-l2norm": if the L2 norm of all the gradients together is above it, all are scaled by
      the same factor (torch.nn.utils.clip_grad_norm_);
    - "absolute-value": each element is clamped to [-threshold, threshold].

    Returns a new table; reads nothing back from the device."""
    if not threshold > 0:
        raise error("E802", f"clip_gradients: the threshold must be positive, not {threshold!r}")
    grads = list(gradients.values)
    if method == "absolute-value":
        clipped = torch._foreach_clamp_max(torch._foreach_clamp_min(grads, -threshold), threshold)
    elif method in ("l2norm", "global-l2norm"):
        norms = torch._foreach_norm(grads)
        if method == "global-l2norm":
            norms = [torch.linalg.vector_norm(torch.stack(norms))] * len(grads) if norms else []
        # min(1, threshold / norm), on the device; the tiny term keeps a zero gradient at zero.
        scales = [(threshold / (norm + 1e-30)).clamp(max=1) for norm in norms]
        clipped = [grad * scale for grad, scale in zip(grads, scales)]
    else:
        raise error("E802", f'clip_gradients: method must be "l2norm", "global-l2norm" or "absolute-value", not {method!r}')
    return Table((layer, parameter, value) for (layer, parameter), value in zip(gradients.keys, clipped))
