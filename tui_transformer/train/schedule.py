"""The learning-rate schedules: a linear warm-up, then a cosine decay or a warm-up–stable–decay (WSD).

Both share one warm-up and one way of reading how far the run has come; they differ in the shape of
the rate after the warm-up. Positions are in the unit of the run's horizon (below): with ``W`` the
warm-up, ``N`` the horizon, peak rate ``lr`` and floor ``f = min_lr_ratio * lr``::

    s < W:            lr(s) = lr * (s + 1) / W            (ramp up from lr/W to lr)
    then cosine:      lr = f + (lr - f) * (1 + cos(pi * p)) / 2,   p = (s - W) / (N - W) from 0 to 1
    or wsd:           lr = lr                              while more than warmdown_frac of the run is left
                      lr = f + (lr - f) * left / warmdown_frac,     left = (N - s) / N
    s >= N:           lr = f

**Warm-up.** At the start the Adam moment estimates are noisy and the weights random, so a full-size
step can throw the model into a bad region. It lasts ``warmup_frac`` of the horizon.

**Cosine.** A slowly shrinking step lets the loss settle into a minimum; ending at a floor rather
than zero keeps the last steps useful. It is shaped for one horizon: the rate starts falling at once.

**WSD** (warm-up, stable, decay; Hu et al. 2024 "MiniCPM", Hägele et al. 2024). A flat, high rate
*explores*: large steps bounce across the loss valley's walls and keep moving along its floor, where
the loss falls slowly but the weights travel far. The linear warm-down then *anneals*: the shrinking
steps stop the bouncing and the model drops to the valley's floor, which is where most of the loss
falls (the curve drops steeply in the last fifth). Because the rate is flat until the warm-down, a
run can be extended from any checkpoint saved before its warm-down began: resume with a larger
budget and it simply stays flat for longer. A cosine run would have already lowered its rate.

**The horizon** is the budget that will end the run first (:func:`~tui_transformer.train.budget.horizon_at`):
``s`` and ``N`` count optimizer steps for a step horizon and seconds of training for a time budget,
so a 5-minute run warms up in its first 15 seconds and anneals by its fifth minute. A step counts as
done once its update is applied, hence the ``s + 1`` of the ramp: the first update gets ``lr / W``,
not 0. The clock needs no such ``+ 1``: it is read when the update is applied. Without any horizon
(``epochs`` alone, counted by the loader), the warm-up is ``DEFAULT_WARMUP`` steps and the rate then
stays at the peak. The rate is a pure function of the position: a resumed run recomputes it instead
of restoring any scheduler object.

The trainer applies one schedule to each optimizer's own peak (AdamW's ``lr``, Muon's ``muon_lr``):
``lr_at(peak, ...)`` is that peak times the schedule's factor at this point of the run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tui_transformer.train.budget import STEPS, Horizon, horizon_steps
from tui_transformer.train.config import TrainConfig

DEFAULT_WARMUP = 100  # warm-up steps of a run without a horizon


@dataclass(frozen=True)
class Schedule:
    """What every schedule shares: the warm-up, the open end, and the floor past the horizon."""

    warmup_frac: float = 0.05
    min_lr_ratio: float = 0.1

    def warmup(self, horizon: Horizon) -> float:
        """The warm-up's length in the horizon's unit: whole steps, or seconds."""
        if horizon.total is None:
            return DEFAULT_WARMUP if self.warmup_frac > 0 else 0
        if horizon.unit == STEPS:
            return round(self.warmup_frac * horizon.total)
        return self.warmup_frac * horizon.total

    def lr_at(self, peak: float, horizon: Horizon) -> float:
        """The rate of an optimizer whose peak is ``peak``, for the update applied at ``horizon``."""
        warmup = self.warmup(horizon)
        if horizon.done < warmup:
            done = horizon.done + 1 if horizon.unit == STEPS else horizon.done  # the step being taken counts
            return peak * done / warmup
        if horizon.total is None:  # no known end: stay at the peak
            return peak
        if horizon.done >= horizon.total:
            return peak * self.min_lr_ratio
        return self.after_warmup(peak, peak * self.min_lr_ratio, horizon, warmup)

    def after_warmup(self, peak: float, floor: float, horizon: Horizon, warmup: float) -> float:
        raise NotImplementedError


@dataclass(frozen=True)
class CosineSchedule(Schedule):
    """Half a cosine from the peak to the floor, over the run after its warm-up."""

    def after_warmup(self, peak: float, floor: float, horizon: Horizon, warmup: float) -> float:
        progress = (horizon.done - warmup) / (horizon.total - warmup)
        return floor + (peak - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


@dataclass(frozen=True)
class WSDSchedule(Schedule):
    """Flat at the peak, then a straight line down to the floor over the last ``warmdown_frac`` of the run."""

    warmdown_frac: float = 0.2

    def after_warmup(self, peak: float, floor: float, horizon: Horizon, warmup: float) -> float:
        left = (horizon.total - horizon.done) / horizon.total  # the share of the run still to go
        if left >= self.warmdown_frac:
            return peak
        return floor + (peak - floor) * left / self.warmdown_frac


def build_schedule(c: TrainConfig) -> Schedule:
    """The config's schedule."""
    if c.schedule == "wsd":
        return WSDSchedule(c.warmup_frac, c.min_lr_ratio, c.warmdown_frac)
    return CosineSchedule(c.warmup_frac, c.min_lr_ratio)


def warmup_steps(c: TrainConfig, world_size: int) -> int:
    """The warm-up in steps, for the doctor's patience: that of the step horizon, else ``DEFAULT_WARMUP``
    (a time budget's warm-up is in seconds, so its steps are not known beforehand)."""
    return round(Schedule(c.warmup_frac).warmup(Horizon(0, horizon_steps(c, world_size), STEPS)))
