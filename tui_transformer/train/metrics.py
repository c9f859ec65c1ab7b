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
        yield from _parsed(file)


def read_first_and_last_events(path: Path, tail_bytes: int = 64 * 1024) -> tuple[list[Event], list[Event]]:
    """The file's first event and the events of about its last ``tail_bytes``, without reading the middle.

    A long GPU run writes hundreds of thousands of lines; a summary (``runs list``) needs only how
    the run began and how it stands now. Returns ``([first] or [], tail events)``; the two never overlap.
    """
    with Path(path).open("rb") as file:
        first_line = file.readline()
        size = file.seek(0, 2)
        start = max(len(first_line), size - tail_bytes)
        file.seek(start)
        tail = file.read()
    if start > len(first_line):
        tail = tail.partition(b"\n")[2]  # the cut fell inside a line: that line is not a whole event
    decode = lambda data: data.decode("utf-8", "replace").splitlines()  # noqa: E731
    return list(_parsed(decode(first_line))), list(_parsed(decode(tail)))


def _parsed(lines) -> Iterator[Event]:
    for line in lines:
        try:
            yield event_from_json(line)
        except (ValueError, KeyError, TypeError):
            continue
