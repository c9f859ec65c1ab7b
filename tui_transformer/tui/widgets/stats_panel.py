"""The numbers beside the curves: where the run is, how fast it goes and whether it generalises.

The overfitting *verdict* comes from the trainer's evaluation (val loss read against train loss,
see ``tui_transformer.train.evaluate``); the panel only shows it, coloured by how worrying it is.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tui_transformer.train.run_state import RunState, ended_state
from tui_transformer.tui.current_run import PAUSED, CurrentRun
from tui_transformer.tui.run_history import RunHistory
from tui_transformer.tui.widgets.line_chart import format_number

ETA_AFTER_S = 10.0  # seconds of training before the ETA is shown

_STATE_STYLES = {RunState.FAILED: "bold red", RunState.FINISHED: "green", RunState.STOPPED: "green"}
_VERDICT_STYLES = {"overfit": "bold red", "gap": "yellow", "learning": "green", "normal": "green", "no verdict": "dim"}


def format_duration(seconds: float | None) -> str:
    """``h:mm:ss`` (or ``m:ss`` under an hour); ``?`` when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def verdict_style(verdict: str) -> str:
    lowered = verdict.lower()
    return next((style for key, style in _VERDICT_STYLES.items() if key in lowered), "")


def stats_text(history: RunHistory, run: CurrentRun | None = None) -> Text:
    """Three short lines: progress, generalisation, and the run itself.

    ``run``: the current run, whose name and state the third line shows (its folder's name, which a
    rename changes, and what the learner asked of it, such as ``paused``); else the events' own.
    """
    run = run if run is not None and run.path is not None else None
    state = run.state if run is not None else history.state
    text = Text()
    step = history.last_step
    if step is None and history.preparing is not None:
        text.append("step –  ", style="dim").append(history.preparing)
    elif step is None:
        text.append("step –  (press s to start training, o to open a run)", style="dim")
    else:
        total = f"/{step.max_steps:,}" if step.max_steps else ""
        text.append("step ", style="dim").append(f"{step.step:,}{total}", style="bold")
        text.append("  epoch ", style="dim").append(str(step.epoch))
        text.append("  tokens ", style="dim").append(format_number(step.tokens_seen))
        text.append("  tok/s ", style="dim").append(format_number(step.tokens_per_sec))
        if state == PAUSED:  # the clock is held: an ETA would count down while nothing trains
            text.append("  ETA ", style="dim").append("paused", style="bold yellow")
        elif state == RunState.RUNNING and ended_state(history.finished, history.failed) is None:
            # (an ended or interrupted run has nothing left to wait for.) The first steps are slow
            # (allocation, caches warming up): an ETA from them misleads (1:35:31)
            eta = format_duration(step.eta_s) if step.elapsed_s >= ETA_AFTER_S else "measuring…"
            text.append("  ETA ", style="dim").append(eta)
        text.append("  grad ", style="dim").append(f"{step.grad_norm:.3g}")
    text.append("\n")
    evaluation = history.last_eval
    if evaluation is None:
        text.append("val   –", style="dim")
    else:
        text.append("val ", style="dim").append(f"{evaluation.val_loss:.4f}", style="bold")
        text.append(f" (train {evaluation.train_loss:.4f})", style="dim")
        # bits per byte: the one number that compares runs whose tokenizers differ (None in older runs)
        if evaluation.val_bpb is not None:
            text.append("  bpb ", style="dim").append(f"{evaluation.val_bpb:.3f}", style="bold")
        text.append("  ")
        text.append(evaluation.verdict, style=verdict_style(evaluation.verdict))
    checkpoint = history.last_checkpoint
    if checkpoint is not None:
        text.append("  ckpt ", style="dim").append(f"{checkpoint.kind} @ {checkpoint.step:,}")
    text.append("\n")
    started = history.started
    if started is not None:
        text.append("run ", style="dim").append(run.name if run is not None else started.run_name, style="bold")
        text.append("  ")
        text.append(state, style=_STATE_STYLES.get(state, "bold"))  # before what a narrow row cuts
        text.append(f"  {started.preset} · {format_number(started.n_params)} params · {started.device}", style="dim")
    return text


class StatsPanel(Static):
    """Shows :func:`stats_text` of a history; the screen calls :meth:`show` on each redraw tick."""

    # One row per line, cut at the edge (the least telling numbers come last): a wrapped first line
    # pushed the run's name and state out of the three rows at 80 columns.
    DEFAULT_CSS = "StatsPanel { height: 3; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }"

    def show(self, history: RunHistory, run: CurrentRun | None = None) -> None:
        self.update(stats_text(history, run), layout=False)  # always 3 lines: no layout pass per step
