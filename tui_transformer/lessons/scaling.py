"""Lesson ``scaling``: four model sizes at one compute budget; loss against parameters and FLOPs, on log axes.

Training costs about ``6 N`` FLOPs a token for a model of ``N`` weights (plus attention:
:func:`tui_transformer.model.tools.flops.flops_per_token`). At a fixed budget ``C`` a model of
``f`` FLOPs a token trains on ``C / f`` tokens: a bigger model learns more from each token but sees
fewer. Each run's ``max_tokens`` is set so that all four spend ``BUDGET_FLOPS``.

Scaling laws (Kaplan et al. 2020; Hoffmann et al. 2022) say that loss falls as a power of model size
while the data suffices, a straight line on log-log axes; the verdict fits its slope by least
squares, ``log L = a + b log N``, and a second slope over each run's own curve of val loss against
the FLOPs spent so far.
"""

from __future__ import annotations

import math

from tui_transformer.lessons.lesson import Lesson
from tui_transformer.lessons.small_text import SMALL_TEXT
from tui_transformer.lessons.verdict import LessonRuns, RunRecord, Verdict, fmt, not_yet
from tui_transformer.model.config import ModelConfig
from tui_transformer.model.tools.flops import flops_per_token
from tui_transformer.train.sweep import Arm

NAME = "scaling"
BUDGET_FLOPS = 2e12  # about 1 to 3 minutes a run on 2 CPU cores
WIDTHS = (32, 64, 128, 192)
SHAPE = dict(vocab_size=2048, n_heads=4, n_layers=2, max_seq_len=64)  # the SMALL_TEXT shape; the width varies


def size(width: int) -> dict:
    """The overrides of one run: its width, its FFN at 4x, and the tokens the budget buys it."""
    model = ModelConfig(d_model=width, d_ff=4 * width, **SHAPE)
    return {"model_d_model": width, "model_d_ff": 4 * width, "max_tokens": int(BUDGET_FLOPS / flops_per_token(model))}


def log_slope(xs: list[float], ys: list[float]) -> float | None:
    """The least-squares slope ``b`` of ``log y = a + b log x`` (None for fewer than two points)."""
    if len(xs) < 2:
        return None
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    spread = sum((x - mx) ** 2 for x in lx)
    return None if spread == 0 else sum((x - mx) * (y - my) for x, y in zip(lx, ly)) / spread


def flops_curve(record: RunRecord) -> list[tuple[float, float]]:
    """``(FLOPs spent, val loss)`` at each eval of the run."""
    per_token = flops_per_token(ModelConfig.from_dict(record.config["model"]))
    return [(row["tokens_seen"] * per_token, row["val_loss"]) for row in record.history
            if row["val_loss"] is not None and row["tokens_seen"]]


def verdict(runs: LessonRuns) -> Verdict:
    waiting = not_yet(NAME, runs)
    if waiting is not None:
        return waiting
    records = [r for r in runs.records if r.summary.get("best_val_loss") and r.n_params]
    points = [{"run": r.name, "params": r.n_params, "best_val_loss": r.summary["best_val_loss"],
               "tokens": r.summary["tokens_seen"], "curve": flops_curve(r)} for r in records]
    slope = log_slope([p["params"] for p in points], [p["best_val_loss"] for p in points])
    curve_slopes = {p["run"]: log_slope(*zip(*p["curve"][len(p["curve"]) // 2:])) if len(p["curve"]) > 3 else None
                    for p in points}
    lines = [f"{p['run']}: {p['params']:,} parameters, {p['tokens']:,} tokens, best val loss "
             f"{fmt(p['best_val_loss'], 3)}; slope against its own FLOPs {fmt(curve_slopes[p['run']], 3)}"
             for p in points]
    best = min(points, key=lambda p: p["best_val_loss"])
    lines.append(f"fitted: log loss = a {slope:+.3f} log params" if slope is not None else "too few runs to fit")
    lines.append(f"at this budget the best size is {best['run']} ({best['params']:,} parameters)")
    numbers = {"budget_flops": BUDGET_FLOPS, "points": points, "slope_vs_params": slope,
               "slope_vs_flops": curve_slopes}
    shown = slope is not None and slope < 0
    if shown:
        return Verdict(NAME, True, f"loss fell with size as a power law, slope {slope:.3f} on log-log axes", lines,
                       numbers=numbers)
    return Verdict(NAME, False, "loss did not fall with size at this budget", lines, numbers=numbers,
                   try_next="the largest model may have seen too few tokens: the compute-optimal size is in between")


LESSON = Lesson(
    name=NAME,
    title="Scaling",
    question="At a fixed compute budget, how does the loss depend on the model's size?",
    expect=("Each run spends the same FLOPs: the small models see millions of tokens, the large one a few "
            "hundred thousand. On log axes the best loss against parameters falls along a line, a power law, "
            "until the largest model runs short of data; the best size for a budget lies where the two "
            "balance (the Chinchilla result). Learn: Model and training."),
    learn="Model and training",
    base=SMALL_TEXT | dict(max_steps=None, eval_interval=50),
    arms=tuple(Arm(f"d{width}", size(width)) for width in WIDTHS),
    verdict=verdict,
)
