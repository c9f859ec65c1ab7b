"""Which run a model screen shows: the current run, unless the learner pinned another.

The Playground and Learn load a model to show. By default it is the current run's
(:mod:`tui_transformer.tui.current_run`): its newest checkpoint, and a new one when the current run
changes. A learner may *pin* another checkpoint instead, by picking it in the screen's picker (or
with the Runs screen's ``g``/``e`` while another run trains here); the pin holds whatever the
current run does, and the screen says it is pinned. Picking "your run" in the picker
(:data:`~tui_transformer.tui.widgets.run_list.YOUR_RUN`) clears it: the screen follows the current
run again.

A :class:`RunPin` keeps that choice for one picker; the screen asks it which option to show after
each listing and each change of the current run, and tells it what the learner picked.
"""

from __future__ import annotations

from pathlib import Path

from tui_transformer.tui.widgets.run_list import YOUR_RUN, RunOption, preferred_value, value_of


class RunPin:
    """One picker's choice between following the current run and a pinned option."""

    def __init__(self) -> None:
        self.options: list[RunOption] = []  # as last listed, without "your run"
        self.pinned: str | None = None  # the pinned option's value; None while following
        self._pin_run: Path | None = None  # a run to pin once the picker lists it
        self._followed: str | None = None  # the option chosen last for following (not a learner's pick)

    def listed(self, options: list[RunOption]) -> None:
        self.options = options
        if self._pin_run is not None:
            self.pinned = value_of(options, self._pin_run) or self.pinned
            self._pin_run = None

    def pin_run(self, run_dir: Path) -> None:
        """Pin ``run_dir``'s newest option (now if it is listed, else at the next listing)."""
        self.pinned = value_of(self.options, run_dir)
        self._pin_run = run_dir if self.pinned is None else None

    def picked(self, value: str) -> None:
        """The picker's value changed to ``value``: the learner pinned it, or chose "your run" again."""
        if value == YOUR_RUN:
            self.pinned = None
        elif value != self._followed:
            self.pinned = value

    def choice(self, current: Path | None) -> str | None:
        """The option to show: the pinned one while it is listed, else the current run's (else the newest)."""
        if self.pinned is not None and any(value == self.pinned for _, value in self.options):
            return self.pinned
        self._followed = preferred_value(self.options, current)
        return self._followed

    def describe(self, loaded: str, current: Path | None, name: str) -> str:
        """A short line on ``loaded`` (the option in use): pinned, the current run, or the newest in its stead."""
        if self.pinned is not None and loaded == self.pinned:
            return f"pinned · {name} (ctrl+r: your run)"
        if current is not None and value_of(self.options, current) is None:
            return f"{name} · {current.name} has no checkpoint yet"
        return f"{name} · your run" if current is not None else name
