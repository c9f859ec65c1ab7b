"""``metrics.jsonl``: every event of a run, one JSON object a line, appended as it happens.

The file is the run's log and its live feed: the dashboard attaches to a run started with
``--no-ui`` by reading it, so each line is flushed as soon as it is written (a reader never waits
for a buffer to fill). A resumed run appends to the same file, after a new ``RunStarted``.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Iterator

from tui_transformer.errors import UserError
from tui_transformer.train.events import Event, event_from_json, to_json

METRICS_FILE = "metrics.jsonl"


class MetricsWriter:
    """Appends events to ``metrics.jsonl``, one flushed line each.

    A write that fails (a full disk) stops the writer and raises a :class:`UserError`, once: the
    trainer then ends the run on its last checkpoint, and the events after that go to the screen only.
    """

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / METRICS_FILE
        cut_line = _ends_mid_line(self.path)  # a run killed mid-write: its torn line must not swallow ours
        self._file: IO[str] | None = self.path.open("a", encoding="utf-8")
        if cut_line:
            self._write("\n")

    def write(self, event: Event) -> None:
        self._write(to_json(event) + "\n")

    def _write(self, text: str) -> None:
        if self._file is None:
            return
        try:
            self._file.write(text)
            self._file.flush()
        except OSError as error:
            self.close()
            raise UserError(f"cannot write {self.path}: {error.strerror or error} (is the disk full?); "
                            "the run stops here and keeps its last checkpoint") from error

    def close(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            try:
                file.close()
            except OSError:
                pass  # the unflushed text is lost either way; the write that failed has said so


def _ends_mid_line(path: Path) -> bool:
    if not path.is_file() or path.stat().st_size == 0:
        return False
    with path.open("rb") as file:
        file.seek(-1, 2)
        return file.read(1) != b"\n"


def read_events(path: Path) -> Iterator[Event]:
    """The events of a metrics file, skipping a torn last line (a run killed mid-write) and unknown events."""
    with Path(path).open(encoding="utf-8", errors="replace") as file:  # damaged bytes spoil a line, not the file
        yield from _parsed(file)


def _parsed(lines) -> Iterator[Event]:
    for line in lines:
        try:
            yield event_from_json(line)
        except ValueError:  # a torn or damaged line (see event_from_json)
            continue
