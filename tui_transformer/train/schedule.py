"""The learning-rate schedule: linear warmup, then cosine decay to a floor.

With peak rate ``lr``, ``W`` warmup steps, ``N`` total steps and floor ``f = min_lr_ratio * lr``::

    step s < W:        lr(s) = lr * (s + 1) / W                       (ramp up from lr/W to lr)
    W <= s < N:        lr(s) = f + (lr - f) * (1 + cos(pi * p)) / 2,  p = (s - W) / (N - W)
    s >= N:            lr(s) = f

Why warmup: at the start the Adam moment estimates are noisy and the weights random, so a full-size
step can throw the model into a bad region. Why cosine: a slowly shrinking step lets the loss
settle into a minimum; ending at a floor rather than zero keeps the last steps useful.

``s`` counts optimizer steps from 0, so the rate is a pure function of the step: a resumed run
recomputes it instead of restoring any scheduler object.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class CosineSchedule:
    peak_lr: float
    warmup_steps: int
    total_steps: int | None  # None: no known horizon, so the rate stays at the peak after warmup
    min_lr_ratio: float = 0.1

    @classmethod
    def for_run(cls, peak_lr: float, total_steps: int | None, warmup_frac: float, min_lr_ratio: float,
                default_warmup: int = 100) -> "CosineSchedule":
        """Warmup is a fraction of the horizon; without a horizon, ``default_warmup`` steps."""
        warmup = round(warmup_frac * total_steps) if total_steps else (default_warmup if warmup_frac > 0 else 0)
        return cls(peak_lr=peak_lr, warmup_steps=warmup, total_steps=total_steps, min_lr_ratio=min_lr_ratio)

    @property
    def floor_lr(self) -> float:
        return self.peak_lr * self.min_lr_ratio

    def lr_at(self, step: int) -> float:
        if step < self.warmup_steps:
            return self.peak_lr * (step + 1) / self.warmup_steps
        if self.total_steps is None:
            return self.peak_lr
        if step >= self.total_steps:
            return self.floor_lr
        progress = (step - self.warmup_steps) / max(1, self.total_steps - self.warmup_steps)
        return self.floor_lr + (self.peak_lr - self.floor_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))
