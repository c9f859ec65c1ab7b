"""What the Playground and Learn share: a model picker that follows the current run unless pinned.

Both screens load one model to show. By default it is the current run's newest checkpoint, and it
changes when the current run does; a pick of the learner's own pins another
(:mod:`tui_transformer.tui.run_pin`). This base class wires that: it lists the runs again when the
current run or its checkpoint changes, pins a run the app asks it to (:class:`PinRun`), and sets the
picker to the option :class:`RunPin` chooses (setting a :class:`RunSelect` loads the pick in a worker).
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.widgets import Select

from tui_transformer.tui.messages import CurrentRunChanged, PinRun
from tui_transformer.tui.run_pin import RunPin
from tui_transformer.tui.screens.dashboard_screen import DashboardScreen
from tui_transformer.tui.widgets.run_list import YOUR_RUN, RunSelect


class ModelScreen(DashboardScreen):
    """A main screen built around one model. ``PICKER``: the selector of its :class:`RunSelect`."""

    PICKER: ClassVar[str]
    model: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pin = RunPin()  # the current run's newest checkpoint, unless the learner pinned another
        self._listed_for: tuple | None = None  # the current run's (folder, checkpoint) at the last listing

    @property
    def picker(self) -> RunSelect:
        return self.query_one(self.PICKER, RunSelect)

    def action_refresh_runs(self) -> None:
        self.picker.refresh_runs()

    def action_pick_model(self) -> None:
        """ctrl+r: focus the model picker and open its list."""
        picker = self.picker
        picker.focus()
        picker.expanded = True

    def on_current_run_changed(self, message: CurrentRunChanged) -> None:
        run = message.run
        if (run.path, run.checkpoint) != self._listed_for:  # a new run, or its first checkpoint: list again
            self._listed_for = (run.path, run.checkpoint)
            self.action_refresh_runs()

    def on_pin_run(self, message: PinRun) -> None:
        """The Runs screen's ``g``/``e`` on a run other than the one training: show it here, pinned."""
        self.pin.pin_run(message.run_dir)
        self.action_refresh_runs()

    def show_chosen(self) -> None:
        """Set the picker to the pinned option, else the current run's (it loads it, unless it is in use)."""
        picker = self.picker
        choice = self.pin.choice(self.host.current_run.path)
        if choice is None or choice == picker.value:
            return
        if choice == picker.picked and self.model is not None:  # back from "your run" to the model in use
            with picker.prevent(Select.Changed):
                picker.value = choice
            self.describe_model()  # its line says it is followed again
        else:
            picker.value = choice

    def pin_picked(self, value: str) -> bool:
        """The picker's value is now ``value``: a pin, or "your run" (True: followed again, nothing to load)."""
        self.pin.picked(value)
        if value == YOUR_RUN:
            self.show_chosen()
            return True
        return False

    def describe_model(self) -> None:
        """Redraw the line that names the model in use (and whether it is pinned)."""
        raise NotImplementedError
