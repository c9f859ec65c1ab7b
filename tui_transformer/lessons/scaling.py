"""Lesson ``scaling``: four model sizes, one compute budget; loss against FLOPs and against parameters, on log axes.

Training costs about ``6 N`` FLOPs a token for a model of ``N`` weights (plus attention:
:func:`tui_transformer.model.tools.flops.flops_per_token`). At a fixed budget ``C`` a model of
``f`` FLOPs a token trains on ``C / f`` tokens: a bigger model learns more from each token but sees
fewer. Each run's ``max_tokens`` is set so that all four spend ``BUDGET_FLOPS``.

Two pictures, both on log-log axes, where a power law ``L = a C^b`` is a straight line of slope ``b``:

* **Loss against FLOPs** (Kaplan et al. 2020): each run's val loss against the FLOPs spent so far.
  At every amount of compute some size is lowest; those lowest points are the *compute frontier*,
  and the verdict fits its slope by least squares, ``log L = log a + b log C``, over the part of the
  budget past its first tenth (the start is warm-up). Early on the small model leads (it has
  seen more tokens), later a bigger one takes over.
* **Loss against parameters at the end** (Hoffmann et al. 2022, "Chinchilla"): one point a size.
  Too small a model cannot hold more than it has learned; too large a one ran out of tokens before
  it learned much (Chinchilla's rule of thumb: about 20 tokens a parameter). In between lies the
  best size for the budget, so the curve is a U and the effect is shown when the best size is
  neither the smallest nor the largest.
"""

from __future__ import annotations

import math

from tui_transformer.lessons.lesson import Lesson
from tui_transformer.lessons.small_text import SMALL_TEXT
from tui_transformer.lessons.verdict import Chart, LessonRuns, RunRecord, Verdict, fmt, not_yet
from tui_transformer.model.config import ModelConfig
from tui_transformer.model.tools.flops import flops_per_token
from tui_transformer.train.sweep import Arm

NAME = "scaling"
BUDGET_FLOPS = 4e12
WIDTHS = (32, 64, 128, 192)
SHAPE = dict(vocab_size=2048, n_heads=4, n_layers=2, max_seq_len=64)  # the SMALL_TEXT shape; the width varies
WARM_UP_SHARE = 0.1  # the frontier's fit starts past this share of the budget


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


def frontier(curves: dict[str, list[tuple[float, float]]]) -> list[tuple[float, float, str]]:
    """``(FLOPs, loss, run)`` of every point no run beat with fewer FLOPs: the lowest loss reached so far, as
    the compute grows (each run's evals, merged in FLOPs order)."""
    points = sorted((flops, loss, run) for run, curve in curves.items() for flops, loss in curve)
    best, kept = math.inf, []
    for flops, loss, run in points:
        if loss < best:
            best = loss
            kept.append((flops, loss, run))
    return kept


def verdict(runs: LessonRuns) -> Verdict:
    waiting = not_yet(NAME, runs)
    if waiting is not None:
        return waiting
    records = sorted((r for r in runs.records if r.summary.get("best_val_loss") and r.n_params),
                     key=lambda r: r.n_params)
    points = [{"run": r.name, "label": r.label, "params": r.n_params, "tokens": r.summary["tokens_seen"],
               "best_val_loss": r.summary["best_val_loss"], "curve": flops_curve(r)} for r in records]
    if not points:
        return Verdict(NAME, False, "no run logged a val loss", [])
    edge = frontier({p["label"]: p["curve"] for p in points})
    fitted = [(flops, loss) for flops, loss, _ in edge if flops >= WARM_UP_SHARE * BUDGET_FLOPS]
    slope = log_slope(*zip(*fitted)) if len(fitted) > 1 else None
    best = min(points, key=lambda p: p["best_val_loss"])
    lines = [f"{p['label']}: {p['params']:,} parameters, {p['tokens']:,} tokens ({p['tokens'] / p['params']:.1f} a "
             f"parameter), best val loss {fmt(p['best_val_loss'], 3)}" for p in points]
    leaders = list(dict.fromkeys(run for flops, _, run in edge if flops >= WARM_UP_SHARE * BUDGET_FLOPS))
    lines.append(f"the compute frontier falls as FLOPs^{fmt(slope, 3)} (led in turn by {', '.join(leaders)})"
                 if slope is not None else "too few evals to fit the compute frontier")
    lines.append(f"at {BUDGET_FLOPS:.0e} FLOPs the best size is {best['label']} ({best['params']:,} parameters)")
    numbers = {"budget_flops": BUDGET_FLOPS, "points": points, "frontier_slope": slope, "best": best["label"]}
    charts = [Chart("val loss by FLOPs", {p["label"]: tuple(map(list, zip(*p["curve"]))) for p in points if p["curve"]},
                    log_x=True, log_y=True),
              Chart("best val loss by parameters", {"runs": ([p["params"] for p in points],
                                                             [p["best_val_loss"] for p in points])},
                    log_x=True, log_y=True)]
    interior = len(points) > 2 and best is not points[0] and best is not points[-1]
    if interior:
        return Verdict(NAME, True, f"a middle size learned best at this budget: {best['label']}; smaller sizes ran out "
                                   "of capacity, larger ones out of tokens", lines, numbers=numbers, charts=charts)
    why = ("the largest learned best: the budget buys every size enough tokens" if best is points[-1]
           else "the smallest learned best: the budget is too small for the larger sizes")
    return Verdict(NAME, False, f"no middle size won: {why}", lines, numbers=numbers, charts=charts,
                   try_next="a budget that puts the best size in the middle: larger if the largest won, smaller if "
                            "the smallest did (BUDGET_FLOPS in lessons/scaling.py)")


LESSON = Lesson(
    name=NAME,
    title="Scaling",
    question="At a fixed compute budget, how does the loss depend on the model's size?",
    expect=("Each run spends the same FLOPs: the smallest model sees millions of tokens, the largest a few "
            "hundred thousand. On log axes the loss against FLOPs falls along a line, a power law, with the "
            "lead passing from the small models to larger ones as the compute grows. At the end the loss "
            "against size is a U: the best size for a budget balances capacity against tokens (the Chinchilla "
            "result: about 20 tokens a parameter). Learn: Model and training."),
    learn="Model and training",
    base=SMALL_TEXT | dict(max_steps=None, eval_interval=50),
    arms=tuple(Arm(f"d{width}", size(width)) for width in WIDTHS),
    verdict=verdict,
    minutes=3,  # 4 runs of 4e12 FLOPs: 180 s on a quiet 2-core machine (docs/lessons.md)
)
