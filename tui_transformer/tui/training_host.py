"""What the Train screen may ask of the app: the small, typed interface between the two.

The training worker belongs to the app, not to the Train screen, so that a run survives switching
modes, and quitting can stop it cleanly. The two talk one way each:

* the **screen asks the app**, through this interface only (start a run, stop it, redraw the
  header, which run it follows);
* the **app tells the screen**, with messages only (:mod:`tui_transformer.tui.messages`): the
  run's events, the end of the worker, the probed device, and what to do on start or from the
  command palette. The app never reaches into the screen's widgets or its history.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tui_transformer.train.config import TrainConfig
    from tui_transformer.train.sweep import Plan
    from tui_transformer.tui.training_session import TrainingSession


class TrainingHost(Protocol):
    """The app, as the Train screen sees it."""

    training: TrainingSession | None  # the run started here last (it may have ended)
    probed_device: str | None  # what "auto" resolves to, once the app has imported torch
    following: Path | None  # the directory of the run the screen follows (attached); the header shows its name
    following_state: str  # that run's state as its events tell it (running, finished, stopped...)

    @property
    def training_active(self) -> bool:
        """Whether the training worker is running (a run is being trained or set up)."""
        ...

    def start_training(self, config: TrainConfig, resume: str | None = None,
                       preset_reason: str = "") -> TrainingSession:
        """Train ``config`` in the training worker (continuing the run ``resume`` if given)."""
        ...

    def start_sweep(self, sweep: Plan) -> TrainingSession:
        """Train the sweep's runs one after another in the training worker (finished ones are skipped)."""
        ...

    def stop_training(self) -> None:
        """Ask the run to stop: the trainer saves a checkpoint, then the worker ends."""
        ...

    def refresh_header(self) -> None:
        """Redraw the header's line: the device, the run and its state."""
        ...
