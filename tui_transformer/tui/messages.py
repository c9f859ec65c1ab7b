"""What worker threads send to the UI thread.

A thread worker must never touch widgets: Textual is not thread-safe. It calls
``post_message``, which only puts the message on the receiver's queue (thread-safe and
non-blocking, so the trainer is never held up by drawing), and the UI thread handles it later.
"""

from __future__ import annotations

from dataclasses import dataclass

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
