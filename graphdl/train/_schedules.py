"""Learn-rate schedules: the learn rate for an iteration (counted from 1) and epoch."""

from __future__ import annotations

from dataclasses import dataclass


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
