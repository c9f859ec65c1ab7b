"""Lesson ``learning-rate``: too low, about right, far too high; and what the training doctor says of each.

The learning rate scales every update. Too low and the model barely moves in the budget; too high and
each step overshoots: the loss jumps, climbs above ``ln V`` (worse than a uniform guess) and the
gradient is clipped on almost every step. The training doctor (:mod:`tui_transformer.train.doctor`)
watches for exactly these, so its alerts are part of the verdict.
"""

from __future__ import annotations

from tui_transformer.lessons.lesson import Lesson
from tui_transformer.lessons.small_text import SMALL_TEXT
from tui_transformer.lessons.verdict import LessonRuns, RunRecord, Verdict, fmt, not_yet
from tui_transformer.train.sweep import Arm

NAME = "learning-rate"
RATES = {"low": 1e-5, "right": 2e-3, "high": 0.5}


def final_loss(record: RunRecord) -> float | None:
    return record.summary.get("best_val_loss")


def first_alerts(record: RunRecord) -> dict[str, int]:
    """Each rule the doctor raised on the run, and the step it first did, in the order they came."""
    steps: dict[str, int] = {}
    for alert in sorted(record.alerts, key=lambda alert: alert.step):
        steps.setdefault(alert.rule, alert.step)
    return steps


def describe(record: RunRecord) -> str:
    rules = first_alerts(record)
    said = ("the doctor said: " + ", ".join(f"{rule} (step {step})" for rule, step in rules.items()) if rules
            else "the doctor said nothing")
    return f"{record.label} (lr {record.values['lr']:g}): best val loss {fmt(final_loss(record))}, {record.state}; {said}"


def verdict(runs: LessonRuns) -> Verdict:
    waiting = not_yet(NAME, runs)
    if waiting is not None:
        return waiting
    arms = runs.by_label()
    losses = {label: final_loss(record) for label, record in arms.items()}
    right = losses.get("right")
    beaten = [label for label in ("low", "high") if losses.get(label) is not None and right is not None
              and losses[label] <= right]
    high_alerts = {alert.rule for alert in arms["high"].alerts} if "high" in arms else set()
    shown = right is not None and not beaten and bool(high_alerts)
    lines = [describe(record) for record in runs.records]
    numbers = {label: {"run": record.name, "lr": record.values["lr"], "best_val_loss": losses[label],
                       "alerts": first_alerts(record), "state": record.state}
               for label, record in arms.items()}
    if shown:
        headline = "the middle rate learned best; the low one barely moved and the doctor flagged the high one"
        return Verdict(NAME, True, headline, lines, numbers=numbers, open_page="Model and training")
    why = (f"{', '.join(beaten)} matched or beat the middle rate" if beaten
           else "the doctor raised no alert on the high rate")
    return Verdict(NAME, False, f"not the expected picture: {why}", lines, numbers=numbers,
                   try_next="read each run's loss curve in Runs; a rate 10x apart on each side usually shows it")


LESSON = Lesson(
    name=NAME,
    title="The learning rate",
    question="What happens when the learning rate is too low, about right, or far too high?",
    expect=("At 1e-5 the loss falls slowly: the steps are too small to get anywhere in 500 of them. At 2e-3 it "
            "falls fast and keeps falling. At 0.5 every step overshoots: within a few steps the loss is above "
            "ln V, worse than guessing uniformly, and the doctor says so, then flags clipping on nearly every "
            "step. Learn: Model and training."),
    learn="Model and training",
    base=SMALL_TEXT,
    arms=tuple(Arm(label, {"lr": rate}) for label, rate in RATES.items()),
    verdict=verdict,
    minutes=1,  # 3 runs of 500 steps: 65 s on a quiet 2-core machine (docs/lessons.md)
)
