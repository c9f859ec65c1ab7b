"""Lesson ``batch-accumulation``: the same tokens as one big batch or as several micro-batches accumulated.

Gradient accumulation (:mod:`tui_transformer.train.accumulation`) sums the gradients of
``accumulation_steps`` micro-batches before one optimizer step, each scaled by ``1/k``: the update is
the one a batch ``k`` times larger would give. So 32 x 1, 16 x 2 and 8 x 4 sequences (an
*effective* batch of 32 each) should train along the same curve, step for step, while 8 x 1 (an
effective batch of 8, four times the steps for the same tokens) takes a different path.

Every run is scored on the same 256 validation windows (``eval_batches`` times its micro-batch) every
1,600 sequences (``eval_interval`` in its own optimizer steps): the validation set is built from
micro-batches, and a run that scored fewer windows would differ by which text it read, not by how it
trained.
"""

from __future__ import annotations

from tui_transformer.lessons.lesson import Lesson
from tui_transformer.lessons.small_text import SMALL_TEXT
from tui_transformer.lessons.verdict import LessonRuns, Verdict, fmt, not_yet
from tui_transformer.train.sweep import Arm

NAME = "batch-accumulation"
TOKENS = 500 * 32 * 64  # every run: 500 steps of an effective batch of 32 sequences of 64 tokens
EQUAL = ("32x1", "16x2", "8x4")
EVAL_WINDOWS, EVAL_EVERY = 256, 50 * 32  # the validation windows, and the sequences trained between evals
SAME_NATS = 0.03  # equal effective batches end within this of each other (the data order differs a little)


def arm(batch: int, accumulation: int) -> Arm:
    """The run of micro-batches of ``batch`` sequences, ``accumulation`` to a step, scored as the module docstring says."""
    return Arm(f"{batch}x{accumulation}", {"batch_size": batch, "accumulation_steps": accumulation,
                                           "eval_batches": EVAL_WINDOWS // batch,
                                           "eval_interval": EVAL_EVERY // (batch * accumulation)})


def verdict(runs: LessonRuns) -> Verdict:
    waiting = not_yet(NAME, runs)
    if waiting is not None:
        return waiting
    arms = runs.by_label()
    final = {label: record.summary.get("final_val_loss") for label, record in arms.items()}
    lines = [f"{label}: micro-batch {record.values['batch_size']} x {record.values['accumulation_steps']} "
             f"accumulated, {record.summary['steps']} steps in {fmt(record.summary['elapsed_s'], 0)} s, final val "
             f"loss {fmt(final[label], 3)}" for label, record in arms.items()]
    equal = [final[label] for label in EQUAL if final.get(label) is not None]
    spread = max(equal) - min(equal) if len(equal) > 1 else None
    numbers = {"final_val_loss": final, "spread_of_equal_batches": spread}
    if spread is not None:
        lines.append(f"the three effective batches of 32 end within {spread:.3f} nats of each other")
    small, big = arms.get("8x1"), arms.get("32x1")
    if small is not None and big is not None and final.get("8x1") is not None and final.get("32x1") is not None:
        lines.append(f"8x1 read the same tokens in {small.summary['steps'] // max(big.summary['steps'], 1)}x the "
                     f"steps and ended {final['8x1'] - final['32x1']:+.3f} nats from 32x1: more, smaller updates from "
                     "the same text")
    if spread is not None and spread <= SAME_NATS:
        return Verdict(NAME, True, "equal effective batches gave the same curve, however they were split",
                       lines, numbers=numbers, open_page="Model and training")
    return Verdict(NAME, False, "the equal effective batches did not end together", lines, numbers=numbers,
                   try_next="compare their curves in Runs: a small gap comes from the data order, a large one "
                            "from a change in the learning-rate schedule")


LESSON = Lesson(
    name=NAME,
    title="Batches and accumulation",
    question="Does it matter whether a batch is computed at once or accumulated from micro-batches?",
    expect=("32 x 1, 16 x 2 and 8 x 4 take the same optimizer steps on the same number of tokens: their val "
            "curves lie on top of each other, because the accumulated gradient is the big batch's gradient. "
            "Accumulation trades memory for time, not quality. 8 x 1 spends the same tokens in four times as "
            "many, noisier steps, and ends elsewhere. Learn: Model and training."),
    learn="Model and training",
    base=SMALL_TEXT | dict(max_steps=None, max_tokens=TOKENS),
    arms=(arm(32, 1), arm(16, 2), arm(8, 4), arm(8, 1)),
    verdict=verdict,
    minutes=2.5,  # 4 runs of 1M tokens: 142 s on a quiet 2-core machine (docs/lessons.md)
)
