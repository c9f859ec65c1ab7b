"""Lesson ``speedrun``: the classic recipe against the modern one (issue #27), and each change alone, at equal time.

The NanoGPT speedrun reached GPT-2-small quality many times faster than the classic recipe, from a
handful of changes: RMSNorm, no biases, QK-norm, ReLU², zero-initialised projections, soft-capped
logits, an untied head, Muon and a warm-up/flat/warm-down schedule. The arms are the recipe
benchmark's own (:mod:`tui_transformer.presets`): the classic recipe, the modern one (what the
``tiny`` preset adopted), and one run per change. Each run trains for the same wall time; the
verdict ranks them by val bits per byte and says what each change gave on this CPU.

The settings come with the modern-recipe work; until they exist, :func:`unavailable` says so and
the lesson is refused with that message.
"""

from __future__ import annotations

from dataclasses import fields

from tui_transformer.lessons.lesson import Lesson
from tui_transformer.lessons.small_text import SMALL_TEXT, ranked_by
from tui_transformer.lessons.verdict import LessonRuns, Verdict, fmt, not_yet
from tui_transformer.presets import MODERN, RECIPE_CHANGES
from tui_transformer.train.sweep import Arm

NAME = "speedrun"
SECONDS = 45.0  # every run: 45 s of training, so that the twelve runs fit in about ten minutes


def unavailable() -> str | None:
    """Which of the settings the lesson compares do not exist yet (None when all do)."""
    from tui_transformer.model.config import ModelConfig
    from tui_transformer.train.config import TrainConfig

    known = {f.name for f in fields(TrainConfig)} | {f"model_{f.name}" for f in fields(ModelConfig)}
    wanted = set(MODERN).union(*RECIPE_CHANGES.values())
    missing = sorted(key.removeprefix("model_") for key in wanted if key not in known)
    return f"it needs the modern-recipe settings ({', '.join(missing)}), which are not in this version" if missing else None


def verdict(runs: LessonRuns) -> Verdict:
    waiting = not_yet(NAME, runs)
    if waiting is not None:
        return waiting
    ranked = ranked_by(runs.records, "best_val_bpb")
    classic = runs.by_label().get("classic")
    base = classic.summary.get("best_val_bpb") if classic else None
    lines = [f"{r.label}: best val {fmt(r.summary['best_val_bpb'], 4)} bits a byte in {r.summary['steps']} steps"
             + (f" ({r.summary['best_val_bpb'] - base:+.4f} against classic)" if base is not None else "")
             for r in ranked]
    numbers = {r.label: {"run": r.name, "best_val_bpb": r.summary["best_val_bpb"], "steps": r.summary["steps"]}
               for r in ranked}
    modern = runs.by_label().get("modern")
    shown = base is not None and modern is not None and modern.summary.get("best_val_bpb") is not None \
        and modern.summary["best_val_bpb"] < base
    headline = ("the modern recipe beat the classic one in the same time" if shown
                else "the modern recipe did not beat the classic one in this time on this machine")
    return Verdict(NAME, shown, headline, lines, numbers=numbers,
                   try_next="" if shown else "its gains were measured on GPUs at larger scale; a longer run may differ")


LESSON = Lesson(
    name=NAME,
    title="The modern recipe",
    question="Which of the speedrun's changes make a small model learn faster in the same time?",
    expect=("Each run trains for 45 seconds. The modern recipe (the changes the tiny preset adopted: an untied "
            "head, ReLU², Muon and the WSD schedule) should reach a lower val bits per byte than the classic one; "
            "the single-change runs show which changes carry the gain at this scale. Learn: The modern recipe."),
    learn="The modern recipe",
    base=SMALL_TEXT | dict(max_steps=None, max_time=SECONDS),
    arms=(Arm("classic", {}), Arm("modern", MODERN), *(Arm(label, change) for label, change in RECIPE_CHANGES.items())),
    verdict=verdict,
    minutes=9.5,  # its 12 runs of 45 s, with setup and evaluations: 9.5 minutes, on a busy 2-core machine
    unavailable=unavailable,
)
