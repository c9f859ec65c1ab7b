"""The Runs screen's table: every run, one row each, sortable by any column and filtered by text.

The rows come from :class:`~tui_transformer.train.runs.RunInfo`, the summaries ``runs list``
prints, so the table shows the same numbers as the command line. The table keeps the runs, the
filter and the sort itself and rebuilds its rows from them (:func:`visible_runs`), which keeps the
three independent: a new filter keeps the sort, a re-listing keeps both, and the cursor stays on
the run it was on.

The first column is the run's mark: a dot in its overlay colour, which is the chart's legend too.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable

from rich.text import Text
from textual.widgets import DataTable

from tui_transformer.train.runs import RunInfo
from tui_transformer.tui.widgets.line_chart import format_number


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    value: Callable[[RunInfo], Any]  # what the column sorts by (None sorts last)
    text: Callable[[RunInfo], str]


def _number(value: float | None, digits: int = 3) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


COLUMNS = (
    Column("name", "name", lambda r: r.name, lambda r: r.name),
    Column("state", "state", lambda r: r.label, lambda r: r.label),
    Column("preset", "preset", lambda r: r.preset, lambda r: r.preset),
    Column("steps", "steps", lambda r: r.last_step, lambda r: f"{r.last_step:,}"),
    Column("best_val_loss", "best val", lambda r: r.best_val_loss, lambda r: _number(r.best_val_loss)),
    Column("best_val_bpb", "best bpb", lambda r: r.best_val_bpb, lambda r: _number(r.best_val_bpb)),
    Column("tokens", "tokens", lambda r: r.tokens_seen, lambda r: format_number(r.tokens_seen)),
    Column("time", "time", lambda r: r.elapsed_s, lambda r: _duration(r.elapsed_s)),
    Column("started", "started", lambda r: r.started,
           lambda r: time.strftime("%m-%d %H:%M", time.localtime(r.started)) if r.started else "-"),
    Column("alerts", "alerts", lambda r: r.alerts, lambda r: str(r.alerts) if r.alerts else "-"),
    Column("note", "note", lambda r: r.note, lambda r: r.note),
    Column("data", "data", lambda r: r.data, lambda r: r.data),
    Column("tokenizer", "tokenizer", lambda r: r.tokenizer, lambda r: r.tokenizer),
    Column("params", "params", lambda r: r.n_params, lambda r: format_number(r.n_params) if r.n_params else "-"),
    Column("tokens_per_sec", "tok/s", lambda r: r.tokens_per_sec,
           lambda r: format_number(r.tokens_per_sec) if r.tokens_per_sec else "-"),
)
BY_KEY = {column.key: column for column in COLUMNS}
RIGHT = {"steps", "best_val_loss", "best_val_bpb", "tokens", "time", "alerts", "params", "tokens_per_sec"}
MARK = "mark"


def matches(run: RunInfo, text: str) -> bool:
    """Whether every word of ``text`` appears (any case) in the run's name, state, preset, data, tokenizer, sweep or note."""
    haystack = " ".join((run.name, run.label, run.preset, run.data, run.tokenizer, run.sweep or "", run.note)).lower()
    return all(word in haystack for word in text.lower().split())


def visible_runs(runs: list[RunInfo], text: str, sort: str | None, reverse: bool) -> list[RunInfo]:
    """The runs that match ``text``, sorted by column ``sort`` (listing order without one); missing values last."""
    shown = [run for run in runs if matches(run, text)]
    if sort is None:
        return shown
    value = BY_KEY[sort].value
    present = [run for run in shown if value(run) is not None]
    missing = [run for run in shown if value(run) is None]
    return sorted(present, key=value, reverse=reverse) + missing


class RunTable(DataTable):
    """The runs as rows; :meth:`show` gives it the runs, :meth:`sort_by`/:meth:`filter` choose which and how."""

    DEFAULT_CSS = "RunTable { height: 1fr; }"

    def __init__(self, **kwargs: Any) -> None:
        # the mark and the name stay put when End or → scrolls the other columns into view
        super().__init__(cursor_type="row", zebra_stripes=True, fixed_columns=2, **kwargs)
        self.runs: list[RunInfo] = []
        self.filter_text = ""
        self.sort_key: str | None = None
        self.reverse = False
        self.marks: dict[str, str] = {}  # run name -> its overlay colour

    def on_mount(self) -> None:
        self.add_column(" ", key=MARK, width=1)
        for column in COLUMNS:
            self.add_column(column.label, key=column.key)

    # -- what is shown ----------------------------------------------------------------------------

    def show(self, runs: list[RunInfo]) -> None:
        self.runs = list(runs)
        self._rebuild()

    def filter(self, text: str) -> None:
        self.filter_text = text
        self._rebuild()

    def sort_by(self, key: str) -> None:
        """Sort by ``key``; the same key again reverses the order."""
        self.reverse = not self.reverse if key == self.sort_key else False  # lowest loss first
        self.sort_key = key
        for column in COLUMNS:
            arrow = (" ▼" if self.reverse else " ▲") if column.key == key else ""
            self.columns[column.key].label = Text(column.label + arrow)  # type: ignore[index]
        self._rebuild()

    def set_marks(self, marks: dict[str, str]) -> None:
        self.marks = dict(marks)
        for run in self.shown:
            self.update_cell(run.name, MARK, self._mark(run.name))

    @property
    def shown(self) -> list[RunInfo]:
        return [self.runs_by_name[str(key.value)] for key in self.rows]

    @property
    def runs_by_name(self) -> dict[str, RunInfo]:
        return {run.name: run for run in self.runs}

    @property
    def selected(self) -> RunInfo | None:
        """The run under the cursor, or None when no row is shown."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return self.runs_by_name.get(str(key.value))

    # -- drawing ---------------------------------------------------------------------------------

    def _mark(self, name: str) -> Text:
        colour = self.marks.get(name)
        return Text("●", style=colour) if colour else Text(" ")

    def _rebuild(self) -> None:
        current = self.selected
        self.clear()
        for run in visible_runs(self.runs, self.filter_text, self.sort_key, self.reverse):
            cells = [self._mark(run.name)]
            cells += [Text(column.text(run), justify="right" if column.key in RIGHT else "left") for column in COLUMNS]
            self.add_row(*cells, key=run.name)
        names = [run.name for run in self.shown]
        if current is not None and current.name in names:
            self.move_cursor(row=names.index(current.name), animate=False)
