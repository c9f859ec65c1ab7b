"""Budgets: when a run ends, and how many steps the learning-rate schedule should plan for.

A run ends at the first budget it reaches, checked between optimizer steps::

    max_steps     optimizer steps taken
    max_tokens    tokens trained on, all ranks together
    max_time      seconds of training, over all sessions of the run, pauses excluded
    epochs        passes over the data: by ``tokens_per_epoch`` tokens if set, else the loader's own
                  passes over the training split

The learning-rate schedule needs a horizon: how far the run has come towards its end. Each budget
that can be counted in steps gives one in steps (tokens per step = batch · accumulation · sequence
length · ranks), and the nearest of those wins; ``max_time`` gives one in seconds of training. When
both exist, the one further along (the larger share done) is the one that will end the run first,
so the schedule follows it (:func:`horizon_at`): a 5-minute run anneals by its fifth minute. The ETA
a step reports is the time to the nearest budget: the steps left at the recent pace, or the time
left if sooner.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tui_transformer.errors import UserError
from tui_transformer.train.config import TrainConfig


def epoch_of(c: TrainConfig, tokens_seen: int, loader_epoch: int) -> int:
    """The epoch in progress, from 1: by ``tokens_per_epoch`` if set, else by the loader's completed passes."""
    if c.tokens_per_epoch:
        return tokens_seen // c.tokens_per_epoch + 1
    return loader_epoch + 1


def budget_reached(c: TrainConfig, step: int, tokens_seen: int, elapsed_s: float, epoch: int) -> str | None:
    """The first budget of ``c`` that these counters have reached (its field name), or None."""
    if c.max_steps is not None and step >= c.max_steps:
        return "max_steps"
    if c.max_tokens is not None and tokens_seen >= c.max_tokens:
        return "max_tokens"
    if c.max_time is not None and elapsed_s >= c.max_time:
        return "max_time"
    if c.epochs is not None and epoch > c.epochs:
        return "epochs"
    return None


def refuse_a_spent_budget(c: TrainConfig, run_name: str, step: int, tokens_seen: int, elapsed_s: float,
                          epoch: int) -> None:
    """A resume whose budget is already used up would only re-evaluate and log a second ending: refuse it."""
    reason = budget_reached(c, step, tokens_seen, elapsed_s, epoch)
    if reason is not None:
        flag = "--" + reason.replace("_", "-")
        raise UserError(f"run {run_name} has already reached its {reason.replace('_', ' ')} budget "
                        f"(step {step}); give a larger {flag} to train it further")


def horizon_steps(c: TrainConfig, world_size: int) -> int | None:
    """The optimizer steps the nearest step-countable budget allows, or None if there is none."""
    per_step = c.tokens_per_step * world_size
    horizons = [c.max_steps] if c.max_steps else []
    if c.max_tokens:
        horizons.append(math.ceil(c.max_tokens / per_step))
    if c.epochs and c.tokens_per_epoch:
        horizons.append(math.ceil(c.epochs * c.tokens_per_epoch / per_step))
    return min(horizons) if horizons else None


STEPS, SECONDS = "steps", "seconds"


@dataclass(frozen=True)
class Horizon:
    """How far a run has come towards the budget that will end it first, in that budget's unit."""

    done: float  # optimizer steps taken, or seconds trained (pauses excluded)
    total: float | None  # that budget in the same unit; None: no budget is known (the run is open-ended)
    unit: str  # STEPS or SECONDS

    @property
    def fraction(self) -> float:
        """The share of the run done, in [0, 1] (0 when open-ended)."""
        return min(1.0, self.done / self.total) if self.total else 0.0


def horizon_at(c: TrainConfig, world_size: int, step: int, elapsed_s: float) -> Horizon:
    """Where a run at ``step``, ``elapsed_s`` seconds in, stands on the budget that will end it first.

    A step horizon and ``max_time`` may both be set: the one with the larger share done ends first,
    at the present pace. With equal shares the steps win, so a run without ``max_time`` always
    follows its steps, exactly as before time horizons existed.
    """
    by_steps = Horizon(step, horizon_steps(c, world_size), STEPS)
    if c.max_time is None:
        return by_steps
    by_time = Horizon(elapsed_s, c.max_time, SECONDS)
    if by_steps.total is None or by_time.fraction > by_steps.fraction:
        return by_time
    return by_steps


def eta_s(c: TrainConfig, horizon: int | None, step: int, mean_step_s: float, elapsed_s: float) -> float | None:
    """Seconds left until the nearest budget: the steps left at the recent pace, or the time left if sooner."""
    eta = max(0, horizon - step) * mean_step_s if horizon else None
    if c.max_time is not None:
        left = max(0.0, c.max_time - elapsed_s)
        eta = left if eta is None else min(eta, left)
    return eta
