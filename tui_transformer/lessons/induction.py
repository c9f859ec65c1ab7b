"""Lesson ``induction``: watch an induction head form, in a phase change, on repeated random segments.

The data (``synthetic:repeats``, :mod:`tui_transformer.data.synthetic`) is random segments of 4-16
of 32 ids, each repeated once: the only way to predict better than chance is to copy what followed
the current id the last time it appeared. A two-layer attention-only model learns that with a
previous-token head in layer 0 and an induction head in layer 1, and it learns it suddenly.

The trainer's induction probe (:func:`tui_transformer.interpret.induction.probe_induction`, logged
at every eval) measures it: the in-context learning score (the loss on the first copy of a
repeated random sequence minus the loss on the second, in nats) and the best head's prefix-matching
score. The verdict finds the **phase change**: the first eval where in-context learning passes
``ICL_FORMED`` nats, and reads both scores before it and at the end.

The same recipe from three seeds: the step of the phase change varies, and in a short budget a seed
may not get there at all (measured here: most seeds by step 300-400, some not by 1,500).
"""

from __future__ import annotations

from tui_transformer.lessons.lesson import Lesson
from tui_transformer.lessons.verdict import LessonRuns, RunRecord, Verdict, finite, fmt, not_yet
from tui_transformer.train.sweep import Arm

NAME = "induction"
ICL_FORMED = 1.0  # nats: a model that cannot copy scores about 0; a perfect copier about ln 32 = 3.5
PREFIX_FORMED = 0.5  # the attention a head pays to the token after the earlier occurrence (1 = all of it)
SEEDS = (0, 1, 2)

BASE = dict(
    data="synthetic:repeats", model_d_model=64, model_n_heads=4, model_n_layers=2, model_d_ff=1,
    model_max_seq_len=64, model_pos_encoding="rope", model_tie_weights=False,
    lr=3e-3, weight_decay=0.0, warmup_frac=0.0, min_lr_ratio=1.0, batch_size=32, max_steps=600,
    eval_interval=25, eval_batches=4, sample_interval=200, checkpoint_interval=200,
    sample_prompt="KfaQTbKfaQT",  # a repeated segment cut short: a model that copies completes it with b
)


def phase_change(record: RunRecord) -> int | None:
    """The step of the first eval whose in-context learning score reached ``ICL_FORMED``, or None."""
    for result in record.evals:
        if finite(result.in_context_learning) and result.in_context_learning >= ICL_FORMED:
            return result.step
    return None


def formed(record: RunRecord) -> bool:
    last = record.evals[-1] if record.evals else None
    return (last is not None and finite(last.in_context_learning) and last.in_context_learning >= ICL_FORMED
            and finite(last.induction_score) and last.induction_score >= PREFIX_FORMED)


def describe(record: RunRecord) -> tuple[str, dict]:
    """One verdict line for a run and its numbers: the phase change, and the scores before and at the end."""
    step = phase_change(record)
    first, last = record.evals[0], record.evals[-1]
    before = next((e for e in reversed(record.evals) if step is not None and e.step < step), first)
    numbers = {"run": record.name, "phase_change_step": step, "formed": formed(record),
               "icl_before": before.in_context_learning, "prefix_before": before.induction_score,
               "icl_after": last.in_context_learning, "prefix_after": last.induction_score, "last_step": last.step,
               "val_loss_before": before.val_loss, "val_loss_after": last.val_loss}
    if step is None:
        line = (f"{record.label}: no phase change by step {last.step}: in-context learning {fmt(last.in_context_learning)} "
                f"nats, best prefix matching {fmt(last.induction_score)}")
    else:
        line = (f"{record.label}: phase change at step {step}: in-context learning {fmt(before.in_context_learning)} "
                f"-> {fmt(last.in_context_learning)} nats, prefix matching {fmt(before.induction_score)} -> "
                f"{fmt(last.induction_score)}, val loss {fmt(before.val_loss)} -> {fmt(last.val_loss)}")
    return line, numbers


def verdict(runs: LessonRuns) -> Verdict:
    waiting = not_yet(NAME, runs, needed=1)
    if waiting is not None:
        return waiting
    records = [record for record in runs.records if record.ended and record.evals]
    described = [describe(record) for record in records]
    heads = [record for record in records if formed(record)]
    lines = [line for line, _ in described]
    numbers = {"runs": [n for _, n in described], "icl_formed": ICL_FORMED, "prefix_formed": PREFIX_FORMED}
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
            "can be copied. For a while the loss sits near ln 32 = 3.47 and the probe chart is flat. Then, "
            "within a few dozen steps, a previous-token head in layer 0 and an induction head in layer 1 form "
            "together: the in-context learning score jumps above 1 nat, a head's prefix-matching score passes "
            "0.5, and the loss drops. That sudden jump is the phase change of Olsson et al. (2022). "
            "Learn: Circuits."),
    learn="Circuits",
    base=BASE,
    arms=tuple(Arm(f"seed{seed}", {"seed": seed}) for seed in SEEDS),
    verdict=verdict,
)
