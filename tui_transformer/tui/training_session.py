"""The bridge between the dashboard and :func:`tui_transformer.train.run_training`.

The trainer is ordinary blocking code. The dashboard runs it in a *thread worker* and talks to
it through two ``threading.Event`` flags, checked by the trainer between optimizer steps:

* ``stop``: save a checkpoint, emit ``RunFinished(reason="stopped")`` and return;
* ``pause``: while set, the trainer waits between steps (still honouring ``stop``).

A thread cannot be killed from outside, so this cooperation is the only safe way to end a run:
it is also how quitting the app saves the run instead of losing it.

Events travel the other way: ``on_event`` is called on the worker thread, so it only hands the
event to ``post`` (a ``post_message``), never touching the UI.

A **sweep** is a session too: the worker runs the sweep's runs one after another through
:func:`tui_transformer.train.sweep.run_sweep` (the ``sweep`` command's own loop), with the same two
flags, so stop ends the current run with its checkpoint and then the sweep. Before each run it tells
``on_sweep_run`` which one comes next; :class:`~tui_transformer.tui.sweep_progress.SweepProgress`
keeps the queue the Train screen shows.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from tui_transformer.train.config import TrainConfig
from tui_transformer.train.events import Event, RunFailed, RunFinished, RunStarted
from tui_transformer.train.run_state import RunState, ended_state
from tui_transformer.train.sweep import Plan
from tui_transformer.tui.current_run import PAUSED, STOPPING
from tui_transformer.tui.sweep_progress import SweepProgress


@dataclass
class TrainingSession:
    """One run (or one sweep of runs) driven from the dashboard: its config, its control flags and what it told us."""

    config: TrainConfig  # a sweep's: its first run's
    resume: str | None = None  # a run name or directory to continue instead of starting fresh
    preset_reason: str = ""  # why this preset (shown in the run's log)
    stop: threading.Event = field(default_factory=threading.Event)
    pause: threading.Event = field(default_factory=threading.Event)
    run_name: str | None = None
    run_dir: str | None = None
    ending: RunState | None = None  # finished, stopped or failed, once the run has ended
    sweep: Plan | None = None  # train this sweep's runs instead of ``config`` alone
    progress: SweepProgress | None = None  # the sweep's queue (set with ``sweep``)

    def __post_init__(self) -> None:
        if self.sweep is not None and self.progress is None:
            self.progress = SweepProgress(self.sweep)

    @property
    def state(self) -> str:
        """A :class:`RunState` (starting, running, finished, stopped, failed), or what the learner
        asked of a running run: ``paused``, or ``stopping`` while the checkpoint is being saved."""
        if self.ending is not None:
            return self.ending
        if self.stop.is_set():
            return STOPPING
        if self.pause.is_set():
            return PAUSED
        return RunState.RUNNING if self.run_name else RunState.STARTING

    def note(self, event: Event) -> None:
        """Keep what the header needs from the events (called on the UI thread)."""
        if self.progress is not None:
            self.progress.note(event)
        if isinstance(event, RunStarted):
            self.run_name, self.run_dir = event.run_name, event.run_dir
            self.ending = None  # a sweep's next run: the one before it had ended
        elif isinstance(event, RunFinished):
            self.ending = ended_state(event, None)
        elif isinstance(event, RunFailed):
            self.ending = ended_state(None, event)

    def worker_ended(self, failed: bool) -> None:
        """The training worker returned (or raised, ``failed``): the run is over, with or without an ending event.

        A stop during setup (building the corpus, training the tokenizer) returns before any event.
        """
        if failed:
            self.ending = RunState.FAILED
        elif self.ending is None:
            self.ending = RunState.STOPPED if self.stop.is_set() else RunState.FINISHED
        if self.progress is not None:
            self.progress.worker_ended(failed)

    def run(self, post: Callable[[Event], None]) -> Any:
        """Train to the end (blocking: call it on a worker thread). Returns the trainer's summary."""
        from tui_transformer.train import run_training  # torch loads here, off the UI thread

        return run_training(self.config, on_event=post, stop=self.stop, pause=self.pause, resume=self.resume,
                            preset_reason=self.preset_reason)

    def run_sweep(self, post: Callable[[Event], None], on_sweep_run: Callable[..., None]) -> Any:
        """Train the sweep's runs to the end (blocking, like :meth:`run`). Returns the ranked rows.

        ``on_sweep_run(index, action, run_dir, best_val_bpb)`` is called before each run (``action``:
        start, resume or skip; ``best_val_bpb``: what a skipped or resumed run had reached before).
        """
        from tui_transformer.train.sweep import run_path, run_sweep

        assert self.sweep is not None, "a session made without a sweep trains with run()"
        sweep = self.sweep

        def starting(index: int, _total: int, _values: dict, action: str) -> None:
            path = run_path(sweep, index)
            on_sweep_run(index, action, str(path), _best_val_bpb(path) if action != "start" else None)

        return run_sweep(sweep, on_run_start=starting, on_event=post, stop=self.stop, pause=self.pause)


def _best_val_bpb(run_dir) -> float | None:
    """The best val bpb a run's ``metrics.jsonl`` records so far (read on the worker thread: it may be long)."""
    from tui_transformer.train.run_compare import metric_history, summary

    try:
        return summary(metric_history(run_dir))["best_val_bpb"]
    except OSError:  # stopped before its first event: nothing recorded yet
        return None
