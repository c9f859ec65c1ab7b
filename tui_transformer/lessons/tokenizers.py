"""Lesson ``tokenizers``: byte-level against BPEs of growing size, compared in bits per byte.

The loss is in nats **per token**, and tokens differ: a byte-level tokenizer's token is one byte, a
BPE-4096 token is about four. A model predicting bytes has an easier job per token and more tokens
to predict, so its loss per token is lower for the same text: losses do not compare across
tokenizers. Bits per byte do: the summed loss over the text, in bits, divided by its UTF-8 bytes
(:mod:`tui_transformer.model.tools.perplexity`). Every run gets the same steps and tokens; a BPE
token carries more text, so the BPE runs read more of the corpus.
"""

from __future__ import annotations

import math

from tui_transformer.lessons.lesson import Lesson
from tui_transformer.lessons.small_text import SMALL_TEXT, ranked_by
from tui_transformer.lessons.verdict import LessonRuns, RunRecord, Verdict, fmt, not_yet
from tui_transformer.train.sweep import Arm

NAME = "tokenizers"
TOKENIZERS = ("bpe-257", "bpe-1024", "bpe-4096")  # bpe-257: the 256 bytes and end-of-text, no merges


def bytes_per_token(record: RunRecord) -> float:
    """How much text a token of this run holds, on average over the val text: the same eval's loss in bits a
    token over its bits a byte (``loss / ln 2`` bits a token, ``bpb`` bits a byte)."""
    return record.summary["best_val_loss"] / math.log(2) / record.summary["best_val_bpb"]


def verdict(runs: LessonRuns) -> Verdict:
    waiting = not_yet(NAME, runs)
    if waiting is not None:
        return waiting
    by_bpb = ranked_by(runs.records, "best_val_bpb")
    by_loss = ranked_by(runs.records, "best_val_loss")
    lines = [f"{r.label}: best val loss {fmt(r.summary['best_val_loss'], 3)} nats a token, "
             f"{fmt(r.summary['best_val_bpb'], 3)} bits a byte; a token is {fmt(bytes_per_token(r), 1)} bytes"
             for r in by_bpb]
    numbers = {r.label: {"run": r.name, "best_val_loss": r.summary["best_val_loss"],
                         "best_val_bpb": r.summary["best_val_bpb"], "bytes_per_token": bytes_per_token(r)}
               for r in by_bpb}
    if not by_bpb:
        return Verdict(NAME, False, "no run logged bits per byte", lines, numbers=numbers)
    order_differs = [r.label for r in by_loss] != [r.label for r in by_bpb]
    lines.append(f"by loss the order is {', '.join(r.label for r in by_loss)}; by bits per byte "
                 f"{', '.join(r.label for r in by_bpb)}")
    headline = (f"{by_bpb[0].label} predicts the text best (bits per byte); the loss per token "
                + ("ranks them differently, because a token is a different amount of text in each"
                   if order_differs else "happens to agree here, but only bits per byte is a fair comparison"))
    return Verdict(NAME, True, headline, lines, numbers=numbers, open_page="Tokenization")


LESSON = Lesson(
    name=NAME,
    title="Tokenizers",
    question="Which tokenizer lets a small model predict text best, and why compare in bits per byte?",
    expect=("The byte-level run has the lowest loss per token, and still predicts the text worst: each of its "
            "tokens is one byte, the easiest unit to guess, and its context of 64 tokens holds only 64 bytes. "
            "In bits per byte, the loss over the same bytes, the BPE runs come out ahead: their tokens carry "
            "whole words, so the context sees further. Learn: Tokenization."),
    learn="Tokenization",
    base=SMALL_TEXT,
    arms=tuple(Arm(name, {"tokenizer": name}) for name in TOKENIZERS),
    verdict=verdict,
    minutes=1,  # 3 runs and their tokenizers built: 60 s on a quiet 2-core machine (docs/lessons.md)
)
