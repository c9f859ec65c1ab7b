"""Where a run's events go: the caller's callback and the run's ``metrics.jsonl``, from rank 0 only.

The trainer reports before it has a run directory (it logs while it opens the data and trains a
tokenizer), so the events until then are held and written first once ``metrics.jsonl`` is open:
the file tells the whole story of the session, as the callback heard it. Under DDP the other ranks
compute the same steps and stay silent, so each event is reported once. The data source's status
(downloads, cache hits) is reported when it changes, not every time the trainer asks.
"""

from __future__ import annotations

from pathlib import Path

from tui_transformer.train.events import Event, EventCallback, LogMessage, ShardStatus
from tui_transformer.train.metrics import MetricsWriter


class Reporter:
    def __init__(self, on_event: EventCallback | None, is_main: bool) -> None:
        self.on_event = on_event
        self.is_main = is_main
        self.metrics: MetricsWriter | None = None
        self.early_events: list[Event] = []  # written once the run directory exists
        self.last_source_status: dict | None = None

    def open(self, run_dir: Path) -> None:
        """Start appending to ``run_dir``'s metrics file, beginning with the events held so far."""
        if not self.is_main:
            return
        self.metrics = MetricsWriter(run_dir)
        for event in self.early_events:
            self.metrics.write(event)

    def emit(self, event: Event) -> None:
        if not self.is_main:
            return
        if self.metrics is not None:
            self.metrics.write(event)
        else:
            self.early_events.append(event)
        if self.on_event is not None:
            self.on_event(event)

    def show(self, event: Event) -> None:
        """An event for the watcher only, not for ``metrics.jsonl`` (setup progress: stale once the run starts)."""
        if self.is_main and self.on_event is not None:
            self.on_event(event)

    def log(self, message: str, level: str = "info") -> None:
        self.emit(LogMessage(level=level, message=message))

    def source_status(self, source) -> None:
        """A ShardStatus event when the data source's status changed since the last one."""
        status = source.status() if hasattr(source, "status") else {}
        if status == self.last_source_status:
            return
        self.last_source_status = status
        self.emit(ShardStatus(source=source.name, description=getattr(source, "description", ""), status=status))

    def close(self) -> None:
        if self.metrics is not None:
            self.metrics.close()
