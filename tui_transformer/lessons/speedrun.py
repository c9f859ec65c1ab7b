"""Lesson ``speedrun``: the classic recipe against the modern one (issue #27), and each change alone, at equal time.

The NanoGPT speedrun reached GPT-2-small quality many times faster than the classic recipe, from a
handful of changes: RMSNorm, no biases, QK-norm, ReLU², zero-initialised projections, soft-capped
logits, an untied head, Muon and a warm-up/flat/warm-down schedule. The arms are the recipe
benchmark's own (:mod:`tui_transformer.presets`): the classic recipe, the modern one (what the
``tiny`` preset adopted), and one run per change, at the benchmark's shape. Each run trains for the
same wall time; the verdict ranks them by val bits per byte and says what each change gave on this
CPU. Each arm runs once, so the verdict counts the modern recipe's gain as shown only when it is
larger than one seed's noise (``NOISE_BPB``).

The settings come with the modern-recipe work; until they exist, :func:`unavailable` says so and
the lesson is refused with that message.
"""

from __future__ import annotations

from dataclasses import fields

from tui_transformer.lessons.lesson import Lesson
from tui_transformer.lessons.small_text import ranked_by
from tui_transformer.lessons.verdict import LessonRuns, RunRecord, Verdict, fmt, not_yet
from tui_transformer.presets import MODERN, RECIPE_CHANGES
from tui_transformer.train.sweep import Arm

NAME = "speedrun"
SECONDS = 45.0  # every run: 45 s of training, so that the twelve runs fit in about ten minutes
# One seed's noise: classic's bits per byte over 3 seeds had a standard deviation of 0.022 at this
# shape and budget (docs/benchmarks.md); a gain smaller than this could come from the seed alone.
NOISE_BPB = 0.02
# The recipe benchmark's shape (the classic preset: tiny's sizes, a BPE of 8192, T 128), on which the
# modern recipe was chosen; evaluated as the lesson's other runs are, six times in the 45 s.
SHAPE = dict(data="builtin", max_steps=None, max_time=SECONDS, eval_interval=50, eval_batches=8,
             sample_interval=100_000, checkpoint_interval=250)


def unavailable() -> str | None:
    """Which of the settings the lesson compares do not exist yet (None when all do)."""
    from tui_transformer.model.config import ModelConfig
    from tui_transformer.train.config import TrainConfig

    known = {f.name for f in fields(TrainConfig)} | {f"model_{f.name}" for f in fields(ModelConfig)}
    wanted = set(MODERN).union(*RECIPE_CHANGES.values())
    missing = sorted(key.removeprefix("model_") for key in wanted if key not in known)
    return f"it needs the modern-recipe settings ({', '.join(missing)}), which are not in this version" if missing else None


def single_change_won(best: RunRecord, modern: RunRecord, classic: RunRecord) -> str:
    """The line for a single change that beat the whole modern recipe: the time its changes cost is in its steps."""
    gap = best.summary["best_val_bpb"] - modern.summary["best_val_bpb"]
    return (f"{best.label} alone beat the modern recipe ({gap:+.4f}): in the same time modern made "
            f"{modern.summary['steps']:,} steps to classic's {classic.summary['steps']:,}, so at this size its "
            "changes cost time as well as gain it")


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
    gain = (base - modern.summary["best_val_bpb"]) if base is not None and modern is not None \
        and modern.summary.get("best_val_bpb") is not None else None
    if gain is not None and gain > 0 and ranked[0] is not modern:
        lines.append(single_change_won(ranked[0], modern, classic))
    if gain is not None and gain > NOISE_BPB:
        return Verdict(NAME, True, f"the modern recipe beat the classic one in the same time, by {gain:.4f} bits a "
                                   "byte", lines, numbers=numbers, open_page="The modern recipe")
    headline = ("the modern recipe did not beat the classic one in this time on this machine" if gain is None
                or gain <= 0 else f"the modern recipe ended ahead by {gain:.4f} bits a byte, within one seed's noise "
                                  f"({NOISE_BPB})")
    return Verdict(NAME, False, headline, lines, numbers=numbers,
                   try_next="run it again on a quiet machine (a busy one leaves each run fewer steps); one seed of a "
                            "run differs from the next by up to about 0.02, and benchmarks.md has the 3-seed table")


LESSON = Lesson(
    name=NAME,
    title="The modern recipe",
    question="Which of the speedrun's changes make a small model learn faster in the same time?",
    expect=("Each run trains for 45 seconds at the tiny preset's size. The modern recipe (the changes the tiny "
            "preset adopted: an untied head, ReLU², Muon and the WSD schedule) should reach a lower val bits per "
            "byte than the classic one; the single-change runs show which changes carry the gain at this scale, "
            "and which cost more time a step than they gain. Learn: The modern recipe."),
    learn="The modern recipe",
    base=SHAPE,
    arms=(Arm("classic", {}), Arm("modern", MODERN), *(Arm(label, change) for label, change in RECIPE_CHANGES.items())),
    verdict=verdict,
    minutes=9.5,  # lesson run speedrun: 556 s on a quiet 2-core machine, its BPE built first (docs/lessons.md)
    unavailable=unavailable,
)
