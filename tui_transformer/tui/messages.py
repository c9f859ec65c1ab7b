"""What worker threads send to the UI thread, and what the dashboard's parts tell each other.

A thread worker must never touch widgets: Textual is not thread-safe. It calls
``post_message``, which only puts the message on the receiver's queue (thread-safe and
non-blocking, so the trainer is never held up by drawing), and the UI thread handles it later.

Messages here are shared by more than one module. A message that only one widget or screen
posts is declared beside it, in the same style: a dataclass (Textual calls ``Message.__init__``
from ``__post_init__``), so its fields are listed and typed once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from textual.message import Message

from tui_transformer.train.events import Event

if TYPE_CHECKING:
    from pathlib import Path

    from tui_transformer.train.config import TrainConfig
    from tui_transformer.tui.current_run import CurrentRun


# ---- from the app's workers ---------------------------------------------------------------

@dataclass
class TrainingEvent(Message, bubble=False):
    """One event from the trainer (see :mod:`tui_transformer.train.events`), in order.

    Posted by the training worker to the app, which folds it into the current run (its name, state
    and checkpoint), then passes it on to the Train screen, whose history draws it. It stops there.
    """

    event: Event


@dataclass
class SweepRunStarting(Message, bubble=False):
    """A sweep trained here moves on to its run ``index`` (from 0): ``action`` is start, resume or skip.

    Posted by the training worker to the app before that run's own events (one queue, so in order):
    the session's queue moves on, and the app passes it on to the Train screen, which follows the
    new run from empty panels (replaying ``run_dir``'s earlier steps when it resumes).
    ``best_val_bpb``: what a skipped or resumed run had reached before.
    """

    index: int
    action: str
    run_dir: str
    best_val_bpb: float | None = None


@dataclass
class DeviceProbed(Message, bubble=False):
    """The torch version and the device ``auto`` resolves to, found off the UI thread (importing torch takes seconds).

    Posted to the app (the header), which passes it on to the Train screen (``auto`` may now mean
    another preset).
    """

    torch_version: str
    device: str


# ---- from the app to the screens (they stop there) -------------------------------------------

@dataclass
class CurrentRunChanged(Message, bubble=False):
    """The current run (:mod:`tui_transformer.tui.current_run`) is now ``run``: another run, or a new state.

    Posted by the app to every screen that is up; a screen that comes up later reads the app's
    ``current_run`` on mounting.
    """

    run: CurrentRun


@dataclass
class PinRun(Message, bubble=False):
    """Show this run here instead of the current run (the Runs screen's ``g``/``e`` while another run trains).

    Posted by the app to the Playground or Learn, which pin it (the pin is shown) until the learner
    picks "your run" again.
    """

    run_dir: Path


@dataclass
class MarkRuns(Message, bubble=False):
    """The Runs screen: mark exactly these runs (by name), to overlay them (the Lessons screen's ``r``).

    Posted by the app, which shows the Runs screen; a name the runs folder does not hold is left out.
    """

    names: tuple[str, ...]


@dataclass
class TrainingEnded(Message, bubble=False):
    """The training worker returned, or raised ``error``: the run is over, the controls change.

    Posted by the app to the Train screen and, once it is up, the Lessons screen (a lesson's verdict).
    """

    error: BaseException | None = None


@dataclass
class StartRun(Message, bubble=False):
    """Train ``config`` as soon as the screen is up (``tui-transformer train`` with the dashboard)."""

    config: TrainConfig
    resume: str | None = None
    preset_reason: str = ""


@dataclass
class ShowLearnPage(Message, bubble=False):
    """Learn: open page ``index`` (from 0), the one that explains an alert."""

    index: int


@dataclass
class StartBenchmark(Message, bubble=False):
    """The Benchmark: run the KV-cache benchmark (the command palette)."""


TrainAction = Literal["start", "pause", "open_run", "resume_run"]


@dataclass
class TrainCommand(Message, bubble=False):
    """Do what one of the Train screen's keys does (the command palette, from any mode)."""

    action: TrainAction


# ---- from the Train screen to the app -------------------------------------------------------

@dataclass
class OpenLearnPage(Message):
    """Show the Learn page called ``title`` (the Train screen's ``a``: the idea behind an alert).

    The app switches to the Learn mode and opens that page; a title no page has is said in one line.
    """

    title: str


# ---- shared by the run pickers -------------------------------------------------------------


@dataclass
class RunsListed(Message):
    """A run picker (:mod:`tui_transformer.tui.widgets.run_list`) shows the runs folder anew.

    ``options`` are the (label, value) pairs it now offers; ``error`` is why the folder could not
    be listed (the picker says so itself), else None.
    """

    options: list[tuple[str, str]] = field(default_factory=list)
    error: BaseException | None = None
