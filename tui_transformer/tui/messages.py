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

from textual.message import Message

from tui_transformer.train.events import Event


@dataclass
class TrainingEvent(Message):
    """One event from the trainer (see :mod:`tui_transformer.train.events`), in order."""

    event: Event


@dataclass
class DeviceProbed(Message):
    """The torch version and the device ``auto`` resolves to, found off the UI thread (importing torch takes seconds)."""

    torch_version: str
    device: str


@dataclass
class RunsListed(Message):
    """A run picker (:mod:`tui_transformer.tui.widgets.run_list`) shows the runs folder anew.

    ``options`` are the (label, value) pairs it now offers; ``error`` is why the folder could not
    be listed (the picker says so itself), else None.
    """

    options: list[tuple[str, str]] = field(default_factory=list)
    error: BaseException | None = None
