"""The curves the Runs screen overlays: which metric, against which x axis, smoothed how.

**The x axis.** Runs with different batch sizes or sequence lengths see different amounts of text
per step, so "step 500" of two runs is not the same point of training. Three axes are offered:

==========  ==================  ============================================================
axis        column              fair when
==========  ==================  ============================================================
step        ``step``            the runs share batch size and sequence length
tokens      ``tokens_seen``     always, for learning per token of text (the usual choice)
time        ``elapsed_s``       comparing speed: which run gets lower sooner on this machine
==========  ==================  ============================================================

**Smoothing** is TensorBoard's: an exponential moving average (EMA) with a bias correction.
A plain EMA ``s_t = w · s_{t-1} + (1 - w) · y_t`` has to start somewhere; starting at 0 drags
the first values towards 0, starting at ``y_1`` over-weights the first point. TensorBoard
starts at 0 and divides the bias out::

    a_t = w · a_{t-1} + (1 - w) · y_t,   a_0 = 0
    s_t = a_t / (1 - w^t)                (t counts the points so far)

The weights ``(1 - w) · w^(t-k)`` of the points ``k = 1..t`` sum to ``1 - w^t``, so the division
makes them sum to 1: ``s_1 = y_1`` exactly, and every ``s_t`` is a true weighted mean of the
points so far, recent ones weighing most. ``w = 0`` is no smoothing; ``w = 0.99`` averages over
roughly the last 100 points. Smoothing happens in the metric's own units, before a log axis maps
it (as TensorBoard does), so switching the log scale never changes the smoothed values.

This module is pure (no textual): the curves are tested against hand-computed values.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

X_AXES = {"step": "step", "tokens": "tokens_seen", "time": "elapsed_s"}  # axis -> metric_history column
METRICS = {"val_bpb": "val bpb", "val_loss": "val loss", "loss": "train loss", "lr": "learning rate",
           "tokens_per_sec": "tokens/s"}  # metric_history column -> label, in the order m cycles through them
MAX_SMOOTHING = 0.99  # at 1.0 the curve would never move from its first point


def debiased_ema(values: Sequence[float], weight: float) -> list[float]:
    """TensorBoard's smoothing of ``values`` with ``weight`` in [0, 0.99] (see the module docstring)."""
    if not 0.0 <= weight <= MAX_SMOOTHING:
        raise ValueError(f"smoothing weight must be between 0 and {MAX_SMOOTHING}, got {weight}")
    smoothed, accumulated, decay = [], 0.0, 1.0
    for value in values:
        accumulated = weight * accumulated + (1.0 - weight) * value
        decay *= weight  # w^t, kept as a running product
        smoothed.append(accumulated / (1.0 - decay))  # w = 0: decay is 0 and s_t = y_t
    return smoothed


def curve(history: Sequence[dict[str, Any]], metric: str, x_axis: str) -> tuple[list[float], list[float]]:
    """``(xs, ys)`` of ``metric`` against ``x_axis`` from a run's ``metric_history`` rows.

    Rows where the metric or the x value is missing (no eval at that step) or not finite are left
    out: a diverged step cannot be drawn or averaged.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; one of {', '.join(METRICS)}")
    if x_axis not in X_AXES:
        raise ValueError(f"unknown x axis {x_axis!r}; one of {', '.join(X_AXES)}")
    column = X_AXES[x_axis]
    xs, ys = [], []
    for row in history:
        x, y = row.get(column), row.get(metric)
        if x is None or y is None or not (math.isfinite(x) and math.isfinite(y)):
            continue
        xs.append(float(x))
        ys.append(float(y))
    return xs, ys
