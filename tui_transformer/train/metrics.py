"""``metrics.jsonl``: every event of a run, one JSON object a line, appended as it happens.

The file is the run's log and its live feed: the dashboard attaches to a run started with
``--no-ui`` by reading it, so each line is flushed as soon as it is written (a reader never waits
for a buffer to fill). A resumed run appends to the same file, after a new ``RunStarted``.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Iterator

from tui_transformer.train.events import Event, event_from_json, to_json

METRICS_FILE = "metrics.jsonl"


class MetricsWriter:
    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / METRICS_FILE
        self._file: IO[str] | None = self.path.open("a", encoding="utf-8")

    def write(self, event: Event) -> None:
        if self._file is None:
            return
        self._file.write(to_json(event) + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def read_events(path: Path) -> Iterator[Event]:
    """The events of a metrics file, skipping a torn last line (a run killed mid-write) and unknown events."""
    with Path(path).open(encoding="utf-8") as file:
        for line in file:
            try:
                yield event_from_json(line)
            except (ValueError, KeyError, TypeError):
                continue
