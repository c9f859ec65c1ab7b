"""What a screen may ask of the app: the one small, typed interface between them.

The app owns what outlives a screen: the training worker (a run survives switching modes, and
quitting can stop it cleanly) and the current run (:mod:`tui_transformer.tui.current_run`), which
every screen shows. The two talk one way each:

* a **screen asks the app**, through :class:`DashboardHost` only: read the current run, open a
  run, compare runs, start, pause or stop training (a run or a sweep: a lesson is a sweep), say
  that a run was renamed;
* the **app tells the screens**, with messages only (:mod:`tui_transformer.tui.messages`): a new
  current run, the run's events, the end of the worker, the probed device, and what to do on start
  or from the command palette. The app never reaches into a screen's widgets, and no screen into
  another's.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, cast

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from tui_transformer.train.config import TrainConfig
    from tui_transformer.train.sweep import Plan
    from tui_transformer.tui.current_run import CurrentRun
    from tui_transformer.tui.training_session import TrainingSession

OpenIn = Literal["train", "playground", "learn"]


class DashboardHost(Protocol):
    """The app, as the screens see it."""

    training: TrainingSession | None  # the run started here last (it may have ended)
    probed_device: str | None  # what "auto" resolves to, once the app has imported torch

    @property
    def current_run(self) -> CurrentRun:
        """The run every screen shows (see :mod:`tui_transformer.tui.current_run`)."""
        ...

    @property
    def training_active(self) -> bool:
        """Whether the training worker is running (a run is being trained or set up)."""
        ...

    def open_run(self, run: str | Path, mode: OpenIn = "train") -> bool:
        """Make ``run`` (a name or a directory) the current run and show ``mode``.

        While a run trains here, the Train screen cannot follow another: ``train`` is refused (said
        in a notification) and the Playground or Learn pin ``run`` instead. False when refused or
        when ``run`` is no run (said too).
        """
        ...

    def compare_runs(self, names: list[str]) -> None:
        """Show the Runs screen with exactly the runs called ``names`` marked, overlaid on its chart."""
        ...

    def run_renamed(self, old: Path, new: Path) -> None:
        """The run at ``old`` is now at ``new`` (the Runs screen renamed it): the current run follows it."""
        ...

    def followed_state(self, run_dir: Path, state: str) -> None:
        """The followed run's ``metrics.jsonl`` now says ``state`` (the Train screen reads it)."""
        ...

    def start_training(self, config: TrainConfig, resume: str | None = None,
                       preset_reason: str = "") -> TrainingSession:
        """Train ``config`` in the training worker (continuing the run ``resume`` if given)."""
        ...

    def start_sweep(self, sweep: Plan) -> TrainingSession:
        """Train the sweep's runs one after another in the training worker (finished ones are skipped)."""
        ...

    def set_paused(self, paused: bool) -> None:
        """Hold the run training here between steps, or let it go on (nothing when none trains)."""
        ...

    def stop_training(self) -> None:
        """Ask the run to stop: the trainer saves a checkpoint, then the worker ends."""
        ...


def host_of(node: DOMNode) -> DashboardHost:
    """The app of ``node`` (a screen or a widget), through the only interface screens use of it."""
    return cast("DashboardHost", node.app)
