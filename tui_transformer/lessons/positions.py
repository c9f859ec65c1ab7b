"""Lesson ``positions``: four ways to tell a transformer where a token is, at equal budget, then at twice the context.

Attention itself ignores order: without positions, "dog bites man" and "man bites dog" look alike.
The four encodings (:mod:`tui_transformer.model.positional`): a sinusoidal table and a learned table
added to the input, RoPE rotating queries and keys by position, ALiBi penalising attention by
distance. Each run trains at a context of 64 tokens; the verdict then scores each model at 128
(:func:`loss_at_context`). A learned table has no rows past 64, so that run cannot be scored there:
the verdict says so. RoPE and ALiBi only see relative distances, so they have a chance to carry over.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tui_transformer.lessons.lesson import Lesson
from tui_transformer.lessons.small_text import SMALL_TEXT, ranked_by
from tui_transformer.lessons.verdict import LessonRuns, Verdict, fmt, not_yet
from tui_transformer.train.sweep import Arm

NAME = "positions"
ENCODINGS = ("sinusoidal", "learned", "rope", "alibi")
LONGER = 2  # the factor of the context the verdict scores at


def loss_at_context(run_dir: Path, seq_len: int) -> float | None:
    """The run's validation loss with windows of ``seq_len`` tokens, its weights unchanged; None for a
    learned table shorter than that (it has no rows for the later positions).

    The other encodings have no trained parameter sized by the context (their tables are computed),
    so the same weights load into a model built for the longer context.
    """
    from tui_transformer.model import DecoderTransformer
    from tui_transformer.model.tools.perplexity import evaluate
    from tui_transformer.train.checkpoint import load_for_inference
    from tui_transformer.train.validation import run_validation_batches

    model, tokenizer, config = load_for_inference(run_dir, "cpu")
    if config.model.pos_encoding == "learned" and seq_len > config.model.max_seq_len:
        return None
    longer = DecoderTransformer(replace(model.config, max_seq_len=seq_len))
    longer.load_state_dict(model.state_dict())
    _, batches = run_validation_batches(config.with_overrides(model_max_seq_len=seq_len), tokenizer, run_dir)
    return evaluate(longer.eval(), batches).loss


def verdict(runs: LessonRuns) -> Verdict:
    waiting = not_yet(NAME, runs)
    if waiting is not None:
        return waiting
    lines, numbers = [], {}
    for record in ranked_by(runs.records):
        seq_len = int(record.config.get("model", {}).get("max_seq_len", 64))
        at_t, at_2t = loss_at_context(record.path, seq_len), loss_at_context(record.path, LONGER * seq_len)
        numbers[record.label] = {"run": record.name, "best_val_loss": record.summary["best_val_loss"],
                                 "loss_at_context": at_t, "loss_at_longer_context": at_2t}
        longer = ("cannot be scored: a learned table has no rows past its training context" if at_2t is None
                  else f"{fmt(at_2t)} at {LONGER * seq_len} tokens ({at_2t - at_t:+.2f})")
        lines.append(f"{record.label}: val loss {fmt(at_t)} at {seq_len} tokens; {longer}")
    growth = {label: n["loss_at_longer_context"] - n["loss_at_context"] for label, n in numbers.items()
              if n["loss_at_longer_context"] is not None}
    relative = [growth[label] for label in ("rope", "alibi") if label in growth]
    shown = bool(relative) and "sinusoidal" in growth and min(relative) < growth["sinusoidal"]
    headline = ("a relative encoding carried over to twice the context better than the sinusoidal table" if shown
                else "no encoding carried over to twice the context better than the sinusoidal table here")
    return Verdict(NAME, shown, headline, lines, numbers=numbers,
                   try_next="" if shown else "train longer (a larger --max-steps in the lesson's runs) so each "
                                             "encoding has settled, then compare again")


LESSON = Lesson(
    name=NAME,
    title="Positional encodings",
    question="Which way of encoding positions learns best, and which still works beyond the context it trained on?",
    expect=("At 64 tokens all four learn; RoPE usually a little faster (nothing is added to the input, so the "
            "tokens' own embeddings are not drowned out). At 128 tokens the absolute encodings meet positions "
            "they never saw: the sinusoidal table's loss rises, the learned table has no rows at all, while "
            "RoPE and ALiBi, which only see distances, degrade less. Learn: Positional encoding."),
    learn="Positional encoding",
    base=SMALL_TEXT,
    arms=tuple(Arm(encoding, {"model_pos_encoding": encoding}) for encoding in ENCODINGS),
    verdict=verdict,
)
