"""trainnet with a torch optimizer: the optimizer made from the network's parameter groups, so
that it honours the learn-rate and L2 factors, and its lr_scheduler."""

from __future__ import annotations

from collections.abc import Callable

import torch

from graphdl.compiler import Table
from graphdl.diagnostics import error


def make_optimizer(net, solver: Callable) -> torch.optim.Optimizer:
    """`solver(groups)`, a torch.optim.Optimizer class or factory, given the network's parameter
    groups without `lr` or `weight_decay`: the optimizer fills in its own (the factory's `lr=`,
    `weight_decay=`, or the class's defaults), which then become the base values that each
    group's factors multiply. Frozen learnables are in no group."""
    groups = [{key: value for key, value in group.items() if key not in ("lr", "weight_decay")} for group in net.param_groups(1.0)]
    try:
        optimizer = solver(groups)
    except Exception as e:
        raise error("E802", f"trainnet: the solver could not make an optimizer of the network's parameter groups: {type(e).__name__}: {e}") from e
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise error("E802", f"trainnet: the solver must make a torch.optim.Optimizer, not a {type(optimizer).__name__}")
    learn_rate, decay = optimizer.defaults.get("lr"), optimizer.defaults.get("weight_decay")
    for group in optimizer.param_groups:
        # A group the factory made of its own keeps its own values.
        if "learn_rate_factor" in group and learn_rate is not None:
            group["lr"] = learn_rate * group["learn_rate_factor"]
        if "l2_factor" in group and decay is not None:
            group["weight_decay"] = decay * group["l2_factor"]
    return optimizer


def make_scheduler(optimizer: torch.optim.Optimizer, lr_scheduler: Callable):
    """`lr_scheduler(optimizer)`, made after the groups have their factors' learn rates, so that
    a scheduler's `initial_lr` (its base, per group) keeps the ratios."""
    try:
        scheduler = lr_scheduler(optimizer)
    except Exception as e:
        raise error("E802", f"trainnet: the lr_scheduler could not be made for the optimizer: {type(e).__name__}: {e}") from e
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        raise error("E802", "trainnet: ReduceLROnPlateau steps on a metric, which trainnet does not pass to a scheduler")
    if not callable(getattr(scheduler, "step", None)):
        raise error("E802", f"trainnet: the lr_scheduler must make a torch.optim.lr_scheduler, not a {type(scheduler).__name__}")
    return scheduler


def optimizer_step(optimizer: torch.optim.Optimizer, net, gradients: Table) -> None:
    """One step of the optimizer with `gradients` (already clipped) as the learnables' `.grad`;
    the weight decay the optimizer adds comes after the clipping. The `.grad`s are cleared after,
    so that the network holds none once trained."""
    values = net.learnables.values
    for value, grad in zip(values, gradients.values):
        value.grad = grad
    optimizer.step()
    for value in values:
        value.grad = None


def base_learn_rate(optimizer: torch.optim.Optimizer) -> float:
    """The learn rate before the factors, as MATLAB shows it: the first group's over its factor."""
    group = optimizer.param_groups[0]
    return float(group["lr"]) / group.get("learn_rate_factor", 1.0)
