"""Follow a run's ``metrics.jsonl`` as another process appends to it (``tail -f`` for events).

Every run, with or without the dashboard, appends one JSON event per line to
``<run_dir>/metrics.jsonl``. Attaching to a run is reading that file from the start and then,
on a timer, reading whatever was appended since the last look.

Two details make this robust:

* the writer may be in the middle of a line when we read, so only complete lines (ending in
  ``\\n``) are parsed and the partial tail is kept for the next poll;
* a line that is not a known event (a newer trainer, a damaged file) is counted and skipped,
  never fatal: attaching must not crash the dashboard.
"""

from __future__ import annotations

from pathlib import Path

from tui_transformer.errors import UserError
from tui_transformer.train.events import Event, event_from_json
from tui_transformer.train.metrics import METRICS_FILE


def find_run(run: str | Path) -> Path:
    """A run to open: an existing path as it is (any folder with a ``metrics.jsonl``), else a run name
    under the runs folder (a UserError saying where it looked when there is none)."""
    path = Path(run).expanduser()
    if path.exists():
        return path
    from tui_transformer.train.runs import resolve_run

    return resolve_run(str(run))


def metrics_path(run_dir: str | Path) -> Path:
    """The metrics file of a run directory, or a clear error when it is not a run directory."""
    path = Path(run_dir).expanduser()
    if path.is_file() and path.name == METRICS_FILE:
        return path
    if not path.is_dir():
        raise UserError(f"no such run directory: {path}")
    candidate = path / METRICS_FILE
    if not candidate.is_file():
        raise UserError(f"{path} is not a run directory: it has no {METRICS_FILE}")
    return candidate


class MetricsTail:
    """Reads the events appended to a metrics file since the previous :meth:`poll`."""

    def __init__(self, path: str | Path, max_bytes_per_poll: int = 4 << 20) -> None:
        self.path = Path(path)
        self.max_bytes_per_poll = max_bytes_per_poll
        self.offset = 0
        self.skipped_lines = 0
        self.exists = False  # as of the last poll: a run may be attached before its file appears
        self._partial = b""

    def poll(self) -> list[Event]:
        """The events in the complete lines appended since the last call (possibly none)."""
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read(self.max_bytes_per_poll)
        except FileNotFoundError:
            self.exists = False
            return []
        self.exists = True
        self.offset += len(chunk)
        data = self._partial + chunk
        *lines, self._partial = data.split(b"\n")
        events = []
        for line in lines:
            if not line.strip():
                continue
            try:
                events.append(event_from_json(line.decode("utf-8")))
            except ValueError:  # a damaged line, undecodable bytes included (see event_from_json)
                self.skipped_lines += 1
        return events
