"""The learning-rate schedules: a linear warm-up, then a cosine decay or a warm-up–stable–decay (WSD).

Both share one warm-up and one way of reading how far the run has come; they differ in the shape of
the rate after the warm-up. With peak rate ``lr``, ``W`` warm-up steps and floor ``f = min_lr_ratio * lr``::

    step s < W:       lr(s) = lr * (s + 1) / W            (ramp up from lr/W to lr)
    then cosine:      lr = f + (lr - f) * (1 + cos(pi * p)) / 2        p: 0 -> 1 from the warm-up's end
    or wsd:           lr = lr                              while more than warmdown_frac of the run is left
                      lr = f + (lr - f) * left / warmdown_frac         left: the share of the run still to go
    past the end:     lr = f

**Warm-up.** At the start the Adam moment estimates are noisy and the weights random, so a full-size
step can throw the model into a bad region. The warm-up is counted in optimizer *steps* whatever the
budget, because what it waits for is a number of updates: ``warmup_frac`` of a step horizon, else
``DEFAULT_WARMUP`` steps.

**Cosine.** A slowly shrinking step lets the loss settle into a minimum; ending at a floor rather
than zero keeps the last steps useful. It is shaped for one horizon: the rate starts falling at once.

**WSD** (warm-up, stable, decay; Hu et al. 2024 "MiniCPM", Hägele et al. 2024). A flat, high rate
*explores*: large steps bounce across the loss valley's walls and keep moving along its floor, where
the loss falls slowly but the weights travel far. The linear warm-down then *anneals*: the shrinking
steps stop the bouncing and the model drops to the valley's floor, which is where most of the loss
falls (the curve drops steeply in the last fifth). Because the rate is flat until the warm-down, a
run can be extended from any checkpoint saved before its warm-down began: resume with a larger
budget and it simply stays flat for longer. A cosine run would have already lowered its rate.

**The horizon** is the budget that will end the run first, as read by
:func:`~tui_transformer.train.budget.horizon_at`: steps of a step horizon, or seconds of a time
budget. So a 5-minute run anneals by its fifth minute. The rate is a pure function of the step and
the horizon: a resumed run recomputes it instead of restoring any scheduler object.

The trainer applies one schedule to each optimizer's own peak (AdamW's ``lr``, Muon's ``muon_lr``):
``lr_at(peak, ...)`` is that peak times the schedule's factor at this point of the run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tui_transformer.train.budget import STEPS, Horizon, horizon_steps
from tui_transformer.train.config import TrainConfig

DEFAULT_WARMUP = 100  # warm-up steps when no budget counts in steps (a time budget, or none)


@dataclass(frozen=True)
class Schedule:
    """What every schedule shares: the warm-up, the open end, and the floor past the horizon."""

    warmup_steps: int
    min_lr_ratio: float = 0.1

    def lr_at(self, peak: float, step: int, horizon: Horizon) -> float:
        """The rate for optimizer step ``step`` (from 0) of an optimizer whose peak is ``peak``."""
        if step < self.warmup_steps:
            return peak * (step + 1) / self.warmup_steps
        if horizon.total is None:  # no known end: stay at the peak
            return peak
        if horizon.done >= horizon.total:
            return peak * self.min_lr_ratio
        return self.after_warmup(peak, peak * self.min_lr_ratio, horizon)

    def after_warmup(self, peak: float, floor: float, horizon: Horizon) -> float:
        raise NotImplementedError


@dataclass(frozen=True)
class CosineSchedule(Schedule):
    """Half a cosine from the peak to the floor, over the run after its warm-up."""

    def after_warmup(self, peak: float, floor: float, horizon: Horizon) -> float:
        # A step horizon's cosine starts where the warm-up ends. A time horizon's spans the whole clock:
        # when the warm-up's steps end is not known in seconds beforehand (the rate is near the peak then anyway).
        start = self.warmup_steps if horizon.unit == STEPS else 0
        progress = (horizon.done - start) / (horizon.total - start)
        return floor + (peak - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


@dataclass(frozen=True)
class WSDSchedule(Schedule):
    """Flat at the peak, then a straight line down to the floor over the last ``warmdown_frac`` of the run."""

    warmdown_frac: float = 0.2

    def after_warmup(self, peak: float, floor: float, horizon: Horizon) -> float:
        left = (horizon.total - horizon.done) / horizon.total  # the share of the run still to go
        if left >= self.warmdown_frac:
            return peak
        return floor + (peak - floor) * left / self.warmdown_frac


def build_schedule(c: TrainConfig, world_size: int) -> Schedule:
    """The config's schedule, its warm-up fitted to the step horizon (see the module's docstring)."""
    steps = horizon_steps(c, world_size)
    if steps:
        warmup = round(c.warmup_frac * steps)
    else:
        warmup = DEFAULT_WARMUP if c.warmup_frac > 0 else 0
    if c.schedule == "wsd":
        return WSDSchedule(warmup, c.min_lr_ratio, c.warmdown_frac)
    return CosineSchedule(warmup, c.min_lr_ratio)
