"""Lesson ``positions``: four ways to tell a transformer where a token is, a minute each, then at twice the context.

Attention itself ignores order: without positions, "dog bites man" and "man bites dog" look alike.
The four encodings (:mod:`tui_transformer.model.positional`): a sinusoidal table and a learned table
added to the input, RoPE rotating queries and keys by position, ALiBi penalising attention by
distance. Each run trains for the same wall time at a context of 64 tokens.

The verdict then reads every model on windows of 128 tokens, its weights unchanged, and takes the
mean loss at each position (:func:`loss_by_position`). Positions 0-63 are the ones it trained at;
64-127 it has never seen. A model that carries over does no worse on the new positions than on the
last half of the old ones (those also have a long context behind them)::

    carry-over = mean(loss[64:128]) - mean(loss[32:64])          > 0: worse past the training length

A learned table has no rows past 64, so that model cannot be read there: the verdict says so. RoPE
and ALiBi only see distances between tokens, so they have a chance to carry over; a sinusoidal
table hands the model vectors it never met.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from tui_transformer.errors import UserError
from tui_transformer.lessons.lesson import Lesson
from tui_transformer.lessons.small_text import SMALL_TEXT
from tui_transformer.lessons.verdict import Chart, LessonRuns, Verdict, fmt, not_yet
from tui_transformer.train.metrics import METRICS_FILE
from tui_transformer.train.sweep import Arm

NAME = "positions"
ENCODINGS = ("sinusoidal", "learned", "rope", "alibi")
RELATIVE = ("rope", "alibi")
SECONDS = 60.0  # every run: the same minute of training
LONGER = 2  # the factor of the context the verdict reads the models at
BETTER_NATS = 0.05  # a relative encoding's carry-over below the sinusoidal one's by this much: not noise
TIE_NATS = 0.05  # val losses closer than this, at positions 0-63: a tie, not a ranking
WINDOWS = 512  # validation windows read at each position: fewer leave each position's mean noisy
BUCKET = 4  # the chart draws the mean of every 4 positions, which keeps the jump and drops the noise


def loss_by_position(run_dir: Path, seq_len: int) -> list[float] | None:
    """The run's mean validation loss at each position of windows of ``seq_len`` tokens, its weights
    unchanged: ``seq_len`` numbers. None for a learned table shorter than that (it has no rows for the
    later positions).

    The other encodings have no trained parameter sized by the context (their tables are computed),
    so the same weights load into a model built for the longer context. Remembered until the run's
    files change: the dashboard reads every verdict again each time the Lessons screen is shown.
    """
    metrics = Path(run_dir) / METRICS_FILE
    stamp = metrics.stat().st_mtime_ns if metrics.is_file() else None
    return _loss_by_position(str(run_dir), seq_len, stamp)


@lru_cache(maxsize=32)
def _loss_by_position(run_dir: str, seq_len: int, stamp: int | None) -> list[float] | None:
    import torch

    from tui_transformer.model import DecoderTransformer
    from tui_transformer.model.tools.loss import lm_loss
    from tui_transformer.train.checkpoint import load_for_inference
    from tui_transformer.train.validation import run_validation_batches

    model, tokenizer, config = load_for_inference(run_dir, "cpu")
    if config.model.pos_encoding == "learned" and seq_len > config.model.max_seq_len:
        return None
    longer = DecoderTransformer(replace(model.config, max_seq_len=seq_len)).eval()
    longer.load_state_dict(model.state_dict())
    windows_config = config.with_overrides(model_max_seq_len=seq_len, eval_batches=max(1, WINDOWS // config.batch_size))
    _, batches = run_validation_batches(windows_config, tokenizer, run_dir)
    total, windows = torch.zeros(seq_len, dtype=torch.float64), 0
    with torch.inference_mode():
        for x, y in batches:
            total += lm_loss(longer(x), y, reduction="none").view_as(y).sum(0).double()  # [T]: summed over windows
            windows += y.shape[0]
    return (total / windows).tolist()


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def read_run(record) -> dict:
    """One run's numbers: its loss where it trained, on the new positions, and its carry-over (module docstring);
    ``unreadable`` says why a run's weights could not be read (a damaged checkpoint), and its losses are None."""
    seq_len = int(record.config.get("model", {}).get("max_seq_len", 64))
    numbers = {"run": record.name, "context": seq_len, "steps": record.summary["steps"],
               "best_val_loss": record.summary["best_val_loss"], "loss_trained_positions": None,
               "loss_new_positions": None, "carry_over": None, "loss_by_position": None, "unreadable": None}
    try:
        curve = loss_by_position(record.path, LONGER * seq_len)
        numbers["loss_trained_positions"] = mean(loss_by_position(record.path, seq_len))
    except UserError as error:  # one damaged run must not hide what the others showed
        numbers["unreadable"] = str(error)
        return numbers
    numbers["loss_by_position"] = curve
    if curve is not None:
        numbers["loss_new_positions"] = mean(curve[seq_len:])
        numbers["carry_over"] = numbers["loss_new_positions"] - mean(curve[seq_len // 2:seq_len])
    return numbers


def describe(label: str, n: dict) -> str:
    if n["unreadable"]:
        return f"{label}: its weights could not be read: {n['unreadable']}"
    seen = f"{label}: {n['steps']:,} steps, val loss {fmt(n['loss_trained_positions'])} on windows of {n['context']}"
    if n["carry_over"] is None:
        return f"{seen}; windows of {LONGER * n['context']} cannot be read: a learned table has no rows past its context"
    return (f"{seen}; on windows of {LONGER * n['context']}, {fmt(n['loss_new_positions'])} at positions "
            f"{n['context']}-{LONGER * n['context'] - 1}, which it never trained at ({n['carry_over']:+.2f} against "
            f"positions {n['context'] // 2}-{n['context'] - 1} of the same windows)")


def ranking(numbers: dict[str, dict]) -> str:
    """Which encoding learned best in the same time, and which came so close that it is a tie."""
    (best, first), *others = numbers.items()
    close = [label for label, n in others if n["loss_trained_positions"] - first["loss_trained_positions"] < TIE_NATS]
    tie = f", with {' and '.join(close)} within {TIE_NATS} nats of it: a tie at this length" if close else ""
    return f"learned best in the same time: {best}{tie}"


def position_chart(numbers: dict[str, dict]) -> Chart:
    """Each model's loss by position on the longer windows, a point per ``BUCKET`` positions (their mean)."""
    series = {}
    for label, n in numbers.items():
        curve = n["loss_by_position"]
        if curve is not None:
            starts = range(0, len(curve), BUCKET)
            series[label] = ([start + BUCKET / 2 for start in starts],
                             [mean(curve[start:start + BUCKET]) for start in starts])
    context = next(iter(numbers.values()))["context"] if numbers else None
    return Chart(f"val loss by position, trained on the first {context}" if context else "val loss by position", series)


def verdict(runs: LessonRuns) -> Verdict:
    waiting = not_yet(NAME, runs)
    if waiting is not None:
        return waiting
    read = {record.label: read_run(record) for record in runs.records}
    numbers = dict(sorted(read.items(), key=lambda item: (item[1]["unreadable"] is not None,
                                                          item[1]["loss_trained_positions"] or 0.0)))
    lines = [describe(label, n) for label, n in numbers.items()]
    readable = {label: n for label, n in numbers.items() if not n["unreadable"]}
    if readable:
        lines.append(ranking(readable) + (" (of the runs that could be read)" if len(readable) < len(numbers) else ""))
    carry = {label: n["carry_over"] for label, n in numbers.items() if n["carry_over"] is not None}
    relative = {label: carry[label] for label in RELATIVE if label in carry}
    absolute = carry.get("sinusoidal")
    shown = bool(relative) and absolute is not None and min(relative.values()) < absolute - BETTER_NATS
    chart = position_chart(readable)
    if shown:
        carried = min(relative, key=relative.get)
        headline = (f"{carried} carried over to positions it never trained at ({relative[carried]:+.2f} nats); "
                    f"the sinusoidal table did not ({absolute:+.2f})")
        return Verdict(NAME, True, headline, lines, numbers=numbers, open_page="Positional encoding", charts=[chart])
    return Verdict(NAME, False, "no relative encoding carried over to twice the context better than the sinusoidal "
                                "table here", lines, numbers=numbers, charts=[chart],
                   try_next="a longer run (the lesson's max_time) lets each encoding settle before it is compared")


LESSON = Lesson(
    name=NAME,
    title="Positional encodings",
    question="Which way of encoding positions learns best, and which still works beyond the context it trained on?",
    expect=("Each run trains for one minute at a context of 64 tokens. ALiBi, RoPE and the learned table end "
            "close together; the sinusoidal table lags far behind: it is added at full size (values from -1 to 1) "
            "to token embeddings that start fifty times smaller, and drowns them (the original transformer scaled "
            "its embeddings up by the square root of d_model for this reason). Then each model reads 128 tokens. "
            "Past position 64 the sinusoidal model meets vectors it never saw and its loss jumps; the learned "
            "table has no rows there at all; ALiBi, which only sees distances, does as well as before, and RoPE "
            "nearly so. Learn: Positional encoding."),
    learn="Positional encoding",
    base=SMALL_TEXT | dict(max_steps=None, max_time=SECONDS),
    arms=tuple(Arm(encoding, {"model_pos_encoding": encoding}) for encoding in ENCODINGS),
    verdict=verdict,
    minutes=4,  # 4 runs of 60 s, then reading each at 64 and 128 tokens: 249 s (docs/lessons.md)
)
