"""The Lessons screen (``6`` / F6): experiments that each answer one question with the learner's own runs.

A lesson (:mod:`tui_transformer.lessons`) is a question, what to expect, a few runs that differ in
one thing, and a verdict read from what those runs logged. Layout::

    ┌ the lessons ─────────────┬ the selected lesson ─────────────────────────────┐
    │ Induction heads          │ Induction heads                                   │
    │   done · 5 min           │ Can a transformer learn ... ?                     │
    │ Positional encodings     │ What to expect  ...                               │
    │   not started · ? min    │ Runs            ✓ induction-seed0  done  3.95 ... │
    │ ...                      │ Verdict         an induction head formed ...      │
    └──────────────────────────┴───────────────────────────────────────────────────┘

* **Starting** (``s`` or ``enter``): a lesson's runs are a sweep named after it. The screen asks
  the app to train that sweep (:meth:`DashboardHost.start_sweep`) in the one training worker the
  Train screen uses too, so only one thing trains at a time (asked while something else trains,
  it says so and starts nothing), each run becomes the current run as it trains, and the Train
  screen draws its curves. A stopped lesson continues where it stopped, as ``lesson run`` does.
* **While it trains**, the runs' rows follow the session's queue
  (:class:`~tui_transformer.tui.sweep_progress.SweepProgress`): which run, at which step.
* **When it ends** (the app passes on :class:`~tui_transformer.tui.messages.TrainingEnded`), the
  runs are read again and the verdict is shown here and in a notification.
* ``v`` reads the files again (a lesson run from the command line), ``o`` opens the lesson's Learn
  page (on the run its verdict names: the induction lesson opens Circuits on its best run), ``r``
  shows its runs overlaid on the Runs screen (:meth:`DashboardHost.compare_runs`).

Reading a lesson's runs reads their ``metrics.jsonl`` files, so it happens in a thread worker, for
every lesson at once: moving through the list then costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Header, OptionList, Static
from textual.worker import Worker, WorkerState

from tui_transformer.errors import UserError
from tui_transformer.lessons.registry import LESSONS
from tui_transformer.lessons.runner import DONE, NOT_STARTED, PARTLY_RUN
from tui_transformer.train.run_state import RunState
from tui_transformer.tui.essential_keys import HELP_AND_QUIT
from tui_transformer.tui.footer_fit import fit_footer
from tui_transformer.tui.messages import OpenLearnPage, TrainingEnded
from tui_transformer.tui.screens.dashboard_screen import DashboardScreen
from tui_transformer.tui.sweep_progress import WAITING, SweepProgress
from tui_transformer.tui.widgets.verdict_chart import VerdictChart
from tui_transformer.tui.worker_errors import notify_failed

if TYPE_CHECKING:
    from tui_transformer.lessons.lesson import Lesson
    from tui_transformer.lessons.verdict import Verdict

READ_GROUP = "lessons-read"
PROGRESS_S = 0.5  # how often the rows of a lesson in training are redrawn from its queue
WAITING_ROW = "not started"
TRAINING = "training"


@dataclass(frozen=True)
class RunRow:
    """One run of a lesson, as its files tell it (``state`` is ``runs list``'s words, or "not started")."""

    label: str
    name: str
    state: str
    steps: int | None = None
    best_val_bpb: float | None = None


@dataclass(frozen=True)
class LessonView:
    """What the files say of one lesson: its state, each of its runs, and its verdict (None before it starts)."""

    state: str
    runs: tuple[RunRow, ...]
    verdict: Verdict | None
    unavailable: str | None = None


def read_lesson(lesson: Lesson) -> LessonView:
    """Read a lesson's runs and verdict (in a thread worker: it reads every run's metrics)."""
    from tui_transformer.lessons.runner import lesson_plan, lesson_runs, lesson_state
    from tui_transformer.lessons.verdict import Verdict

    why_not = lesson.unavailable()
    if why_not:
        return LessonView(NOT_STARTED, (), None, why_not)
    plan, runs = lesson_plan(lesson), lesson_runs(lesson)
    records = runs.by_label()
    rows = []
    for index, label in enumerate(plan.labels or ()):
        record = records.get(label)
        rows.append(RunRow(label, plan.run_name(index), WAITING_ROW) if record is None else
                    RunRow(label, record.name, record.state, record.summary.get("steps"),
                           record.summary.get("best_val_bpb")))
    state = lesson_state(lesson, runs=runs)
    verdict = None
    if state != NOT_STARTED:
        try:
            verdict = lesson.verdict(runs)
        except Exception as error:  # one lesson's odd files must not hide the others (shown in its place)
            verdict = Verdict(lesson.name, None, f"its verdict could not be read: {type(error).__name__}: {error}")
    return LessonView(state, tuple(rows), verdict)


def read_lessons(lessons: tuple[Lesson, ...]) -> dict[str, LessonView]:
    return {lesson.name: read_lesson(lesson) for lesson in lessons}


def minutes_text(lesson: Lesson) -> str:
    return f"{lesson.minutes:g} min" if lesson.minutes is not None else "? min"


def lesson_prompt(lesson: Lesson, view: LessonView | None, live: SweepProgress | None) -> Text:
    """The list's entry: the title, then the state and the minutes (or where its training is)."""
    text = Text(lesson.title, style="bold")
    if live is not None:
        text.append(f"\n  {TRAINING} · run {_running_number(live)}/{len(live.runs)}", style="bold green")
    elif view is not None and view.unavailable:
        text.append("\n  unavailable", style="red")
    else:
        state = view.state if view is not None else "…"
        text.append(f"\n  {state} · {minutes_text(lesson)}", style="dim")
    return text


def _running_number(live: SweepProgress) -> int:
    return (live.current + 1) if live.current is not None else 1


def run_rows(view: LessonView, live: SweepProgress | None) -> list[tuple[str, str, str, str]]:
    """``(mark, run, state, best val bpb)`` per run: the files' word, or, while it trains, the queue's."""
    rows = []
    for index, row in enumerate(view.runs):
        queued = live.runs[index] if live is not None and index < len(live.runs) else None
        if queued is not None and queued.state != WAITING:
            state, steps, bpb = str(queued.state), queued.step or row.steps, queued.best_val_bpb
            if queued.state == RunState.RUNNING:
                state = f"running · step {queued.step:,}" if queued.step else "running · setting up"
            elif queued.state == RunState.FINISHED:
                state = "done"
        else:
            state, steps, bpb = row.state, row.steps, row.best_val_bpb
            if steps and state != WAITING_ROW:
                state = f"{state} at step {steps:,}"
        rows.append((_mark(state), row.name, state, f"{bpb:.3f}" if bpb is not None else ""))
    return rows


def _mark(state: str) -> str:
    """The queue's marks (:mod:`tui_transformer.tui.widgets.sweep_queue`): ▶ running, ✓ done, · waiting, ✗ failed, ■ stopped."""
    for start, mark in (("running", "▶"), ("finished", "✓"), ("done", "✓"), (WAITING_ROW, "·"), ("failed", "✗")):
        if state.startswith(start):
            return mark
    return "■"


def verdict_text(verdict: Verdict) -> Group:
    """The headline (green when the runs showed the effect, yellow when not), one line a finding, its charts,
    what to try."""
    style = {True: "bold green", False: "bold yellow"}.get(verdict.shown, "bold")
    parts: list = [Text(verdict.headline, style=style)]
    parts += [Text(f"• {line}") for line in verdict.lines]
    for chart in verdict.charts:
        parts += [Text(""), VerdictChart(chart)]
    if verdict.try_next:
        parts.append(Text.assemble(("try next: ", "bold"), verdict.try_next))
    if verdict.open_page:
        where = f" on {verdict.open_run}" if verdict.open_run else ""
        parts.append(Text(f"o opens {verdict.open_page}{where}", style="dim"))
    return Group(*parts)


def lesson_detail(lesson: Lesson, view: LessonView | None, live: SweepProgress | None) -> Group:
    """The selected lesson: its question, what to expect, its runs and their states, and its verdict."""
    parts: list = [Text(lesson.title, style="bold"), Text(lesson.question, style="italic")]
    expect = [Text(""), Text("What to expect", style="bold"), Text(lesson.expect)]
    if view is not None and view.unavailable:
        parts += [Text(""), Text(f"Not available: {view.unavailable}", style="bold red")]
    if view is None:
        return Group(*parts, *expect, Text(""), Text("reading its runs…", style="dim"))
    if view.verdict is not None:  # first: at 80x24 it is what a learner came back for
        parts += [Text(""), Text("Verdict", style="bold"), verdict_text(view.verdict)]
    if view.runs:
        state = TRAINING if live is not None else view.state
        rows = run_rows(view, live)
        legend = " · bpb: best val bits per byte" if any(bpb for *_, bpb in rows) else ""
        parts += [Text(""), Text.assemble(("Runs", "bold"), (f" · {state} · {minutes_text(lesson)}{legend}", "dim"))]
        table = Table(box=None, padding=(0, 1, 0, 0), show_header=False, expand=True)
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column(ratio=1, overflow="fold")
        table.add_column(justify="right", no_wrap=True)
        for mark, name, state_text, bpb in rows:
            table.add_row(mark, name, state_text, bpb)
        parts.append(table)
    start = ("x stops it · " if live is not None
             else {NOT_STARTED: "s starts it · ", PARTLY_RUN: "s continues it · "}.get(view.state, ""))
    return Group(*parts, *expect, Text(""), Text(f"{start}v reads the verdict again · o Learn: {lesson.learn} · "
                                                 "r overlay on Runs", style="dim"))


class LessonsScreen(DashboardScreen):
    """The lessons and the selected one (see the module docstring)."""

    MODE = "lessons"

    DEFAULT_CSS = """
    LessonsScreen #lessons-body { height: 1fr; }
    LessonsScreen #lessons-list { width: 34; height: 1fr; border-right: tall $panel; }
    LessonsScreen #lesson-scroll { width: 1fr; height: 1fr; padding: 0 1; }
    LessonsScreen.-narrow #lessons-list { width: 28; }
    """

    BINDINGS = [
        Binding("s", "start", "Start"),
        *HELP_AND_QUIT,
        Binding("v", "verdict", "Verdict"),
        Binding("o", "open_learn", "Learn"),
        Binding("r", "show_runs", "Runs"),
        Binding("x", "stop", "Stop"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.lessons: tuple[Lesson, ...] = LESSONS
        self.views: dict[str, LessonView] = {}
        self._announce: str | None = None  # the lesson whose verdict to notify once its runs are read
        self._started: str | None = None  # the lesson this screen started, until its training ends
        self._drawn: tuple | None = None  # what the progress redraw drew last

    def compose(self) -> ComposeResult:
        yield Header()
        yield self.tab_bar()
        with Horizontal(id="lessons-body"):
            yield OptionList(*(lesson_prompt(lesson, None, None) for lesson in self.lessons), id="lessons-list")
            with VerticalScroll(id="lesson-scroll"):
                yield Static(id="lesson-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.lesson_list.highlighted = 0
        self.lesson_list.focus()
        self.set_interval(PROGRESS_S, self.show_progress)

    def on_screen_resume(self) -> None:
        self.read()  # a lesson run from the command line, or one of its runs deleted, since the last visit

    def on_resize(self) -> None:
        self.call_after_refresh(fit_footer, self)

    @property
    def lesson_list(self) -> OptionList:
        return self.query_one("#lessons-list", OptionList)

    @property
    def selected(self) -> Lesson:
        return self.lessons[self.lesson_list.highlighted or 0]

    # ---- reading and drawing ----------------------------------------------------------------------

    def read(self) -> Worker:
        return self._read(self.lessons)

    @work(thread=True, exclusive=True, group=READ_GROUP, exit_on_error=False)
    def _read(self, lessons: tuple[Lesson, ...]) -> dict[str, LessonView]:
        return read_lessons(lessons)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != READ_GROUP:
            return
        if event.state is WorkerState.ERROR:
            notify_failed(self, "reading the lessons", event.worker.error)
        elif event.state is WorkerState.SUCCESS:
            self.views = event.worker.result
            self._drawn = None
            self.show_all()
            self._announce_verdict()

    def _live(self, lesson: Lesson) -> SweepProgress | None:
        """The queue of ``lesson`` while the app's training worker trains it, else None."""
        session = self.host.training
        if (self.host.training_active and session is not None and session.sweep is not None
                and session.sweep.name == lesson.name):
            return session.progress
        return None

    def show_all(self) -> None:
        self.refresh_bindings()  # x (stop) is shown while a lesson trains
        for index, lesson in enumerate(self.lessons):
            self.lesson_list.replace_option_prompt_at_index(
                index, lesson_prompt(lesson, self.views.get(lesson.name), self._live(lesson)))
        self.show_selected()

    def show_selected(self) -> None:
        lesson = self.selected
        self.query_one("#lesson-detail", Static).update(
            lesson_detail(lesson, self.views.get(lesson.name), self._live(lesson)))

    def show_progress(self) -> None:
        """The timer: while a lesson trains, redraw what moved (its entry and, when selected, its runs)."""
        training = next((lesson for lesson in self.lessons if self._live(lesson) is not None), None)
        live = self._live(training) if training is not None else None
        drawn = (training, live.version if live else None, live.runs[live.current].step
                 if live is not None and live.current is not None else None, self.lesson_list.highlighted)
        if drawn == self._drawn or (training is None and self._drawn is None):
            return
        self._drawn = drawn
        self.show_all()

    @on(OptionList.OptionHighlighted, "#lessons-list")
    def _highlighted(self) -> None:
        self.show_selected()

    @on(OptionList.OptionSelected, "#lessons-list")
    def _chosen(self) -> None:
        self.action_start()

    # ---- the keys -------------------------------------------------------------------------------

    def action_start(self) -> None:
        """Train the selected lesson's runs that are not finished, through the app's training worker."""
        from tui_transformer.lessons.runner import lesson_sweep

        lesson = self.selected
        view = self.views.get(lesson.name)
        why_not = lesson.unavailable()
        if why_not:
            self.notify(f"{lesson.title} cannot run yet: {why_not}", title="Not started", severity="error")
            return
        if self._live(lesson) is not None:
            self.notify(f"{lesson.title} is training: its curves are on Train (1), x stops it")
            return
        if self.host.training_active:
            self.notify("a run is training here: stop it first (x on Train)", title="Not started", severity="warning")
            return
        if view is not None and view.state == DONE:
            self.notify(f"{lesson.title} is done: its verdict is below", title="Nothing to train")
            return
        try:
            plan = lesson_sweep(lesson)
        except UserError as error:
            self.notify(str(error), title="Not started", severity="error")
            return
        self._started = lesson.name
        self.host.start_sweep(plan)
        self.notify(f"{lesson.title}: {len(plan.configs)} runs; their curves are on Train (1)", title="Lesson started")
        self.show_all()

    def on_training_ended(self, message: TrainingEnded) -> None:
        """The training worker ended: if it trained the lesson started here, read its runs and say the verdict."""
        if self._started is not None:
            self._announce, self._started = self._started, None
            self.read()

    def _announce_verdict(self) -> None:
        lesson = next((lesson for lesson in self.lessons if lesson.name == self._announce), None)
        self._announce = None
        view = self.views.get(lesson.name) if lesson is not None else None
        if lesson is None or view is None:
            return
        if view.state != DONE:
            self.notify(f"{lesson.title} stopped before its end: s continues it", title="Lesson stopped",
                        severity="warning")
        elif view.verdict is not None:
            self.notify(view.verdict.headline, title=f"{lesson.title}: verdict", timeout=15,
                        severity="information" if view.verdict.shown else "warning")

    def action_verdict(self) -> None:
        self.read()
        self.notify(f"reading the runs of {self.selected.title}…", timeout=2)

    def action_open_learn(self) -> None:
        """The lesson's Learn page; on the run its verdict names, if it names one (made your run, or pinned)."""
        lesson = self.selected
        view = self.views.get(lesson.name)
        verdict = view.verdict if view is not None else None
        page = (verdict.open_page if verdict is not None else None) or lesson.learn
        if verdict is not None and verdict.open_run and not self.host.open_run(verdict.open_run, "learn"):
            return
        self.post_message(OpenLearnPage(page))

    def action_show_runs(self) -> None:
        view = self.views.get(self.selected.name)
        started = [row.name for row in view.runs if row.state != WAITING_ROW] if view is not None else []
        if self._live(self.selected) is not None:  # the one training now may not have been read yet
            started = [run.name for run in self._live(self.selected).runs if run.state != WAITING] or started
        if not started:
            self.notify(f"{self.selected.title} has no runs yet: s starts it", severity="warning")
            return
        self.host.compare_runs(started)

    def action_stop(self) -> None:
        self.host.stop_training()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return any(self._live(lesson) is not None for lesson in self.lessons)
        return True
