"""Progress of slow one-off work (building the builtin corpus, training a tokenizer), for a watcher.

That work sits deep in the data layer: the trainer asks for a tokenizer, which is trained on texts
from a source, which builds its corpus on first use. Rather than thread a callback through every
call in between, the caller that watches opens :func:`reporting` around the work, in its own thread,
and the work calls :func:`report` as it goes. With no watcher (a test, a second run with everything
cached) :func:`report` does nothing, for the cost of one attribute lookup.

Reports reach the watcher at most ``1 / INTERVAL_S`` times a second (the loops report every item),
but the first of a stage and its last (``done == total``) always do, so a watcher sees each stage
begin and end.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

INTERVAL_S = 0.1


@dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` ``unit`` of ``stage``: ("training the tokenizer", 1200, 8191, "tokens")."""

    stage: str
    done: int
    total: int
    unit: str


class _Watcher:
    def __init__(self, callback: Callable[[Progress], None]) -> None:
        self.callback = callback
        self.last_sent = 0.0
        self.stage = ""

    def report(self, progress: Progress) -> None:
        now = time.monotonic()
        first, last = progress.stage != self.stage, progress.done == progress.total
        if first or last or now - self.last_sent >= INTERVAL_S:
            self.last_sent, self.stage = now, progress.stage
            self.callback(progress)


_local = threading.local()


@contextmanager
def reporting(callback: Callable[[Progress], None]) -> Iterator[None]:
    """Send this thread's :func:`report` calls to ``callback`` while the block runs."""
    previous = getattr(_local, "watcher", None)
    _local.watcher = _Watcher(callback)
    try:
        yield
    finally:
        _local.watcher = previous


def report(stage: str, done: int, total: int, unit: str) -> None:
    """Say how far ``stage`` has come (to the watcher of this thread, if any)."""
    watcher = getattr(_local, "watcher", None)
    if watcher is not None:
        watcher.report(Progress(stage, done, total, unit))
