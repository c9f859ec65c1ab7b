"""Comparing runs: what differs between their configs, how they ended, and their whole history.

A learner changes one thing, trains again and compares. Three questions, three functions:

* :func:`config_diff`: which settings differ? Configs are flattened to ``field`` and
  ``model.field`` keys, and only the keys whose values are not all equal are kept;
* :func:`metric_history`: every logged step as one row (``step, tokens_seen, elapsed_s, loss, lr,
  grad_norm, tokens_per_sec``), with the eval columns (``val_loss, val_ppl, val_bpb``) filled on the
  rows where an eval happened. A resumed run's steps after the resume replace those logged before it
  (a run killed after step 120 and resumed from its checkpoint at step 100 logs 101..120 twice);
* :func:`summary`: the best and the final values of a run, from that history.

Bits per byte is the fair metric across runs whose tokenizers differ (see :mod:`tui_transformer.model.tools.perplexity`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from tui_transformer.train.config import TrainConfig
from tui_transformer.train.events import EvalResult, Event, RunStarted, StepMetrics
from tui_transformer.train.metrics import METRICS_FILE, read_events

STEP_COLUMNS = ("step", "tokens_seen", "elapsed_s", "loss", "lr", "grad_norm", "tokens_per_sec")
EVAL_COLUMNS = ("val_loss", "val_ppl", "val_bpb")
COLUMNS = STEP_COLUMNS + EVAL_COLUMNS


def flat_config(config: TrainConfig) -> dict[str, Any]:
    """``{"lr": 0.001, ..., "model.d_model": 128, ...}``."""
    values = config.to_dict()
    model = values.pop("model")
    return values | {f"model.{key}": value for key, value in model.items()}


# Settings that differ between any two runs by construction: the run's own name (it heads each
# run's column already) says nothing about why two runs behaved differently.
NOT_COMPARED = ("run_name",)


def config_diff(configs: dict[str, TrainConfig]) -> dict[str, dict[str, Any]]:
    """``{key: {run: value}}`` for the keys whose values differ between the runs, in field order."""
    flat = {name: flat_config(config) for name, config in configs.items()}
    keys = [key for key in dict.fromkeys(key for values in flat.values() for key in values) if key not in NOT_COMPARED]
    return {key: {name: values.get(key) for name, values in flat.items()}
            for key in keys if len({repr(values.get(key)) for values in flat.values()}) > 1}


class HistoryFold:
    """A run's history built one event at a time: :func:`metric_history` over a whole file, or a
    live tail (the Runs screen folds in what a running run appends). ``version`` counts the changes."""

    def __init__(self) -> None:
        self._rows: dict[int, dict[str, Any]] = {}
        self._sorted: list[dict[str, Any]] | None = []
        self.version = 0

    def absorb(self, event: Event) -> None:
        rows = self._rows
        if isinstance(event, RunStarted):  # a resume: what the earlier session logged past this step is redone
            self._rows = {step: row for step, row in rows.items() if step <= event.resumed_from_step}
        elif isinstance(event, StepMetrics):
            rows[event.step] = {column: getattr(event, column) for column in STEP_COLUMNS} | dict.fromkeys(EVAL_COLUMNS)
        elif isinstance(event, EvalResult):
            row = rows.setdefault(event.step, dict.fromkeys(COLUMNS) | {"step": event.step})
            row.update(val_loss=event.val_loss, val_ppl=event.val_ppl, val_bpb=event.val_bpb)
        else:
            return
        self._sorted = None
        self.version += 1

    def rows(self) -> list[dict[str, Any]]:
        """The rows in step order (sorted once per change)."""
        if self._sorted is None:
            self._sorted = [self._rows[step] for step in sorted(self._rows)]
        return self._sorted


def metric_history(run_dir: Path) -> list[dict[str, Any]]:
    """One row per logged step, eval columns filled where an eval happened (see the module docstring)."""
    fold = HistoryFold()
    for event in read_events(Path(run_dir) / METRICS_FILE):
        fold.absorb(event)
    return fold.rows()


def summary(history: list[dict[str, Any]]) -> dict[str, Any]:
    """Steps, tokens and time at the end; the best and the final val loss and bpb; the final train loss."""
    def finite(column: str) -> list[float]:
        return [row[column] for row in history if row[column] is not None and math.isfinite(row[column])]

    last = history[-1] if history else {}
    result: dict[str, Any] = {"steps": last.get("step", 0), "tokens_seen": last.get("tokens_seen"),
                              "elapsed_s": last.get("elapsed_s"), "final_train_loss": last.get("loss")}
    for column in ("val_loss", "val_bpb"):
        values = finite(column)
        result[f"best_{column}"] = min(values) if values else None
        result[f"final_{column}"] = values[-1] if values else None
    return result
