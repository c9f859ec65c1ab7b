"""The bridge between the dashboard and :func:`tui_transformer.train.run_training`.

The trainer is ordinary blocking code. The dashboard runs it in a *thread worker* and talks to
it through two ``threading.Event`` flags, checked by the trainer between optimizer steps:

* ``stop``: save a checkpoint, emit ``RunFinished(reason="stopped")`` and return;
* ``pause``: while set, the trainer waits between steps (still honouring ``stop``).

A thread cannot be killed from outside, so this cooperation is the only safe way to end a run:
it is also how quitting the app saves the run instead of losing it.

Events travel the other way: ``on_event`` is called on the worker thread, so it only hands the
event to ``post`` (a ``post_message``), never touching the UI.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from tui_transformer.train.config import TrainConfig
from tui_transformer.train.events import Event, RunFailed, RunFinished, RunStarted
from tui_transformer.train.run_state import RunState, ended_state

# What the learner asked of a running run, shown in the header until the trainer answers.
PAUSED, STOPPING = "paused", "stopping"


@dataclass
class TrainingSession:
    """One run driven from the dashboard: its config, its control flags and what it told us."""

    config: TrainConfig
    resume: str | None = None  # a run name or directory to continue instead of starting fresh
    preset_reason: str = ""  # why this preset (shown in the run's log)
    stop: threading.Event = field(default_factory=threading.Event)
    pause: threading.Event = field(default_factory=threading.Event)
    run_name: str | None = None
    run_dir: str | None = None
    ending: RunState | None = None  # finished, stopped or failed, once the run has ended

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
        if isinstance(event, RunStarted):
            self.run_name, self.run_dir = event.run_name, event.run_dir
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

    def toggle_pause(self) -> bool:
        """Pause or resume; returns whether the run is now paused."""
        if self.pause.is_set():
            self.pause.clear()
        else:
            self.pause.set()
        return self.pause.is_set()

    def run(self, post: Callable[[Event], None]) -> Any:
        """Train to the end (blocking: call it on a worker thread). Returns the trainer's summary."""
        from tui_transformer.train import run_training  # torch loads here, off the UI thread

        return run_training(self.config, on_event=post, stop=self.stop, pause=self.pause, resume=self.resume,
                            preset_reason=self.preset_reason)
