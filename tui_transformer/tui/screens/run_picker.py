"""A dialog that picks a run: from the runs folder, or any run directory typed as a path.

The list is a :class:`~tui_transformer.tui.widgets.run_list.RunOptionList`: it fills in from a
thread worker (listing reads every run's ``metrics.jsonl``), one line per run.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList

from tui_transformer.tui.messages import RunsListed
from tui_transformer.tui.widgets.run_list import RunOption, RunOptionList

if TYPE_CHECKING:
    from tui_transformer.train.runs import RunInfo


def run_lines(runs: list[RunInfo]) -> list[RunOption]:
    """One line per run: its name, then its preset, last step, state and last change, dimmed."""
    lines = []
    for run in runs:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(run.updated))
        lines.append((f"{run.name}  [dim]{run.preset} · step {run.last_step:,} · {run.label} · {when}[/dim]",
                      str(run.path)))
    return lines


class RunPickerScreen(ModalScreen[str | None]):
    """Dismisses with the chosen run's directory (a string), or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    RunPickerScreen { align: center middle; }
    RunPickerScreen > Vertical {
        width: 90%; max-width: 100; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    RunPickerScreen Label { width: 1fr; }  /* wrap a long heading instead of cutting it */
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
            yield RunOptionList(run_lines, id="runs")
            yield Label("…or a run directory:", classes="hint")
            yield Input(placeholder="/path/to/run", id="path")
            with Horizontal():
                yield Button("Open", id="open", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_runs_listed(self, message: RunsListed) -> None:
        if message.error is not None:  # the list says why; typing a run directory still works
            self.query_one("#path", Input).focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    @on(Input.Submitted)
    @on(Button.Pressed, "#open")
    def _open(self) -> None:
        path = self.query_one("#path", Input).value.strip()
        chosen = self.query_one(RunOptionList).chosen
        if path or chosen:
            self.dismiss(path or chosen)
        else:
            self.notify("choose a run or type a run directory", severity="warning")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
