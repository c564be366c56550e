"""Update rules of the sgdmupdate family: one step on a network's learnables (in place) or on a
table (returning a new one), with the optimiser's state passed in and out, as in MATLAB."""

from __future__ import annotations

import torch

from graphdl.table import Table


def sgdmupdate(net, gradients: Table, velocity: Table | None, learn_rate: float, momentum: float = 0.9):
    """Stochastic gradient descent with momentum, MATLAB's rule:

        velocity = momentum * velocity - learn_rate * gradient
        value    = value + velocity

    `net` is a DLNetwork (updated in place) or a table of values (a new table is returned).
    `velocity` is None on the first step. Returns (net, velocity)."""
    learnables = net if isinstance(net, Table) else net.learnables
    if velocity is None:
        velocity = Table((layer, parameter, torch.zeros_like(value)) for layer, parameter, value in learnables)
    keys = learnables.keys
    if gradients.keys != keys or velocity.keys != keys:
        raise ValueError("sgdmupdate: the gradients and velocity must have the learnables' rows, in order")
    values, grads, vels = list(learnables.values), list(gradients.values), list(velocity.values)
    with torch.no_grad():
        # One fused operation per step for all tensors, not one per tensor.
        new_vels = torch._foreach_mul(vels, momentum)
        torch._foreach_add_(new_vels, grads, alpha=-learn_rate)
        if isinstance(net, Table):
            new_values = torch._foreach_add(values, new_vels)
            net = Table(zip((k[0] for k in keys), (k[1] for k in keys), new_values))
        else:
            torch._foreach_add_(values, new_vels)
    return net, Table(zip((k[0] for k in keys), (k[1] for k in keys), new_vels))
