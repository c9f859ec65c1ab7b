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
from typing import TYPE_CHECKING, ClassVar, Literal

from textual.message import Message

from tui_transformer.train.events import Event

if TYPE_CHECKING:
    from tui_transformer.train.config import TrainConfig


# ---- from the app's workers ---------------------------------------------------------------

@dataclass
class TrainingEvent(Message):
    """One event from the trainer (see :mod:`tui_transformer.train.events`), in order.

    Posted to the Train screen, which folds it into its history; it then bubbles up to the app,
    which keeps what the header needs.
    """

    event: Event


@dataclass
class SweepRunStarting(Message):
    """A sweep trained here moves on to its run ``index`` (from 0): ``action`` is start, resume or skip.

    Posted by the training worker to the Train screen before that run's own events (one queue, so in
    order): the screen follows the new run from empty panels (replaying ``run_dir``'s earlier steps
    when it resumes). It then bubbles up to the app, whose session keeps the sweep's queue.
    ``best_val_bpb``: what a skipped or resumed run had reached before.
    """

    index: int
    action: str
    run_dir: str
    best_val_bpb: float | None = None


@dataclass
class DeviceProbed(Message):
    """The torch version and the device ``auto`` resolves to, found off the UI thread (importing torch takes seconds).

    Posted to the app (the header), which passes it on to the Train screen (``auto`` may now mean
    another preset).
    """

    torch_version: str
    device: str


# ---- from the app to the Train screen (they stop there) ----------------------------------------

@dataclass
class TrainingEnded(Message):
    """The training worker returned, or raised ``error``: the run is over, the controls change."""

    bubble: ClassVar[bool] = False
    error: BaseException | None = None


@dataclass
class FollowRun(Message):
    """Follow this run (a name or a directory) as soon as the screen is up: ``--attach``."""

    bubble: ClassVar[bool] = False
    run: str


@dataclass
class StartRun(Message):
    """Train ``config`` as soon as the screen is up (``tui-transformer train`` with the dashboard)."""

    bubble: ClassVar[bool] = False
    config: TrainConfig
    resume: str | None = None
    preset_reason: str = ""


TrainAction = Literal["start", "pause", "open_run", "resume_run"]


@dataclass
class TrainCommand(Message):
    """Do what one of the Train screen's keys does (the command palette, from any mode)."""

    bubble: ClassVar[bool] = False
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
