"""A run's events folded into what the Train screen draws.

The trainer emits a stream of small events (see :mod:`tui_transformer.train.events`). The screen
does not redraw per event: at a few thousand steps a second on a tiny model that would flood the
terminal. Instead every event is *absorbed* here, which is cheap (append a float, replace a
reference), and a timer on the screen redraws from this state about ten times a second.

The same class serves a live run (events arrive as messages from the worker thread) and an
attached run (events are parsed from ``metrics.jsonl``), so both views look identical.

Series are kept as parallel lists of x (the optimizer step) and y values. They are capped at
``max_points`` by dropping every other point when full, which keeps the whole curve's shape at a
bounded memory cost (a 1e6-step run stays a few thousand points).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from tui_transformer.train.events import (
    Alert,
    CheckpointSaved,
    Event,
    EvalResult,
    LogMessage,
    SetupProgress,
    RunFailed,
    RunFinished,
    RunStarted,
    Sample,
    ShardStatus,
    StepMetrics,
    SystemSample,
)
from tui_transformer.train.run_state import RunState, ended_state

IDLE = "idle"  # no run yet: the state of an empty history, not of a run


@dataclass
class Series:
    """One curve: ``xs`` are optimizer steps, ``ys`` the values, both capped at ``max_points``."""

    name: str
    max_points: int = 4000
    xs: list[float] = field(default_factory=list)
    ys: list[float] = field(default_factory=list)

    def append(self, x: float, y: float) -> None:
        if not math.isfinite(y):
            return  # a NaN loss is reported in the log; it cannot be drawn
        self.xs.append(x)
        self.ys.append(y)
        if len(self.xs) > self.max_points:
            # Halve the resolution but keep the newest point, so the curve still ends "now".
            last_x, last_y = self.xs[-1], self.ys[-1]
            self.xs, self.ys = self.xs[::2], self.ys[::2]
            if self.xs[-1] != last_x:
                self.xs.append(last_x)
                self.ys.append(last_y)

    def truncate_from(self, x: float) -> None:
        """Drop the points at ``x`` and after: a resumed run redoes those steps."""
        keep = sum(1 for value in self.xs if value < x)
        del self.xs[keep:], self.ys[keep:]

    def __len__(self) -> int:
        return len(self.xs)


@dataclass(frozen=True)
class LogLine:
    level: str
    message: str
    time: float


class RunHistory:
    """Everything the Train screen shows about one run, updated one event at a time.

    ``version`` increases on every absorbed event, so a redraw timer can tell whether anything
    changed since it last drew.
    """

    def __init__(self, max_samples: int = 50, max_log: int = 500) -> None:
        self.train_loss = Series("train")
        self.val_loss = Series("val")
        self.ppl = Series("ppl")
        self.val_ppl = Series("val ppl")
        self.lr = Series("lr")
        self.tokens_per_sec = Series("tok/s")
        self.val_bpb = Series("val bpb")
        # the trainer's induction probe, per eval (in nats; the best head's prefix-matching score, 0..1)
        self.in_context = Series("in-context (nats)")
        self.induction = Series("best head")
        self.started: RunStarted | None = None
        self.last_step: StepMetrics | None = None
        self.last_eval: EvalResult | None = None
        self.last_checkpoint: CheckpointSaved | None = None
        self.shards: ShardStatus | None = None
        self.finished: RunFinished | None = None
        self.failed: RunFailed | None = None
        self.alerts: list[Alert] = []  # the training doctor's, oldest first
        self.system: SystemSample | None = None  # the newest: the panel shows the machine now, not a curve
        self.samples: deque[Sample] = deque(maxlen=max_samples)  # newest first (appendleft)
        self.log: deque[LogLine] = deque(maxlen=max_log)
        self.preparing: str | None = None  # what a run being set up is doing, until its first step
        self.version = 0
        self.log_count = 0  # lines ever logged; the log pane writes only the ones it has not seen

    @property
    def state(self) -> str:
        """What the event stream alone can tell: a :class:`RunState` (running, finished, stopped,
        failed), or ``idle`` before any run started."""
        ended = ended_state(self.finished, self.failed)
        if ended is not None:
            return ended
        return RunState.RUNNING if self.started is not None else IDLE

    def all_series(self) -> tuple[Series, ...]:
        return (self.train_loss, self.val_loss, self.ppl, self.val_ppl, self.lr, self.tokens_per_sec, self.val_bpb,
                self.in_context, self.induction)

    def note(self, level: str, message: str, time: float) -> None:
        """A line for the log pane from the UI itself (not from the trainer)."""
        self._log(level, message, time)
        self.version += 1

    def preparing_run(self, message: str, time: float) -> None:
        """A run is being set up here (building the corpus, training the tokenizer): say so until its first step."""
        self.preparing = message
        self.note("info", message, time)

    def absorb(self, event: Event) -> None:
        """Fold one event in. Unknown event types are ignored so newer trainers stay readable."""
        handler = self._HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)
            self.version += 1

    def _on_started(self, event: RunStarted) -> None:
        if self.started is not None and event.resumed_from_step == 0:
            return  # a second fresh start in one stream cannot happen; keep the first
        self.started = event
        self.finished = self.failed = None
        if event.resumed_from_step:
            for series in self.all_series():
                series.truncate_from(event.resumed_from_step + 1)
            self.alerts = [alert for alert in self.alerts if alert.step <= event.resumed_from_step]  # redone too
        what = f"resumed at step {event.resumed_from_step}" if event.resumed_from_step else "started"
        self._log("info", f"run {event.run_name} {what} on {event.device} ({event.n_params:,} parameters)", event.time)
        self._log("info", f"preset {event.preset}: {event.preset_reason}", event.time)
        if event.data_notice:
            self._log("info", event.data_notice, event.time)
        if self.preparing is not None:
            self.preparing = "model built: waiting for step 1…"

    def _on_step(self, event: StepMetrics) -> None:
        self.last_step = event
        self.preparing = None
        self.train_loss.append(event.step, event.loss)
        self.ppl.append(event.step, event.ppl)
        self.lr.append(event.step, event.lr)
        self.tokens_per_sec.append(event.step, event.tokens_per_sec)

    def _on_eval(self, event: EvalResult) -> None:
        self.last_eval = event
        self.val_loss.append(event.step, event.val_loss)
        self.val_ppl.append(event.step, event.val_ppl)
        # None in runs logged before bpb or the probe existed (and the probe is skipped on a tiny context)
        for series, value in ((self.val_bpb, event.val_bpb), (self.in_context, event.in_context_learning),
                              (self.induction, event.induction_score)):
            if value is not None:
                series.append(event.step, value)
        self._log("info", f"step {event.step}: val loss {event.val_loss:.4f} (train {event.train_loss:.4f}): "
                          f"{event.verdict}", event.time)

    def _on_sample(self, event: Sample) -> None:
        self.samples.appendleft(event)

    def _on_shards(self, event: ShardStatus) -> None:
        self.shards = event

    def _on_checkpoint(self, event: CheckpointSaved) -> None:
        self.last_checkpoint = event
        self._log("info", f"step {event.step}: saved {event.kind} checkpoint {event.path}", event.time)

    def _on_alert(self, event: Alert) -> None:
        self.alerts.append(event)
        self._log("warning", f"step {event.step}: {event.message} (Learn: {event.learn})", event.time)

    def _on_system(self, event: SystemSample) -> None:
        self.system = event

    def _on_log(self, event: LogMessage) -> None:
        self._log(event.level, event.message, event.time)
        if self.preparing is not None and self.started is None:
            self.preparing = event.message  # the trainer's setup, one stage at a time

    def _on_setup_progress(self, event: SetupProgress) -> None:
        """The setup's slow steps, with counts, on the step line until the run starts; each end is logged."""
        if self.started is not None:
            return
        self.preparing = f"{event.stage}: {event.done:,}/{event.total:,} {event.unit}"
        if event.done == event.total:
            self._log("info", f"{event.stage}: done ({event.total:,} {event.unit})", event.time)

    def _on_finished(self, event: RunFinished) -> None:
        self.finished = event
        self.preparing = None
        val = f", final val loss {event.final_val_loss:.4f}" if event.final_val_loss is not None else ""
        # the run state's word (stopped or finished, as the header and `runs list` say), then which budget
        state = ended_state(event, None)
        why = f" ({event.reason})" if state == RunState.FINISHED else ""
        self._log("info", f"{state} at step {event.step}{why}{val}", event.time)

    def _on_failed(self, event: RunFailed) -> None:
        self.failed = event
        self.preparing = None
        self._log("error", f"failed at step {event.step}: {event.reason}", event.time)

    def _log(self, level: str, message: str, time: float) -> None:
        self.log.append(LogLine(level, message, time))
        self.log_count += 1

    def log_since(self, count: int) -> list[LogLine]:
        """The log lines after the first ``count`` ever logged (those still kept)."""
        new = min(self.log_count - count, len(self.log))
        return list(self.log)[len(self.log) - new:] if new > 0 else []

    _HANDLERS: dict[type, Any] = {
        RunStarted: _on_started,
        StepMetrics: _on_step,
        EvalResult: _on_eval,
        Sample: _on_sample,
        ShardStatus: _on_shards,
        CheckpointSaved: _on_checkpoint,
        Alert: _on_alert,
        SystemSample: _on_system,
        LogMessage: _on_log,
        SetupProgress: _on_setup_progress,
        RunFinished: _on_finished,
        RunFailed: _on_failed,
    }
