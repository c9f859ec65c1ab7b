"""The Runs screen (``5`` / ``u`` / F5): every run in a table, several overlaid on one chart.

A learner learns by changing one thing, training again and comparing. Layout::

    ┌ / filter ───────────────────────────────────────────────────────────────┐
    │ ● name            state     preset  steps  best val  best bpb  tokens … │   the runs (RunTable)
    ├─────────────────────────────────────────────────┬───────────────────────┤
    │ val bpb by tokens · smoothed 0.60  ━ a ━ b      │ setting   a      b    │   the overlay | the
    │ ⠈⠢⡀⠤⣀                                          │ lr        3e-3   1e-3  │   config diff
    │ smoothing ━━━━━●──── 0.60   x: tokens  log: off  │                       │
    └─────────────────────────────────────────────────┴───────────────────────┘

* **The table** is fed by the summaries ``runs list`` prints (listed in a thread worker, so the
  screen opens at once); ``s`` sorts by the next column (``S`` reverses), ``/`` filters by words.
* **The overlay.** ``space`` marks the run under the cursor, ``w`` every run of its sweep. A marked
  run's whole history is read in a thread worker, once; a run still training keeps growing, from
  a :class:`~tui_transformer.tui.metrics_tail.MetricsTail` polled every second. ``m`` switches the
  metric, ``x`` the x axis (step, tokens, time), ``l`` the log scale; the slider sets TensorBoard's
  smoothing (see :mod:`tui_transformer.train.smoothing`). The line under the chart names these
  keys and the filter line ``s`` and ``w``, so that the footer has room for the run actions.
* **The config diff** lists only the settings that differ between the marked runs, each run named
  by what tells it apart (``1``, ``2``, ``3`` for one sweep's runs), as the chart's legend does; a
  table when it fits its pane, else a paragraph per run.
* **New runs** (one started from the command line) appear within ``REFRESH_S``: the folder is
  listed again every few seconds, and the whole table only when its runs differ.
* **Told which runs to mark** (:class:`~tui_transformer.tui.messages.MarkRuns`, the Lessons
  screen's ``r``): the folder is listed again, then exactly those runs are marked.
* **Actions** on the run under the cursor: ``o`` makes it the current run and shows it on Train,
  ``g`` in the Playground, ``e`` in Learn (the app does it: see :meth:`DashboardHost.open_run`);
  ``r`` rename, ``n`` note, ``d`` delete (after a confirm). Renaming and deleting a run being
  trained are refused, naming the process (:mod:`tui_transformer.train.run_actions` says why).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Input, Label, Static
from textual.worker import Worker, WorkerState

from tui_transformer.errors import UserError
from tui_transformer.train.run_compare import HistoryFold
from tui_transformer.train.run_state import RunState
from tui_transformer.train.smoothing import MAX_SMOOTHING, METRICS, X_AXES
from tui_transformer.tui.essential_keys import HELP_AND_QUIT
from tui_transformer.tui.footer_fit import fit_footer
from tui_transformer.tui.host import OpenIn
from tui_transformer.tui.messages import MarkRuns
from tui_transformer.tui.metrics_tail import MetricsTail
from tui_transformer.tui.run_labels import shared_prefix, short_names
from tui_transformer.tui.screens.dashboard_screen import DashboardScreen
from tui_transformer.tui.widgets.overlay_chart import ColourBook, OverlayChart, OverlayRun
from tui_transformer.tui.widgets.run_table import COLUMNS, RunTable
from tui_transformer.tui.widgets.slider import Slider
from tui_transformer.tui.worker_errors import error_text, notify_failed

LIST_GROUP, HISTORY_GROUP, ACTION_GROUP, REFRESH_GROUP = "runs-list", "runs-history", "runs-action", "runs-refresh"
LIVE_POLL_S = 1.0  # how often a marked run's metrics file is read for new lines
REFRESH_S = 3.0  # how often the rows of runs in training are read again


@dataclass
class Marked:
    """A marked run: its history so far, the tail that grows it, and its config (None if unreadable)."""

    path: Path
    fold: HistoryFold
    tail: MetricsTail
    config: Any


def load_marked(path: Path) -> Marked:
    """Read a run's whole history and its config (in a thread worker: a long run is megabytes)."""
    from tui_transformer.train.runs import load_run_config

    fold, tail = HistoryFold(), MetricsTail(path / "metrics.jsonl")
    while True:  # a poll reads at most a few MB: read until nothing is left
        events = tail.poll()
        if not events:
            break
        for event in events:
            fold.absorb(event)
    try:
        config = load_run_config(path)
    except UserError:
        config = None
    return Marked(path, fold, tail, config)


def diff_table(configs: dict[str, Any], colours: dict[str, str], width: int) -> Group | Text:
    """The settings that differ between the marked runs, in each run's colour, in ``width`` cells.

    A table when it fits: a column per run (headed by what tells the runs apart, see
    :mod:`tui_transformer.tui.run_labels`), or, for a sweep's few settings over many runs, a row
    per run. When it does not fit, a list per run: cut columns (``po… p… a…``) say nothing.
    """
    from tui_transformer.train.run_compare import config_diff

    readable = {name: config for name, config in configs.items() if config is not None}
    if len(readable) < 2:
        return Text("mark two or more runs (space) to see the settings that differ", style="dim")
    diff = {key.removeprefix("model."): values for key, values in config_diff(readable).items()}
    if not diff:
        return Text("the marked runs' settings are identical", style="dim")
    names = list(readable)
    labels = {name: Text(label, style=f"bold {colours.get(name, '')}") for name, label in short_names(names).items()}
    shared = shared_prefix(names)
    title = "settings that differ" + (f" · {shared}*" if shared else "")
    values = {key: {name: _shown(value) for name, value in by_run.items()} for key, by_run in diff.items()}
    if len(diff) <= len(readable):  # a sweep: few settings, many runs; a row per run
        table, cells = _diff_by_run(values, labels)
    else:
        table, cells = _diff_by_setting(values, labels)
    if sum(max(len(cell) for cell in column) + 2 for column in cells) <= width:
        return Group(Text(title, style="bold"), table)
    return _diff_by_list(values, labels, title)


def _diff_by_setting(values: dict[str, dict[str, str]], labels: dict[str, Text]) -> tuple[Table, list]:
    """A row per setting, a column per run; also each column's cells, to measure it."""
    table = Table(box=None, padding=(0, 1))
    table.add_column("setting", style="dim", no_wrap=True)
    for label in labels.values():
        table.add_column(label, no_wrap=True)
    for key, by_run in values.items():
        table.add_row(key, *(by_run[name] for name in labels))
    cells = [["setting", *values]] + [[label.plain, *(by_run[name] for by_run in values.values())]
                                      for name, label in labels.items()]
    return table, cells


def _diff_by_run(values: dict[str, dict[str, str]], labels: dict[str, Text]) -> tuple[Table, list]:
    """The same diff turned round: a row per run, a column per setting that differs."""
    table = Table(box=None, padding=(0, 1))
    table.add_column("run", no_wrap=True)
    for key in values:
        table.add_column(key, style="bold", no_wrap=True)
    for name, label in labels.items():
        table.add_row(label, *(values[key][name] for key in values))
    cells = [["run", *(label.plain for label in labels.values())]]
    cells += [[key, *by_run.values()] for key, by_run in values.items()]
    return table, cells


def _diff_by_list(values: dict[str, dict[str, str]], labels: dict[str, Text], title: str) -> Text:
    """A paragraph per run (its label in its colour, then ``setting value`` pairs): readable at any width."""
    text = Text(title, style="bold")
    for name, label in labels.items():
        text.append("\n").append_text(label).append("  ")
        text.append(" · ".join(f"{key} {by_run[name]}" for key, by_run in values.items()))
    return text


def _shown(value: Any) -> str:
    return "-" if value is None else str(value)


class RunsScreen(DashboardScreen):
    """Compare runs (see the module docstring)."""

    MODE = "runs"

    DEFAULT_CSS = """
    RunsScreen #runs-filter { height: 1; border: none; padding: 0 1; }
    RunsScreen #runs-table { height: 2fr; min-height: 5; }
    RunsScreen #runs-bottom { height: 3fr; border-top: solid $panel; }
    RunsScreen #runs-plot { width: 2fr; }
    RunsScreen #runs-controls { height: 1; padding: 0 1; }
    RunsScreen #runs-controls Label { width: auto; margin-right: 1; }
    RunsScreen #runs-smoothing { width: 1fr; max-width: 30; margin-right: 2; }
    RunsScreen #runs-axes { width: auto; color: $text-muted; }
    RunsScreen #runs-diff { width: 1fr; min-width: 24; border-left: solid $panel; padding: 0 1; overflow-y: auto; }
    RunsScreen.-narrow #runs-plot { width: 1fr; }  /* 80 columns: the diff gets half, room for two runs */
    RunsScreen.-narrow #runs-axes { display: none; }  /* the chart's title says the metric, axis and log */
    RunsScreen.-narrow #runs-table { height: 1fr; }
    """

    BINDINGS = [
        Binding("space", "mark", "Mark"),
        *HELP_AND_QUIT,
        # the filter line names w and s, the chart's controls line m, x and l: the footer keeps the actions
        Binding("w", "mark_sweep", "Sweep", show=False),
        Binding("m", "next_metric", "Metric", show=False),
        Binding("x", "next_axis", "X axis", show=False),
        Binding("l", "toggle_log", "Log scale", show=False),
        Binding("s", "next_sort", "Sort", show=False),
        Binding("S", "reverse_sort", "Reverse", show=False),
        Binding("slash", "filter", "Filter", key_display="/", show=False),  # the filter field says "/ to filter"
        Binding("o", "open_train", "Train"),
        Binding("g", "open_playground", "Playground"),
        Binding("e", "open_learn", "Learn"),
        Binding("r", "rename", "Rename"),
        Binding("n", "note", "Note"),
        Binding("d", "delete", "Delete"),
        Binding("delete", "delete", "Delete", show=False),
        Binding("escape", "leave_filter", "Table", show=False),
    ]

    def __init__(self, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.marked: dict[str, Marked] = {}
        self.colours = ColourBook()
        self._loading: set[str] = set()  # runs whose history a worker is reading
        self._to_mark: tuple[str, ...] | None = None  # runs to mark once the folder is listed (MarkRuns)

    def compose(self) -> ComposeResult:
        yield Header()
        yield self.tab_bar()
        yield Input(placeholder="s sort · w mark a sweep · / filter: words of a name, state, preset, data, sweep or note",
                    id="runs-filter")
        yield RunTable(id="runs-table")
        with Horizontal(id="runs-bottom"):
            with Vertical(id="runs-plot"):
                yield OverlayChart(id="runs-chart")
                with Horizontal(id="runs-controls"):
                    yield Label("smoothing")
                    yield Slider(0.6, minimum=0.0, maximum=MAX_SMOOTHING, step=0.01, id="runs-smoothing")
                    yield Static(id="runs-axes")
            yield Static(id="runs-diff")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(RunTable).focus()
        self._show_axes()
        self._show_diff()
        self.set_interval(LIVE_POLL_S, self.poll_live)
        self.set_interval(REFRESH_S, self.refresh_running)

    def on_screen_resume(self) -> None:
        self.list_runs()  # a run trained or renamed since the last visit

    def on_mark_runs(self, message: MarkRuns) -> None:
        self._to_mark = message.names
        self.list_runs()  # the runs may be newer than the table

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_width)  # once the breakpoint's class (-narrow) is set

    def _fit_width(self) -> None:
        """80 columns: a compact footer keeps every action in sight (:mod:`tui_transformer.tui.footer_fit`),
        and the diff chooses again between a table and a list for its pane's width."""
        fit_footer(self)
        self._show_diff()

    # ---- the table ------------------------------------------------------------------------------

    @property
    def table(self) -> RunTable:
        return self.query_one(RunTable)

    @property
    def chart(self) -> OverlayChart:
        return self.query_one(OverlayChart)

    def list_runs(self) -> Worker:
        return self._list_runs()

    @work(thread=True, exclusive=True, group=LIST_GROUP, exit_on_error=False)
    def _list_runs(self) -> list:
        from tui_transformer.train.runs import list_runs

        return list_runs()

    def refresh_running(self) -> None:
        """Every few seconds: list the whole table again if a run appeared or went (started from the
        command line, deleted elsewhere), else read only the rows of the runs in training (their steps,
        tokens and evals move). Either costs one directory listing plus those rows' files."""
        running = [run.path for run in self.table.runs if run.state is RunState.RUNNING]
        self._refresh_rows(running, {run.name for run in self.table.runs})

    @work(thread=True, exclusive=True, group=REFRESH_GROUP, exit_on_error=False)
    def _refresh_rows(self, paths: list[Path], shown: set[str]) -> list | None:
        """The running rows read again, or None when the folder's runs differ from ``shown``."""
        from tui_transformer.train.runs import run_info, run_paths

        if {path.name for path in run_paths()} != shown:
            return None
        return [run_info(path) for path in paths if path.is_dir()]

    def action_next_sort(self) -> None:
        keys = [column.key for column in COLUMNS]
        current = self.table.sort_key
        key = keys[(keys.index(current) + 1) % len(keys)] if current in keys else keys[0]
        self.table.sort_by(key)

    def action_reverse_sort(self) -> None:
        if self.table.sort_key is not None:
            self.table.sort_by(self.table.sort_key)

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        if str(event.column_key.value) in {column.key for column in COLUMNS}:
            self.table.sort_by(str(event.column_key.value))

    def action_filter(self) -> None:
        self.query_one("#runs-filter", Input).focus()

    def action_leave_filter(self) -> None:
        self.table.focus()

    @on(Input.Changed, "#runs-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.filter(event.value)

    @on(Input.Submitted, "#runs-filter")
    def _filter_done(self) -> None:
        self.table.focus()

    # ---- marking and the overlay ------------------------------------------------------------------

    def action_mark(self) -> None:
        run = self.table.selected
        if run is None:
            return
        if run.name in self.marked or run.name in self._loading:
            self.unmark([run.name])
        else:
            self.mark([run])

    def action_mark_sweep(self) -> None:
        """Mark every run of the selected run's sweep (or unmark them, when all already are)."""
        run = self.table.selected
        if run is None:
            return
        if run.sweep is None:
            self.notify(f"{run.name} is not part of a sweep", severity="warning")
            return
        # by name: <sweep>-1, <sweep>-2... is the sweep's own order, and so the colours' order
        members = sorted((other for other in self.table.runs if other.sweep == run.sweep), key=lambda r: r.name)
        if all(member.name in self.marked for member in members):
            self.unmark([member.name for member in members])
        else:
            self.mark([member for member in members if member.name not in self.marked])
            self.notify(f"sweep {run.sweep}: {len(members)} runs marked")

    def mark(self, runs: list) -> None:
        for run in runs:
            self.colours.colour(run.name)  # the colour is taken now: the order of marking decides it
            self._loading.add(run.name)
            self._load_history(run.name, run.path)
        self._marks_changed()

    def _mark_only(self, names: tuple[str, ...]) -> None:
        """Mark the listed runs called ``names``, in that order (their colours follow it), and unmark every other."""
        self.unmark([name for name in [*self.marked, *self._loading] if name not in names])
        listed = self.table.runs_by_name
        self.mark([listed[name] for name in names if name in listed and name not in self.marked
                   and name not in self._loading])

    def unmark(self, names: list[str]) -> None:
        for name in names:
            self.marked.pop(name, None)
            self._loading.discard(name)
            self.colours.release(name)
        self._marks_changed()

    @work(thread=True, group=HISTORY_GROUP, exit_on_error=False)
    def _load_history(self, name: str, path: Path) -> tuple[str, Marked | None, BaseException | None]:
        try:
            return name, load_marked(path), None
        except Exception as error:  # returned, not raised: the handler must know which run failed
            return name, None, error

    def _marks_changed(self) -> None:
        names = [name for name in self.table.runs_by_name if name in self.marked or name in self._loading]
        self.table.set_marks({name: self.colours.colour(name) for name in names})
        # in the order they were marked, whichever history finished loading first
        order = sorted(self.marked, key=self.colours.slot)
        self.chart.set_runs([OverlayRun(name, self.marked[name].fold, self.colours.colour(name)) for name in order])
        self._show_diff()

    def _show_diff(self) -> None:
        configs = {name: self.marked[name].config for name in sorted(self.marked, key=self.colours.slot)}
        colours = {name: self.colours.colour(name) for name in self.marked}
        pane = self.query_one("#runs-diff", Static)
        pane.update(diff_table(configs, colours, pane.content_size.width))

    def poll_live(self) -> None:
        """Fold in what the marked runs appended since the last poll (a run in training grows)."""
        grew = False
        for marked in self.marked.values():
            for event in marked.tail.poll():
                marked.fold.absorb(event)
                grew = True
        if grew:
            self.chart.data_changed()

    def action_next_metric(self) -> None:
        self.chart.metric = _next(list(METRICS), self.chart.metric)
        self._show_axes()

    def action_next_axis(self) -> None:
        self.chart.x_axis = _next(list(X_AXES), self.chart.x_axis)
        self._show_axes()

    def action_toggle_log(self) -> None:
        self.chart.log = not self.chart.log
        self._show_axes()

    @on(Slider.Changed, "#runs-smoothing")
    def _smoothing_changed(self, event: Slider.Changed) -> None:
        self.chart.smoothing = event.value

    def _show_axes(self) -> None:
        chart = self.chart
        self.query_one("#runs-axes", Static).update(
            f"m {METRICS[chart.metric]} · x {chart.x_axis} · l log {'on' if chart.log else 'off'}")

    # ---- actions on the selected run --------------------------------------------------------------

    def _selected_or_say(self):
        run = self.table.selected
        if run is None:
            self.notify("no run selected", severity="warning")
        return run

    def action_open_train(self) -> None:
        self._open_in("train")

    def action_open_playground(self) -> None:
        self._open_in("playground")

    def action_open_learn(self) -> None:
        self._open_in("learn")

    def _open_in(self, mode: OpenIn) -> None:
        """Make the selected run the current run and show it on ``mode`` (the Playground and Learn need a checkpoint)."""
        from tui_transformer.train.runs import has_checkpoint

        run = self._selected_or_say()
        if run is None:
            return
        if mode != "train" and not has_checkpoint(run.path):
            self.notify(f"{run.name} has no checkpoint yet to load", severity="warning")
            return
        self.host.open_run(run.path, mode)

    def action_rename(self) -> None:
        from tui_transformer.train.run_actions import rename_run
        from tui_transformer.tui.screens.text_prompt import TextPromptScreen

        run = self._selected_or_say()
        if run is None:
            return

        def answered(name: str | None) -> None:
            if name is not None and name.strip() and name.strip() != run.name:
                new = name.strip()
                self._act(f"renamed {run.name} to {new}", lambda: rename_run(run.path, new),
                          lambda: self._renamed(run.path, new))

        self.app.push_screen(TextPromptScreen(f"Rename [b]{run.name}[/b] to:", run.name), answered)

    def _renamed(self, path: Path, new: str) -> None:
        self.host.run_renamed(path, path.with_name(new))  # the current run, if it was this one, follows
        old = path.name
        if old in self.marked:
            marked = self.marked.pop(old)
            marked.path = marked.path.with_name(new)
            marked.tail.path = marked.path / "metrics.jsonl"
            self.marked[new] = marked
            self.colours.rename(old, new)

    def action_note(self) -> None:
        from tui_transformer.train.run_actions import set_note
        from tui_transformer.tui.screens.text_prompt import TextPromptScreen

        run = self._selected_or_say()
        if run is None:
            return

        def answered(text: str | None) -> None:
            if text is not None:
                self._act(f"noted on {run.name}", lambda: set_note(run.path, text))

        self.app.push_screen(TextPromptScreen(f"A one-line note on [b]{run.name}[/b] (empty removes it):", run.note),
                             answered)

    def action_delete(self) -> None:
        from tui_transformer.train.run_actions import delete_run
        from tui_transformer.train.run_lock import busy_message, training_pid
        from tui_transformer.tui.screens.confirm import ConfirmScreen

        run = self._selected_or_say()
        if run is None:
            return
        pid = training_pid(run.path)
        if pid is not None:  # said at once; delete_run would refuse too (the run's lock)
            self.notify(busy_message(run.path, pid), title="Not deleted", severity="error")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.unmark([run.name])
                self._act(f"deleted {run.name}", lambda: delete_run(run.path))

        self.app.push_screen(ConfirmScreen(f"Delete run {run.name} ({run.label}, step {run.last_step:,}) with its "
                                           "checkpoints? This cannot be undone.", yes="Delete", no="Keep"), answered)

    def _act(self, done: str, action: Callable[[], Any], then: Callable[[], None] | None = None) -> Worker:
        """Run a file action off the UI thread (taking a run's lock may wait a second); then list again."""
        return self._action_worker(done, action, then)

    @work(thread=True, group=ACTION_GROUP, exit_on_error=False)
    def _action_worker(self, done: str, action: Callable[[], Any], then: Callable[[], None] | None) -> tuple:
        action()
        return done, then

    # ---- workers' results ------------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker, group = event.worker, event.worker.group
        if event.state is WorkerState.ERROR:
            self._worker_failed(worker)
        elif event.state is not WorkerState.SUCCESS:
            return
        elif group == LIST_GROUP:
            self.table.show(worker.result)
            self._marks_changed()
            if self._to_mark is not None:
                self._mark_only(self._to_mark)
                self._to_mark = None
        elif group == REFRESH_GROUP and worker.result is None:
            self.list_runs()
        elif group == REFRESH_GROUP:
            fresh = {info.name: info for info in worker.result}
            self.table.show([fresh.get(run.name, run) for run in self.table.runs])
        elif group == HISTORY_GROUP:
            name, marked, error = worker.result
            if name not in self._loading:  # unmarked while it loaded
                return
            self._loading.discard(name)
            if marked is None:
                self.colours.release(name)
                notify_failed(self, f"reading {name}", error)
            else:
                self.marked[name] = marked
            self._marks_changed()
        elif group == ACTION_GROUP:
            done, then = worker.result
            if then is not None:
                then()
            self.notify(done)
            self.list_runs()

    def _worker_failed(self, worker: Worker) -> None:
        if worker.group == ACTION_GROUP:
            self.notify(error_text(worker.error), title="Not done", severity="error")
            self.list_runs()
        else:
            notify_failed(self, "listing the runs", worker.error)


def _next(options: list[str], current: str) -> str:
    """The option after ``current``, round the end."""
    return options[(options.index(current) + 1) % len(options)] if current in options else options[0]
