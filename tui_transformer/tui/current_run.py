"""The current run: the one run the whole dashboard is about.

A learner trains a run, watches its curves, then talks to it in the Playground and looks inside it
in Learn. Every screen must therefore mean the same run. The app owns one :class:`CurrentRun`
value and replaces it whenever the run changes (a run starts here, ``o`` opens one, ``--attach``,
the Runs screen's open keys, a rename) or its state moves (running, paused, finished...). Each
screen reads it through the app's typed interface
(:class:`~tui_transformer.tui.host.DashboardHost`) and is told of each new value with a
:class:`~tui_transformer.tui.messages.CurrentRunChanged` message.

The value is immutable: a screen that kept an old one still holds a consistent picture of the run
as it was, and comparing two values says what changed.

Its ``state`` speaks the vocabulary of ``runs list`` (:class:`~tui_transformer.train.run_state.RunState`),
plus what the learner asked of a run training here that the trainer has not answered yet:
``paused`` and ``stopping``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tui_transformer.train.run_state import RunState

PAUSED, STOPPING = "paused", "stopping"
NO_RUN = "no run"
# The states in which a run's metrics still grow: the header says "following NAME" for one opened from elsewhere.
LIVE_STATES = (RunState.STARTING, RunState.RUNNING, PAUSED, STOPPING)


@dataclass(frozen=True)
class CurrentRun:
    """Which run, in which state, its newest checkpoint and its model's shape.

    ``path`` is None before any run, and while a run started here is still being set up (its folder
    is named when its first event arrives). ``trained_here``: this dashboard's training worker
    trains it (else it was opened, and its ``metrics.jsonl`` is followed).
    """

    path: Path | None = None
    state: str = NO_RUN
    trained_here: bool = False
    checkpoint: Path | None = None
    shape: str = ""  # "d128 L4 H4 · T 256", from the run's config; "" until known

    @property
    def name(self) -> str:
        return self.path.name if self.path is not None else ""

    @property
    def live(self) -> bool:
        """Whether its metrics still grow (a run being trained, here or elsewhere)."""
        return self.state in LIVE_STATES

    def describe(self) -> str:
        """One short phrase: ``following NAME`` for a live run opened from elsewhere, else ``NAME: state``."""
        if self.path is None:
            return self.state
        if self.live and not self.trained_here:
            return f"following {self.name}" if self.state == RunState.RUNNING else f"following {self.name}: {self.state}"
        return f"{self.name}: {self.state}"

    def with_state(self, state: str) -> CurrentRun:
        return replace(self, state=state)

    def moved_to(self, path: Path) -> CurrentRun:
        """The same run under its new folder (renamed): its checkpoint moves with it."""
        checkpoint = path / self.checkpoint.relative_to(self.path) if self.checkpoint and self.path else None
        return replace(self, path=path, checkpoint=checkpoint)


def opened_run(path: Path, state: str) -> CurrentRun:
    """A run opened from disk (followed, not trained here): its newest checkpoint and shape read now."""
    return CurrentRun(path=path, state=state, checkpoint=newest_checkpoint(path), shape=_saved_shape(path))


def newest_checkpoint(run_dir: Path) -> Path | None:
    """The checkpoint a run is explained with: ``latest.pt`` (where training is), else ``best.pt``, else None."""
    from tui_transformer.train.runs import CHECKPOINTS

    for name in ("latest.pt", "best.pt"):
        if (run_dir / CHECKPOINTS / name).is_file():
            return run_dir / CHECKPOINTS / name
    return None


def model_shape(config: dict[str, Any]) -> str:
    """``d128 L4 H4 · T 256`` from a run's config as its ``RunStarted`` records it ("" if it lacks one)."""
    model = config.get("model") if isinstance(config, dict) else None
    if not isinstance(model, dict):
        return ""
    try:
        return f"d{model['d_model']} L{model['n_layers']} H{model['n_heads']} · T {model['max_seq_len']}"
    except KeyError:
        return ""


def _saved_shape(run_dir: Path) -> str:
    """The shape from the run's ``config.toml``, read as plain TOML (``TrainConfig`` would import the model, and torch)."""
    import tomllib

    from tui_transformer.train.runs import CONFIG_FILE

    try:
        with (run_dir / CONFIG_FILE).open("rb") as handle:
            return model_shape(tomllib.load(handle))
    except (OSError, tomllib.TOMLDecodeError):
        return ""
