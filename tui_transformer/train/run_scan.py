"""What a run's ``metrics.jsonl`` says about it, read fast: how it stands, its best evals, its alerts.

``runs list`` and the Runs screen summarise every run, and a long run's file holds hundreds of
thousands of lines. Nearly all of them are ``StepMetrics``, and a summary needs only the last one;
what it needs from the rest is on a few rare lines. So the scan finds the rare lines by their fixed
beginning (one regex pass over the bytes, no JSON parsing) and parses only those, plus the last step::

    {"event": "StepMetrics", "step": 1, ...}    skipped, but for the last one: the step, tokens, time
    {"event": "EvalResult", "step": 10, ...}    val loss and bpb: the latest, and the best
    {"event": "Alert", "step": 12, ...}         counted (the training doctor's)
    {"event": "RunStarted", ...}                the first: preset, data, tokenizer, sweep; each one a session
    {"event": "RunFinished" | "RunFailed", ...} how the latest session ended

The events are folded in file order, so the state is the latest session's: a ``RunStarted``
after an ending is a resume whose ending is still to come (interrupted, unless it is running). A
resume redoes the steps after its checkpoint, so what the earlier session measured past that step
no longer counts for the best eval or the alerts, the same rule as
:func:`tui_transformer.train.run_compare.metric_history`.

Evals and alerts, the many rare lines, are read with ``json.loads`` alone (the fields used are
checked); the few others through :func:`~tui_transformer.train.events.event_from_json`. A damaged
line is skipped, never fatal.
"""

from __future__ import annotations

import json
import math
import re
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tui_transformer.train.events import Event, RunFailed, RunFinished, RunStarted, StepMetrics, event_from_json
from tui_transformer.train.run_state import RunState, ended_state


def _marker(name: str) -> bytes:
    """The first bytes of a line of event ``name``: :func:`to_json` writes the name first, with
    json.dumps's default separators."""
    return ('{"event": "%s"' % name).encode()


EVAL, ALERT = _marker("EvalResult"), _marker("Alert")
PARSED = {_marker(cls.__name__): cls for cls in (RunStarted, RunFinished, RunFailed)}
STEP = _marker("StepMetrics")
# One pass for all the rare lines: a newline, then one of their markers. (A regex with a literal
# start scans about 4x faster than one bytes.find per marker; the newline keeps it to line starts.)
RARE_LINE = re.compile(b"\n(" + b"|".join(re.escape(marker) for marker in (EVAL, ALERT, *PARSED)) + b")")


@dataclass
class RunScan:
    """A metrics file's summary (see the module docstring); an absent file scans as a new run."""

    state: RunState = RunState.NEW
    reason: str = ""  # RunFinished's budget (or "stopped"), RunFailed's message
    preset: str = "?"
    last_step: int = 0
    last: StepMetrics | None = None
    first_start: RunStarted | None = None
    val_bpb: float | None = None  # the latest eval's
    best_val_loss: float | None = None
    best_val_bpb: float | None = None
    alerts: int = 0
    _evals: list[tuple[int, float | None, float | None]] = field(default_factory=list, repr=False)
    _alert_steps: list[int] = field(default_factory=list, repr=False)

    def fold(self, event: Event | tuple) -> None:
        if isinstance(event, RunStarted):  # a resume starts a new session: its ending is still to come
            self.preset, self.state, self.reason = event.preset, RunState.INTERRUPTED, ""
            self.last_step = max(self.last_step, event.resumed_from_step)
            self.first_start = self.first_start or event
            self._evals = [e for e in self._evals if e[0] <= event.resumed_from_step]
            self._alert_steps = [s for s in self._alert_steps if s <= event.resumed_from_step]
        elif isinstance(event, StepMetrics):
            self.last_step, self.last = event.step, event
        elif isinstance(event, (RunFinished, RunFailed)):
            finished, failed = (event, None) if isinstance(event, RunFinished) else (None, event)
            self.state, self.reason = ended_state(finished, failed), event.reason
        elif event[0] == "eval":
            self._evals.append(event[1:])
            self.val_bpb = event[3]
        else:
            self._alert_steps.append(event[1])

    def finish(self) -> RunScan:
        self.best_val_loss = _lowest(e[1] for e in self._evals)
        self.best_val_bpb = _lowest(e[2] for e in self._evals)
        self.alerts = len(self._alert_steps)
        return self


def scan_metrics(path: Path) -> RunScan:
    """Scan one metrics file (see the module docstring), reading only what was appended since the last scan."""
    path = Path(path)
    try:
        status = path.stat()
    except FileNotFoundError:
        return RunScan()
    key = str(path.resolve())
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
    scan, offset = RunScan(), 0
    with path.open("rb") as file:
        head = file.read(HEAD_BYTES)  # the same file, not another one in its place: its first line is its own
        if cached is not None and cached[:2] == (status.st_ino, head) and cached[2] <= status.st_size:
            scan, offset = _copy(cached[3]), cached[2]  # the file grew (or not): go on from there
        file.seek(offset)
        data = file.read()
    complete = data.rfind(b"\n") + 1  # a torn last line is read again next time, whole
    _fold_lines(scan, data[:complete])
    with _CACHE_LOCK:
        _CACHE[key] = (status.st_ino, head, offset + complete, _copy(scan))
    _fold_lines(scan, data[complete:])  # the torn line, if it parses (a run killed mid-write leaves one)
    return scan.finish()


# path -> (inode, bytes folded, the scan of them): listing again (the Runs screen every few seconds
# while a run trains) reads only the new lines. Worker threads list, hence the lock; scans are copied
# in and out, so no two threads share one.
_CACHE: dict[str, tuple[int, bytes, int, RunScan]] = {}
HEAD_BYTES = 256
_CACHE_LOCK = threading.Lock()


def _copy(scan: RunScan) -> RunScan:
    return replace(scan, _evals=list(scan._evals), _alert_steps=list(scan._alert_steps))


def _fold_lines(scan: RunScan, data: bytes) -> None:
    """Fold the rare lines of ``data`` (whole lines of the file) and its last step, in file order."""
    # b"\n" + data: the first line starts after a newline too; a match at i is a line at i of data
    found = [(match.start(), match.group(1)) for match in RARE_LINE.finditer(b"\n" + data)]
    last_step = _last_start(data, STEP)
    if last_step is not None:
        found.append((last_step, STEP))
    for start, marker in sorted(found):
        end = data.find(b"\n", start)
        event = _event(data[start:] if end < 0 else data[start:end], marker)
        if event is not None:
            scan.fold(event)


def _last_start(data: bytes, marker: bytes) -> int | None:
    """Where the last line that begins with ``marker`` begins."""
    end = len(data)
    while True:
        at = data.rfind(marker, 0, end)
        if at < 0:
            return None
        if at == 0 or data[at - 1] == 0x0A:
            return at
        end = at


def _event(line: bytes, marker: bytes) -> Event | tuple | None:
    """The line as an event (evals and alerts as light tuples), or None for a damaged line."""
    text = line.decode("utf-8", "replace")
    if marker in (EVAL, ALERT):
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict) or not _is_int(data.get("step")):
            return None
        if marker == ALERT:
            return ("alert", data["step"])
        loss, bpb = data.get("val_loss"), data.get("val_bpb")
        if not _is_number(loss) or not (bpb is None or _is_number(bpb)):
            return None
        return ("eval", data["step"], loss, bpb)
    try:
        event = event_from_json(text)
    except ValueError:
        return None
    return event if isinstance(event, PARSED.get(marker, StepMetrics)) else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _lowest(values) -> float | None:
    finite = [value for value in values if value is not None and math.isfinite(value)]
    return min(finite) if finite else None
