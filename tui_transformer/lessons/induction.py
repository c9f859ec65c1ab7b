"""Lesson ``induction``: watch an induction head form, in a phase change, on repeated random segments.

The data (``synthetic:repeats``, :mod:`tui_transformer.data.synthetic`) is random segments of 4-16
of 32 ids, each repeated once: the only way to predict better than chance is to copy what followed
the current id the last time it appeared. A two-layer attention-only model learns that with a
previous-token head in layer 0 and an induction head in layer 1, and it learns it suddenly.

The trainer's induction probe (:func:`tui_transformer.interpret.induction.probe_induction`, logged
at every eval) measures it: the in-context learning score (the loss on the first copy of a
repeated random sequence minus the loss on the second, in nats) and the best head's prefix-matching
score. On this data the probe's sequences are 16 ids long, the longest segment the model trains on
(:func:`~tui_transformer.interpret.induction.probe_length`).

**The bars.** A model without an induction head still learns that the second copy's ids are ones
already seen (16 of the 32): that alone is worth ``ln 2 = 0.7`` nats, and the plateau's in-context
learning creeps up to about 1 nat (measured: 0.7-1.1 with prefix matching under 0.15). A formed
head reads 3.1-3.3 nats and 0.9-1.0. So the **phase change** is the first eval where in-context
learning reaches ``ICL_FORMED`` = 2 nats, which no plateau reached; "before" is the last eval still
under ``ICL_PLATEAU`` = 1 nat, where the jump began; and a run *formed a head* when, at its end,
in-context learning is at least 2 nats and a head's prefix matching at least 0.5.

**The recipe** warms the learning rate up over the first 10% of the steps, then holds it: measured
here, seeds 0-9 all changed phase, at steps 375-500 of 800. At a constant rate from step 0, seeds
1, 2 and 4 of 0-4 stayed on the plateau for 600 steps, and seed 3 learnt to copy by some other
route than an induction head (in-context learning 3.1 nats, prefix matching 0.04): the
prefix-matching bar is what tells them apart.
"""

from __future__ import annotations

from tui_transformer.lessons.lesson import Lesson
from tui_transformer.lessons.verdict import LessonRuns, RunRecord, Verdict, finite, fmt, not_yet
from tui_transformer.train.events import EvalResult
from tui_transformer.train.sweep import Arm

NAME = "induction"
ICL_PLATEAU = 1.0  # nats: about the most a model without an induction head reads (see "The bars")
ICL_FORMED = 2.0  # nats: the phase change; a perfect copier reads about ln 32 = 3.5
PREFIX_FORMED = 0.5  # the attention a head pays to the token after the earlier occurrence (1 = all of it)
SEEDS = (0, 1, 2)

BASE = dict(
    data="synthetic:repeats", model_d_model=64, model_n_heads=4, model_n_layers=2, model_d_ff=1,
    model_max_seq_len=64, model_pos_encoding="rope", model_tie_weights=False,
    lr=3e-3, weight_decay=0.0, warmup_frac=0.1, min_lr_ratio=1.0, batch_size=32, max_steps=800,
    eval_interval=25, eval_batches=4, sample_interval=200, checkpoint_interval=200,
    sample_prompt="KfaQTbKfaQT",  # a repeated segment cut short: a model that copies completes it with b
)


def phase_change(record: RunRecord) -> int | None:
    """The step of the first eval whose in-context learning score reached ``ICL_FORMED``, or None."""
    for result in record.evals:
        if finite(result.in_context_learning) and result.in_context_learning >= ICL_FORMED:
            return result.step
    return None


def plateau_end(record: RunRecord, step: int | None) -> EvalResult:
    """The eval where the jump began: the last before ``step`` still under ``ICL_PLATEAU`` (the first eval
    if there is none, or if the run never changed phase)."""
    under = [e for e in record.evals if step is not None and e.step < step
             and finite(e.in_context_learning) and e.in_context_learning < ICL_PLATEAU]
    return under[-1] if under else record.evals[0]


def formed(record: RunRecord) -> bool:
    last = record.evals[-1] if record.evals else None
    return (last is not None and finite(last.in_context_learning) and last.in_context_learning >= ICL_FORMED
            and finite(last.induction_score) and last.induction_score >= PREFIX_FORMED)


def describe(record: RunRecord) -> tuple[str, dict]:
    """One verdict line for a run and its numbers: the phase change, and the scores before and at the end."""
    step = phase_change(record)
    before, last = plateau_end(record, step), record.evals[-1]
    numbers = {"run": record.name, "phase_change_step": step, "formed": formed(record),
               "before_step": before.step, "icl_before": before.in_context_learning,
               "prefix_before": before.induction_score, "icl_after": last.in_context_learning,
               "prefix_after": last.induction_score, "last_step": last.step, "val_loss_before": before.val_loss,
               "val_loss_after": last.val_loss}
    if step is None:
        line = (f"{record.label}: no phase change by step {last.step}: in-context learning {fmt(last.in_context_learning)} "
                f"nats, best prefix matching {fmt(last.induction_score)}")
    elif not numbers["formed"]:
        line = (f"{record.label}: in-context learning {fmt(last.in_context_learning)} nats from step {step}, but no "
                f"head attends to the token after the earlier occurrence (best prefix matching "
                f"{fmt(last.induction_score)}): it copies by another route than an induction head")
    else:
        line = (f"{record.label}: phase change at step {step}: in-context learning {fmt(before.in_context_learning)} "
                f"(step {before.step}) -> {fmt(last.in_context_learning)} nats, prefix matching "
                f"{fmt(before.induction_score)} -> {fmt(last.induction_score)}, val loss {fmt(before.val_loss)} -> "
                f"{fmt(last.val_loss)}")
    return line, numbers


def verdict(runs: LessonRuns) -> Verdict:
    waiting = not_yet(NAME, runs, needed=1)
    if waiting is not None:
        return waiting
    records = [record for record in runs.records if record.ended and record.evals]
    described = [describe(record) for record in records]
    heads = [record for record in records if formed(record)]
    lines = [line for line, _ in described]
    numbers = {"runs": [n for _, n in described], "icl_plateau": ICL_PLATEAU, "icl_formed": ICL_FORMED,
               "prefix_formed": PREFIX_FORMED}
    if heads:
        best = max(heads, key=lambda record: record.evals[-1].induction_score)
        headline = (f"an induction head formed in {len(heads)} of {len(records)} runs, each in a sudden phase change: "
                    "copying from context, found by the model")
        return Verdict(NAME, True, headline, lines, numbers=numbers, open_page="Circuits", open_run=best.name)
    return Verdict(NAME, False, f"no induction head formed in {len(records)} runs yet", lines,
                   try_next="the phase change comes at a different step for each seed: train a run longer "
                            "(train --resume RUN --max-steps 1500), or add seeds",
                   numbers=numbers)


LESSON = Lesson(
    name=NAME,
    title="Induction heads",
    question="Can a transformer learn, by itself, to copy what came next the last time it saw a token?",
    expect=("The data is random segments, each repeated once: the first copy is unpredictable, the second "
            "can be copied. For a few hundred steps the loss sits near ln 32 = 3.47 and the probe chart barely "
            "moves: in-context learning creeps up to about 1 nat (the second copy's ids were all seen already) "
            "and prefix matching stays near 0.1. Then, within about 50 steps, a previous-token head in layer 0 "
            "and an induction head in layer 1 form together: in-context learning jumps past 2 nats (to about "
            "3), a head's prefix matching passes 0.5 (to about 0.95), and the loss drops. That sudden jump is "
            "the phase change of Olsson et al. (2022). Learn: Circuits."),
    learn="Circuits",
    minutes=1,  # lesson run induction: 47 s on a quiet 2-core machine from an empty cache (docs/lessons.md)
    base=BASE,
    arms=tuple(Arm(f"seed{seed}", {"seed": seed}) for seed in SEEDS),
    verdict=verdict,
)
