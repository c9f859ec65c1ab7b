"""Lesson ``overfitting``: a small slice of the corpus, many epochs: train falls, val turns and rises.

``--data builtin:train-docs=40`` trains on only the first 40 training documents of the builtin corpus
(the validation split is the usual one). The model passes over that slice dozens of times, learns
it by heart, and gets worse on text it has not seen. The training doctor raises its overfitting
alert when val rises while train falls over several evals, and ``best.pt`` keeps the weights of the
lowest val loss, so the best model is not lost when the run goes on.
"""

from __future__ import annotations

from pathlib import Path

from tui_transformer.lessons.lesson import Lesson
from tui_transformer.lessons.small_text import SMALL_TEXT
from tui_transformer.lessons.verdict import LessonRuns, Verdict, fmt, not_yet
from tui_transformer.train.sweep import Arm

NAME = "overfitting"
ROSE_NATS = 0.05  # val above its best by this much at the end: it turned, not noise


def best_checkpoint_step(run_dir: Path) -> int | str:
    """The step whose weights the run's ``best.pt`` holds, read from the file; else why there is none."""
    from tui_transformer.train.checkpoint import BEST, CheckpointError, load
    from tui_transformer.train.runs import CHECKPOINTS

    path = run_dir / CHECKPOINTS / BEST
    if not path.is_file():
        return "there is no best.pt"
    try:
        return load(path)["step"]
    except CheckpointError as error:
        return f"best.pt could not be read: {error}"



def verdict(runs: LessonRuns) -> Verdict:
    waiting = not_yet(NAME, runs)
    if waiting is not None:
        return waiting
    record = runs.records[0]
    evals = record.evals
    best = min(evals, key=lambda e: e.val_loss)
    last = evals[-1]
    rose = last.val_loss - best.val_loss
    alerts = [alert for alert in record.alerts if alert.rule == "overfitting"]
    kept = best_checkpoint_step(record.path)
    lines = [f"val loss was lowest at step {best.step} ({fmt(best.val_loss, 3)}); " + (
                 "best.pt holds the weights of that step" if kept == best.step
                 else f"best.pt holds step {kept}" if isinstance(kept, int) else kept),
             f"at the end (step {last.step}) val is {fmt(last.val_loss, 3)} ({rose:+.3f}) while train is "
             f"{fmt(last.train_loss, 3)} (it was {fmt(best.train_loss, 3)})",
             (f"the doctor's overfitting alert came at step {alerts[0].step}" if alerts
              else "the doctor raised no overfitting alert")]
    numbers = {"run": record.name, "best_step": best.step, "best_val_loss": best.val_loss,
               "final_val_loss": last.val_loss, "final_train_loss": last.train_loss,
               "train_loss_at_best": best.train_loss, "overfitting_alert_step": alerts[0].step if alerts else None,
               "best_checkpoint_step": kept if isinstance(kept, int) else None}
    shown = rose > ROSE_NATS and last.train_loss < best.train_loss
    if shown:
        return Verdict(NAME, True, "train kept falling while val rose: the model memorised its slice", lines,
                       numbers=numbers, open_page="Model and training", open_run=record.name)
    return Verdict(NAME, False, "val did not turn upward in this budget", lines, numbers=numbers,
                   try_next="a smaller slice (builtin:train-docs=20) or more steps makes memorising easier")


LESSON = Lesson(
    name=NAME,
    title="Overfitting",
    question="What happens when a model trains on the same small text again and again?",
    expect=("For the first epochs both losses fall: what the model learns carries over. Then the train loss "
            "keeps falling towards zero while val turns and rises: the model memorises its 40 documents "
            "instead of learning the language. The doctor raises its overfitting alert, and best.pt holds "
            "the weights from the turn. Learn: Model and training."),
    learn="Model and training",
    base=SMALL_TEXT | dict(data="builtin:train-docs=40", max_steps=600, eval_interval=25),
    arms=(Arm("slice", {}),),
    verdict=verdict,
    minutes=0.5,  # 31 s with its tokenizer built first, on a quiet 2-core machine (docs/lessons.md)
)
