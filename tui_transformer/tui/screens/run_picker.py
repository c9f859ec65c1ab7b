"""A dialog that picks a run: from the runs folder, or any run directory typed as a path.

Listing runs reads each run's ``metrics.jsonl`` to find its last step and state, which can take a
moment with many long runs, so it happens in a thread worker and the list fills in when ready.
"""

from __future__ import annotations

import time

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState


class RunPickerScreen(ModalScreen[str | None]):
    """Dismisses with the chosen run's directory (a string), or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    RunPickerScreen { align: center middle; }
    RunPickerScreen > Vertical {
        width: 90%; max-width: 100; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    RunPickerScreen .hint { color: $text-muted; }
    RunPickerScreen OptionList { height: auto; max-height: 12; margin: 1 0; }
    RunPickerScreen Horizontal { height: auto; align-horizontal: right; }
    """

    def __init__(self, title: str, hint: str) -> None:
        super().__init__()
        self.heading, self.hint = title, hint

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"[b]{self.heading}[/b]: {self.hint}")
            yield OptionList(id="runs")
            yield Label("…or a run directory:", classes="hint")
            yield Input(placeholder="/path/to/run", id="path")
            with Horizontal():
                yield Button("Open", id="open", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one(OptionList).add_option(Option("looking for runs…", disabled=True))
        self.load_runs()

    @work(thread=True, exclusive=True, group="run-list", exit_on_error=False)
    def load_runs(self) -> list:
        from tui_transformer.train.runs import list_runs

        return list_runs()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "run-list":
            return
        if event.state == WorkerState.SUCCESS:
            self._show_runs(event.worker.result or [])
        elif event.state == WorkerState.ERROR:
            # Say why in the list; typing a run directory still works.
            options = self.query_one(OptionList)
            options.clear_options()
            options.add_option(Option(f"could not list the runs folder: {event.worker.error}", disabled=True))
            self.query_one("#path", Input).focus()

    def _show_runs(self, runs: list) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        if not runs:
            options.add_option(Option("no runs yet in the runs folder", disabled=True))
            return
        for run in runs:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(run.updated))
            options.add_option(Option(f"{run.name}  [dim]{run.preset} · step {run.last_step:,} · {run.label} · "
                                      f"{when}[/dim]", id=str(run.path)))
        options.highlighted = 0
        options.focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    @on(Input.Submitted)
    @on(Button.Pressed, "#open")
    def _open(self) -> None:
        path = self.query_one("#path", Input).value.strip()
        options = self.query_one(OptionList)
        if path:
            self.dismiss(path)
        elif options.highlighted is not None and options.get_option_at_index(options.highlighted).id:
            self.dismiss(options.get_option_at_index(options.highlighted).id)
        else:
            self.notify("choose a run or type a run directory", severity="warning")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
