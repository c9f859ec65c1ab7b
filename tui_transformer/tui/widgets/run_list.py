"""Pick a run: the runs folder, listed off the UI thread, in a Select or an OptionList.

Four places let the learner pick a run: the Playground (a checkpoint to generate from), Learn (a
run to explain), the Benchmark (a run's dims to measure) and the run picker dialog (a run to
follow or resume). They share what this module does:

* **listing**: :func:`~tui_transformer.train.runs.list_runs` reads every run's ``metrics.jsonl``,
  which takes a moment with many long runs, so it runs in a thread worker, together with the
  owner's ``options_of(runs)``, which turns the runs into ``(label, value)`` options (it may look
  at checkpoint files, so it belongs off the UI thread too);
* **keeping the choice**: listing again (a run trained since the last visit) keeps what the
  learner picked while it is still listed, and says nothing about it: there is nothing to reload;
* **following the current run** (:func:`preferred_value`, :mod:`tui_transformer.tui.run_pin`): the
  Playground and Learn show the app's current run, else the newest run, unless the learner pinned
  another; their picker offers "your run" first, which follows the current run again;
* **loading** (:class:`RunSelect` with a ``load`` function): picking an option runs ``load(value)``
  in another thread worker; its result comes back in :class:`RunSelect.Loaded`.

Each listing ends with a :class:`~tui_transformer.tui.messages.RunsListed` message, a failure
included (an unreadable runs folder), so the owner can react (Learn picks the newest run on its
own; the dialog moves the focus to its path field).

The workers belong to the widget, and ``Worker.StateChanged`` does not bubble, so the widget
handles its own failures. Textual calls a handler of every class in the MRO, which is how
:class:`RunListing` sees the listing worker and :class:`RunSelect` the loading one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from textual import on, work
from textual.message import Message
from textual.widgets import OptionList, Select
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from tui_transformer.tui.messages import RunsListed
from tui_transformer.tui.worker_errors import error_text, notify_failed

if TYPE_CHECKING:
    from tui_transformer.train.runs import RunInfo

RunOption = tuple[str, str]  # (label shown, value: a run directory, a checkpoint, "preset:tiny"...)
OptionsOf = Callable[["list[RunInfo]"], list[RunOption]]
YOUR_RUN = "@your-run"  # the picker's value for "follow the current run", whichever it is
YOUR_RUN_LABEL = "↺ your run (follows the current run)"

LIST_GROUP, LOAD_GROUP = "run-list", "run-load"


def value_of(options: list[RunOption], run_dir: Path | None) -> str | None:
    """The first option of ``run_dir`` (a run's newest checkpoint is listed first); None if it has none."""
    if run_dir is not None:
        for _label, value in options:
            if Path(value) == run_dir or run_dir in Path(value).parents:
                return value
    return None


def preferred_value(options: list[RunOption], run_dir: Path | None) -> str | None:
    """The option a screen loads by itself: the first one of ``run_dir``, else the first listed (the
    newest run); None when nothing is listed."""
    chosen = value_of(options, run_dir)
    if chosen is None and options:
        return options[0][1]
    return chosen


class RunListing:
    """The part both pickers share (mixed into a widget): list the runs, show them, keep the choice.

    The widget provides ``options_of``, ``show_runs(options)`` (show them, keeping the current
    choice if it is still among them) and ``show_listing_error(error)``.
    """

    options_of: OptionsOf
    show_runs: Callable[[list[RunOption]], None]
    show_listing_error: Callable[[BaseException | None], None]

    def refresh_runs(self) -> None:
        """List the runs folder again, in a thread worker; the options change when it is done."""
        self._list_runs()

    @work(thread=True, exclusive=True, group=LIST_GROUP, exit_on_error=False)
    def _list_runs(self) -> list[RunOption]:
        from tui_transformer.train.runs import list_runs

        return self.options_of(list_runs())

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != LIST_GROUP:
            return
        if event.state is WorkerState.SUCCESS:
            options = worker.result or []
            self.show_runs(options)
            self.post_message(RunsListed(options))
        elif event.state is WorkerState.ERROR:
            self.show_listing_error(worker.error)
            self.post_message(RunsListed([], worker.error))


class RunSelect(RunListing, Select[str]):
    """A Select of runs (``options_of`` decides which, and what else is offered); ``load`` loads a pick.

    ``empty_prompt`` replaces the prompt while nothing is listed ("no checkpoints yet"). ``your_run``:
    offer :data:`YOUR_RUN` first (its owner turns it into the current run's option; it loads nothing).
    """

    @dataclass
    class Loaded(Message):
        """``load(value)`` returned ``loaded`` (the model and what goes with it)."""

        select: RunSelect
        value: str
        loaded: Any

        @property
        def control(self) -> RunSelect:
            return self.select

    @dataclass
    class LoadFailed(Message):
        """``load(value)`` raised ``error`` (already notified); whatever was loaded before stays."""

        select: RunSelect
        value: str
        error: BaseException | None

        @property
        def control(self) -> RunSelect:
            return self.select

    # A run's label stays on one line, cut with "…" (it wrapped mid-name in a narrow sidebar).
    DEFAULT_CSS = """
    RunSelect SelectCurrent Static#label, RunSelect SelectOverlay { text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, options_of: OptionsOf, options: list[RunOption] | None = None, *,
                 load: Callable[[str], Any] | None = None, empty_prompt: str | None = None, your_run: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(options or [], **kwargs)
        self.options_of, self.load, self.your_run = options_of, load, your_run
        self.full_prompt, self.empty_prompt = self.prompt, empty_prompt
        self.picked = ""  # the value loaded last (or whose loading failed)

    def show_runs(self, options: list[RunOption]) -> None:
        chosen = self.value
        if self.your_run and options:
            options = [(YOUR_RUN_LABEL, YOUR_RUN), *options]
        with self.prevent(Select.Changed):  # new options, same choice: nothing to reload
            self.set_options(options)
            if any(value == chosen for _, value in options):
                self.value = chosen
        self.prompt = self.full_prompt if options or self.empty_prompt is None else self.empty_prompt

    def show_listing_error(self, error: BaseException | None) -> None:
        notify_failed(self, "runs", error)

    @on(Select.Changed)
    def _load_pick(self, event: Select.Changed) -> None:
        if self.load is not None and event.value is not Select.NULL and event.value != YOUR_RUN:
            self.load_value(str(event.value))

    def load_value(self, value: str) -> Worker:
        """Load ``value`` with ``load`` in a thread worker (a newer pick replaces an older one)."""
        self.picked = value
        return self._load(value)

    @work(thread=True, exclusive=True, group=LOAD_GROUP, exit_on_error=False)
    def _load(self, value: str) -> Any:
        assert self.load is not None
        return self.load(value)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != LOAD_GROUP:
            return
        # Posted from here, on the UI thread, the messages carry their sender, which ``@on(...,
        # "#id")`` selectors need: a message made on a worker thread has none.
        if event.state is WorkerState.SUCCESS:
            self.post_message(self.Loaded(self, self.picked, worker.result))
        elif event.state is WorkerState.ERROR:
            notify_failed(self, "load", worker.error)
            self.post_message(self.LoadFailed(self, self.picked, worker.error))


class RunOptionList(RunListing, OptionList):
    """An OptionList of runs, one per line with its preset, step, state and time (the run picker dialog)."""

    DEFAULT_CSS = "RunOptionList { text-wrap: nowrap; text-overflow: ellipsis; }"  # one line per run

    def __init__(self, options_of: OptionsOf, **kwargs: Any) -> None:
        super().__init__(Option("looking for runs…", disabled=True), **kwargs)
        self.options_of = options_of

    def on_mount(self) -> None:
        self.refresh_runs()

    @property
    def chosen(self) -> str | None:
        """The value (the option id) of the highlighted run; None when none is."""
        if self.highlighted is None:
            return None
        return self.get_option_at_index(self.highlighted).id

    def show_runs(self, options: list[RunOption]) -> None:
        chosen = self.chosen
        self.clear_options()
        if not options:
            self.add_option(Option("no runs yet in the runs folder", disabled=True))
            return
        self.add_options(Option(label, id=value) for label, value in options)
        values = [value for _, value in options]
        self.highlighted = values.index(chosen) if chosen in values else 0
        self.focus()

    def show_listing_error(self, error: BaseException | None) -> None:
        self.clear_options()
        self.add_option(Option(f"could not list the runs folder: {error_text(error)}", disabled=True))
