"""Update rules of the sgdmupdate family: one step on a network's learnables (in place) or on a
table (returning a new one), with the optimiser's state passed in and out, as in MATLAB."""

from __future__ import annotations

import torch

from graphdl.table import Table


def sgdmupdate(net, gradients: Table, velocity: Table | None, learn_rate: float, momentum: float = 0.9):
    """Stochastic gradient descent with momentum, MATLAB's rule:

        velocity = momentum * velocity - learn_rate * factor * gradient
        value    = value + velocity

    `net` is a DLNetwork (updated in place; `factor` is each learnable's learn-rate factor, and
    one of 0 leaves the learnable and its velocity as they are) or a table of values (a new table
    is returned; factors of 1). `velocity` is None on the first step. Returns (net, velocity)."""
    learnables = net if isinstance(net, Table) else net.learnables
    if velocity is None:
        velocity = Table((layer, parameter, torch.zeros_like(value)) for layer, parameter, value in learnables)
    keys = learnables.keys
    if gradients.keys != keys or velocity.keys != keys:
        raise ValueError("sgdmupdate: the gradients and velocity must have the learnables' rows, in order")
    values, grads, vels = list(learnables.values), list(gradients.values), list(velocity.values)
    groups: dict[float, list[int]] = {}  # rows by learn-rate factor: one fused update per group
    for i, key in enumerate(keys):
        groups.setdefault(1.0 if isinstance(net, Table) else net.learn_rate_factor(*key), []).append(i)
    new_values, new_vels = list(values), list(vels)
    with torch.no_grad():
        for factor, rows in groups.items():
            if factor == 0:
                continue
            moved = torch._foreach_mul([vels[i] for i in rows], momentum)
            torch._foreach_add_(moved, [grads[i] for i in rows], alpha=-learn_rate * factor)
            if isinstance(net, Table):
                updated = torch._foreach_add([values[i] for i in rows], moved)
            else:
                torch._foreach_add_([values[i] for i in rows], moved)
                updated = [values[i] for i in rows]
            for i, vel, value in zip(rows, moved, updated):
                new_vels[i], new_values[i] = vel, value
    rows = list(zip((k[0] for k in keys), (k[1] for k in keys)))
    if isinstance(net, Table):
        net = Table((layer, parameter, value) for (layer, parameter), value in zip(rows, new_values))
    return net, Table((layer, parameter, vel) for (layer, parameter), vel in zip(rows, new_vels))
