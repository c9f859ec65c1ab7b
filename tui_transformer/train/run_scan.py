"""What only a run's whole ``metrics.jsonl`` can tell: its best evals and its doctor alerts.

``runs list`` reads a run from the head and the tail of its metrics file (see
:func:`tui_transformer.train.runs.run_info`): how it began and how it stands now. The best val
loss and the number of alerts are spread over the whole file, so they need all of it; but they
live on a few rare lines among thousands of ``StepMetrics``. Parsing every line as JSON would
cost seconds for 50 long runs, so the scan looks for the rare lines by their fixed beginning
instead and parses only those::

    {"event": "StepMetrics", "step": 1, ...}    skipped by a byte search (no JSON parsing)
    {"event": "EvalResult", "step": 10, ...}    parsed: val loss and bpb
    {"event": "Alert", "step": 12, ...}         counted
    {"event": "RunStarted", ...}                parsed: a resume drops the evals after its step

A resume redoes the steps after its checkpoint, so what the earlier session measured past that
step is dropped, the same rule as :func:`tui_transformer.train.run_compare.metric_history`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from tui_transformer.train.events import Alert, EvalResult, RunStarted, event_from_json

# The first bytes of each line of these events: :func:`to_json` writes the event's name first,
# with json.dumps's default separators.
_MARKERS = {cls: ('{"event": "%s"' % cls.__name__).encode() for cls in (EvalResult, Alert, RunStarted)}


@dataclass(frozen=True)
class RunScan:
    """The best val loss and bpb over a run's evals (None without any), and its alert count."""

    best_val_loss: float | None = None
    best_val_bpb: float | None = None
    alerts: int = 0


def scan_metrics(path: Path) -> RunScan:
    """Scan one metrics file (see the module docstring); a missing file scans as empty."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return RunScan()
    lines = sorted((start, kind) for kind, marker in _MARKERS.items() for start in _starts(data, marker))
    evals: list[EvalResult] = []
    alerts: list[Alert] = []
    for start, kind in lines:
        end = data.find(b"\n", start)
        event = _parse(data[start:] if end < 0 else data[start:end])
        if not isinstance(event, kind):
            continue  # a damaged line
        if isinstance(event, RunStarted):
            evals = [e for e in evals if e.step <= event.resumed_from_step]
            alerts = [a for a in alerts if a.step <= event.resumed_from_step]
        elif isinstance(event, EvalResult):
            evals.append(event)
        else:
            alerts.append(event)
    return RunScan(best_val_loss=_lowest(e.val_loss for e in evals),
                   best_val_bpb=_lowest(e.val_bpb for e in evals), alerts=len(alerts))


def _starts(data: bytes, marker: bytes):
    """Where the lines that begin with ``marker`` begin (at the file's start or after a newline)."""
    at = data.find(marker)
    while at >= 0:
        if at == 0 or data[at - 1] == 0x0A:
            yield at
        at = data.find(marker, at + len(marker))


def _parse(line: bytes):
    try:
        return event_from_json(line.decode("utf-8", "replace"))
    except ValueError:
        return None


def _lowest(values) -> float | None:
    finite = [value for value in values if value is not None and math.isfinite(value)]
    return min(finite) if finite else None
