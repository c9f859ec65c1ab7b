"""Where a sweep started from the dashboard stands: each run waiting, running or done, and its best val bpb.

The sweep itself runs in the training worker (:func:`tui_transformer.train.sweep.run_sweep`, the same
loop as the ``sweep`` command). This is only what the queue on the Train screen shows, folded on the
UI thread from two things the worker sends:

* before each run, the sweep's own notice (``run_starting``): which run comes next and whether it
  starts, resumes from its checkpoint, or is skipped because it finished earlier (its best val bpb
  is then read from its ``metrics.jsonl``, off the UI thread);
* then that run's ordinary trainer events (``note``): its evaluations keep its best val bpb, its
  ``RunFinished`` or ``RunFailed`` says how it ended.

``version`` grows with every change, so the widget redraws only when something changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui_transformer.train.events import EvalResult, Event, RunFailed, RunFinished, StepMetrics
from tui_transformer.train.run_state import RunState, ended_state
from tui_transformer.train.sweep import Plan

WAITING = "waiting"  # not reached yet: the only state that is not a RunState


@dataclass
class QueuedRun:
    """One run of the sweep, as the queue shows it."""

    name: str  # <sweep>-<i> (<sweep>-<label> for arms), its folder in the runs folder
    values: tuple[str, ...]  # its varied values, in the order of SweepProgress.fields: ("0.001", "rope")
    state: str = WAITING  # waiting, or a RunState: running, finished, stopped, failed
    best_val_bpb: float | None = None
    step: int = 0  # its last step while it trains (the Lessons screen shows it; ``version`` ignores it)


class SweepProgress:
    """The queue of one sweep: its runs in grid order, and which one is training now."""

    def __init__(self, sweep: Plan) -> None:
        self.name = sweep.name
        if sweep.labels:  # explicit arms (a lesson's): each changes its own settings, and its label names them
            self.fields: tuple[str, ...] = ("arm",)
            values = [(label,) for label in sweep.labels]
        else:
            self.fields = tuple(key.removeprefix("model_") for key in sweep.grid[0])  # what the sweep varies
            values = [tuple(str(value) for value in run.values()) for run in sweep.grid]
        self.runs = [QueuedRun(sweep.run_name(index), values[index]) for index in range(len(sweep.grid))]
        self.current: int | None = None  # the index of the run training now, or last
        self.version = 0

    def run_starting(self, index: int, action: str, best_val_bpb: float | None = None) -> None:
        """The sweep moves on to run ``index``: ``action`` is "start", "resume" or "skip" (already finished)."""
        run = self.runs[index]
        if action == "skip":
            run.state, run.best_val_bpb = RunState.FINISHED, best_val_bpb
        else:
            run.state, self.current = RunState.RUNNING, index
            run.best_val_bpb = best_val_bpb  # a resumed run keeps the best of its earlier evaluations
        self.version += 1

    def note(self, event: Event) -> None:
        """One trainer event of the current run."""
        if self.current is None:
            return
        run = self.runs[self.current]
        if isinstance(event, StepMetrics):
            run.step = event.step  # every step: a new version would redraw the queue for nothing it shows
            return
        if isinstance(event, EvalResult) and event.val_bpb is not None:
            run.best_val_bpb = event.val_bpb if run.best_val_bpb is None else min(run.best_val_bpb, event.val_bpb)
        elif isinstance(event, RunFinished):
            run.state = ended_state(event, None)
        elif isinstance(event, RunFailed):
            run.state = RunState.FAILED
        else:
            return
        self.version += 1

    def worker_ended(self, failed: bool) -> None:
        """The worker returned: a run still marked running ended without its ending event (a stop during setup)."""
        if self.current is not None and self.runs[self.current].state == RunState.RUNNING:
            self.runs[self.current].state = RunState.FAILED if failed else RunState.STOPPED
            self.version += 1

    @property
    def done(self) -> int:
        """How many runs have finished (skipped ones included)."""
        return sum(run.state == RunState.FINISHED for run in self.runs)
