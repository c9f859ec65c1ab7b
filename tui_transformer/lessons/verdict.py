"""Reading a lesson's runs, and the verdict they support.

:func:`lesson_runs` gathers what each run of a lesson logged: its config, state, metric history and
summary (:mod:`tui_transformer.train.run_compare`), its evals with the induction probe's fields, and
the training doctor's alerts (:mod:`tui_transformer.train.doctor`). A lesson's verdict function
turns that into a :class:`Verdict`: one headline, the numbers behind it, and, when the runs did not
show the effect, an honest word on why it may not have and what to try.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tui_transformer.train.events import Alert, EvalResult, RunStarted
from tui_transformer.train.metrics import METRICS_FILE, read_events


@dataclass
class RunRecord:
    """One run of a lesson, as its files tell it."""

    label: str
    name: str
    path: Path
    values: dict[str, Any]  # the arm's overrides
    state: str  # RunInfo.label: "finished (max_steps)", "running", "failed: ..."
    ended: bool  # finished, or failed (a diverged run is a result too); not running, stopped or interrupted
    history: list[dict[str, Any]]  # run_compare.metric_history
    summary: dict[str, Any]  # run_compare.summary
    evals: list[EvalResult]
    alerts: list[Alert]
    config: dict[str, Any]
    n_params: int | None


@dataclass
class LessonRuns:
    """The runs of a lesson that exist so far, in the lesson's order, and how many it has in all."""

    records: list[RunRecord]
    total: int

    @property
    def done(self) -> bool:
        return len(self.records) == self.total and all(record.ended for record in self.records)

    def by_label(self) -> dict[str, RunRecord]:
        return {record.label: record for record in self.records}


@dataclass
class Chart:
    """A chart a verdict comes with: named curves of ``(x, y)`` points, on log axes when asked (the
    dashboard draws it under the verdict; ``--json`` carries its points)."""

    title: str
    series: dict[str, tuple[list[float], list[float]]]  # label -> (xs, ys), xs increasing
    log_x: bool = False
    log_y: bool = False


@dataclass
class Verdict:
    """What the runs showed. ``shown``: True (the effect is there), False (not), None (too few runs yet)."""

    lesson: str
    shown: bool | None
    headline: str
    lines: list[str] = field(default_factory=list)  # the numbers, one finding a line
    try_next: str = ""  # what to try when the effect did not show
    numbers: dict[str, Any] = field(default_factory=dict)  # for --json and the dashboard
    open_page: str | None = None  # a Learn page to open on the result ("Circuits")
    open_run: str | None = None  # the run to open it on
    charts: list[Chart] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def not_yet(lesson: str, runs: LessonRuns, needed: int | None = None) -> Verdict | None:
    """The verdict while too few runs have finished to say anything, else None."""
    ended = sum(record.ended for record in runs.records)
    if ended >= (runs.total if needed is None else needed):
        return None
    return Verdict(lesson, None, f"{ended} of {runs.total} runs ended: run the lesson to the end for a verdict")


def read_record(label: str, path: Path, values: dict[str, Any]) -> RunRecord:
    """What the run at ``path`` logged (see :class:`RunRecord`)."""
    from tui_transformer.train.run_compare import metric_history, summary
    from tui_transformer.train.run_state import RunState
    from tui_transformer.train.runs import run_info

    info = run_info(path)
    evals, alerts, config, n_params = [], [], {}, None
    metrics = path / METRICS_FILE
    if metrics.is_file():
        for event in read_events(metrics):
            if isinstance(event, EvalResult):
                evals = [e for e in evals if e.step < event.step] + [event]  # a resume redoes later steps
            elif isinstance(event, Alert):
                alerts.append(event)
            elif isinstance(event, RunStarted):
                config, n_params = event.config, event.n_params
    history = metric_history(path)
    return RunRecord(label=label, name=path.name, path=path, values=values, state=info.label,
                     ended=info.state in (RunState.FINISHED, RunState.FAILED), history=history, summary=summary(history),
                     evals=evals, alerts=alerts, config=config, n_params=n_params)


def finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def fmt(value: float | None, digits: int = 2) -> str:
    """A number for a verdict line; "-" when there is none."""
    return f"{value:.{digits}f}" if finite(value) else "-"
