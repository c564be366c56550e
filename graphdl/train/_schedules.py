"""Learn-rate schedules: the learn rate for an iteration (counted from 1) and epoch. Any function
`schedule(iteration, epoch)` is one; trainnet takes these, or your own, as `learn_rate_schedule`."""

from __future__ import annotations

import math
from dataclasses import dataclass

from graphdl.diagnostics import error


@dataclass(frozen=True)
class TimeBasedDecay:
    """initial / (1 + decay * iteration): the seed's custom-loop schedule."""

    initial: float
    decay: float = 0.01

    def __call__(self, iteration: int, epoch: int = 1) -> float:
        return self.initial / (1 + self.decay * iteration)


@dataclass(frozen=True)
class Piecewise:
    """MATLAB's "piecewise": multiply by `drop_factor` every `drop_period` epochs."""

    initial: float
    drop_factor: float = 0.1
    drop_period: int = 10

    def __call__(self, iteration: int, epoch: int = 1) -> float:
        return self.initial * self.drop_factor ** ((epoch - 1) // self.drop_period)


@dataclass(frozen=True)
class Constant:
    initial: float

    def __call__(self, iteration: int, epoch: int = 1) -> float:
        return self.initial


@dataclass(frozen=True)
class Warmup:
    """After MATLAB's "warmup" (warmupLearnRate): the learn rate ramps linearly from
    `initial * initial_factor` at the first step to `initial * final_factor` after `num_steps`
    steps, and stays there. A step is an iteration or an epoch (`frequency_unit`), counted from 1:

        initial * (initial_factor + (final_factor - initial_factor) * min(step - 1, num_steps) / num_steps)
    """

    initial: float
    initial_factor: float = 0.1
    final_factor: float = 1.0
    num_steps: int = 5
    frequency_unit: str = "iteration"  # "iteration" or "epoch"

    def __post_init__(self) -> None:
        _check(self.num_steps, self.frequency_unit, "num_steps")

    def __call__(self, iteration: int, epoch: int = 1) -> float:
        step = iteration if self.frequency_unit == "iteration" else epoch
        done = min(step - 1, self.num_steps) / self.num_steps
        return self.initial * (self.initial_factor + (self.final_factor - self.initial_factor) * done)


@dataclass(frozen=True)
class Cosine:
    """After MATLAB's "cosine" (cosineLearnRate): the learn rate falls along half a cosine from
    `initial * initial_factor` to `initial * final_factor` over `period` steps, then starts again
    (SGDR's warm restarts). A step is an epoch or an iteration (`frequency_unit`), counted from 1:

        t = (step - 1) mod period
        initial * (final_factor + (initial_factor - final_factor) * (1 + cos(pi * t / period)) / 2)

    trainnet's `learn_rate_schedule="cosine"` takes one period of `max_epochs` epochs, so the
    learn rate falls once over the whole training."""

    initial: float
    period: int = 10
    initial_factor: float = 1.0
    final_factor: float = 0.0
    frequency_unit: str = "epoch"  # "epoch" or "iteration"

    def __post_init__(self) -> None:
        _check(self.period, self.frequency_unit, "period")

    def __call__(self, iteration: int, epoch: int = 1) -> float:
        step = iteration if self.frequency_unit == "iteration" else epoch
        t = (step - 1) % self.period
        return self.initial * (self.final_factor + (self.initial_factor - self.final_factor) * (1 + math.cos(math.pi * t / self.period)) / 2)


def _check(steps: int, unit: str, name: str) -> None:
    if not (isinstance(steps, int) and not isinstance(steps, bool) and steps >= 1):
        raise error("E802", f"{name} must be a positive whole number of steps, not {steps!r}")
    if unit not in ("iteration", "epoch"):
        raise error("E802", f'frequency_unit must be "iteration" or "epoch", not {unit!r}')
