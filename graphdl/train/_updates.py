"""Update rules of the sgdmupdate family, MATLAB's: one step on a network's learnables (in place)
or on a table of values (returning a new one), with the solver's state passed in and out.

Each rule computes, per learnable, the step to add to its value; the steps of learnables that
share a learn-rate factor are computed together with torch's multi-tensor (`_foreach`) ops, one
kernel per op for the whole group instead of one per tensor. A factor of 0 (a frozen learnable)
leaves the value and its state as they are. A table of values has factors of 1.

The solver's state tables are updated in place and returned, as torch.optim updates its state:
`net, velocity = sgdmupdate(net, gradients, velocity, ...)` reads as MATLAB's line does, and no
new state tensors are allocated each step (fresh ones, as large as the learnables, cost a few
percent of a small network's step in the allocator). Copy a state (`velocity.map(torch.clone)`)
to keep it as it was.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch

from graphdl.compiler import Table
from graphdl.diagnostics import error

# A rule: (factor, gradients, states) of one group of learnables -> (steps, new states).
_Rule = Callable[[float, list, list[list]], tuple[list, list[list]]]


def sgdmupdate(net, gradients: Table, velocity: Table | None, learn_rate: float, momentum: float = 0.9):
    """Stochastic gradient descent with momentum:

        velocity = momentum * velocity - learn_rate * factor * gradient
        value    = value + velocity

    `net` is a DLNetwork (updated in place) or a table of values (a new table is returned).
    `velocity` is None on the first step, then what the step before returned, which this step
    updates in place. Returns (net, velocity)."""

    def rule(factor, grads, states):
        (velocities,) = states
        torch._foreach_mul_(velocities, momentum)
        torch._foreach_add_(velocities, grads, alpha=-learn_rate * factor)
        return velocities, [velocities]

    net, (velocity,) = _update("sgdmupdate", net, gradients, [velocity], rule)
    return net, velocity


def adamupdate(
    net,
    gradients: Table,
    average_grad: Table | None,
    average_sq_grad: Table | None,
    iteration: int,
    learn_rate: float = 0.001,
    gradient_decay: float = 0.9,
    squared_gradient_decay: float = 0.999,
    epsilon: float = 1e-8,
):
    """Adaptive moment estimation (Adam), with bias correction; `iteration` counts from 1:

        average_grad    = gradient_decay * average_grad + (1 - gradient_decay) * gradient
        average_sq_grad = squared_gradient_decay * average_sq_grad + (1 - squared_gradient_decay) * gradient^2
        value = value - learn_rate * factor * m / (sqrt(v) + epsilon)

    where m and v are the averages divided by (1 - decay^iteration). The same rule as
    torch.optim.Adam. Returns (net, average_grad, average_sq_grad); the averages are None on the
    first step."""
    if not (isinstance(iteration, int) and iteration >= 1):
        raise error("E802", f"adamupdate: iteration counts the steps from 1, not {iteration!r}")
    _check_decay("adamupdate", gradient_decay=gradient_decay, squared_gradient_decay=squared_gradient_decay)
    first = 1 - gradient_decay**iteration
    second = math.sqrt(1 - squared_gradient_decay**iteration)

    def rule(factor, grads, states):
        averages, squares = states
        torch._foreach_mul_(averages, gradient_decay)
        torch._foreach_add_(averages, grads, alpha=1 - gradient_decay)
        torch._foreach_mul_(squares, squared_gradient_decay)
        torch._foreach_addcmul_(squares, grads, grads, value=1 - squared_gradient_decay)
        denominators = torch._foreach_sqrt(squares)
        torch._foreach_div_(denominators, second)
        torch._foreach_add_(denominators, epsilon)
        steps = torch._foreach_div(averages, denominators)
        torch._foreach_mul_(steps, -learn_rate * factor / first)
        return steps, [averages, squares]

    net, (average_grad, average_sq_grad) = _update("adamupdate", net, gradients, [average_grad, average_sq_grad], rule)
    return net, average_grad, average_sq_grad


def rmspropupdate(net, gradients: Table, average_sq_grad: Table | None, learn_rate: float = 0.001, squared_gradient_decay: float = 0.9, epsilon: float = 1e-8):
    """Root mean square propagation:

        average_sq_grad = squared_gradient_decay * average_sq_grad + (1 - squared_gradient_decay) * gradient^2
        value = value - learn_rate * factor * gradient / (sqrt(average_sq_grad) + epsilon)

    The same rule as torch.optim.RMSprop (not centred, no momentum). Returns (net,
    average_sq_grad); the average is None on the first step."""
    _check_decay("rmspropupdate", squared_gradient_decay=squared_gradient_decay)

    def rule(factor, grads, states):
        (squares,) = states
        torch._foreach_mul_(squares, squared_gradient_decay)
        torch._foreach_addcmul_(squares, grads, grads, value=1 - squared_gradient_decay)
        denominators = torch._foreach_sqrt(squares)
        torch._foreach_add_(denominators, epsilon)
        steps = torch._foreach_div(grads, denominators)
        torch._foreach_mul_(steps, -learn_rate * factor)
        return steps, [squares]

    net, (average_sq_grad,) = _update("rmspropupdate", net, gradients, [average_sq_grad], rule)
    return net, average_sq_grad


def dlupdate(fn: Callable[..., torch.Tensor], net, *others: Table):
    """MATLAB's dlupdate: `fn(value, *other values)` for every learnable. On a DLNetwork the
    results are copied into its learnables and the network is returned; on a table, a new table
    (e.g. clipped gradients: `dlupdate(lambda g: g.clamp(-1, 1), gradients)`)."""
    if isinstance(net, Table):
        return net.map(fn, *others)
    learnables = net.learnables
    with torch.no_grad():
        learnables.copy_from(learnables.map(fn, *others))
    return net


def _check_decay(function: str, **decays: float) -> None:
    for name, decay in decays.items():
        if not 0 <= decay < 1:
            raise error("E802", f"{function}: {name} must be in [0, 1), not {decay!r}")


def _update(function: str, net, gradients: Table, states: Sequence[Table | None], rule: _Rule):
    """Run `rule` over the learnables of `net` grouped by learn-rate factor, and add its steps
    to the values: in place on a network, into a new table for a table."""
    on_table = isinstance(net, Table)
    learnables = net if on_table else net.learnables
    keys = learnables.keys
    states = [Table((layer, parameter, torch.zeros_like(value)) for layer, parameter, value in learnables) if state is None else state for state in states]
    if gradients.keys != keys or any(state.keys != keys for state in states):
        raise error("E802", f"{function}: the gradients and the solver's state must have the learnables' rows, in order")
    values, grads = list(learnables.values), list(gradients.values)
    old_states = [list(state.values) for state in states]
    new_values, new_states = list(values), [list(state) for state in old_states]
    groups: dict[float, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(1.0 if on_table else net.learn_rate_factor(*key), []).append(i)
    with torch.no_grad():
        for factor, rows in groups.items():
            if factor == 0:
                continue
            steps, group_states = rule(factor, [grads[i] for i in rows], [[state[i] for i in rows] for state in old_states])
            if on_table:
                updated = torch._foreach_add([values[i] for i in rows], steps)
            else:
                updated = [values[i] for i in rows]
                torch._foreach_add_(updated, steps)
            for j, i in enumerate(rows):
                new_values[i] = updated[j]
                for new, group in zip(new_states, group_states):
                    new[i] = group[j]
    if on_table:
        net = Table((layer, parameter, value) for (layer, parameter), value in zip(keys, new_values))
    return net, [Table((layer, parameter, value) for (layer, parameter), value in zip(keys, state)) for state in new_states]
