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
    ended: bool = False
    failed: bool = False

    @property
    def state(self) -> str:
        if self.failed:
            return "failed"
        if self.ended:
            return "stopped" if self.stop.is_set() else "finished"
        if self.stop.is_set():
            return "stopping"
        if self.pause.is_set():
            return "paused"
        return "running" if self.run_name else "starting"

    def note(self, event: Event) -> None:
        """Keep what the header needs from the events (called on the UI thread)."""
        if isinstance(event, RunStarted):
            self.run_name, self.run_dir = event.run_name, event.run_dir
        elif isinstance(event, (RunFinished, RunFailed)):
            self.ended = True
            self.failed = isinstance(event, RunFailed)

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
