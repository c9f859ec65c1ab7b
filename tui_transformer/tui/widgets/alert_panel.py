"""The training doctor's alerts, where the learner is looking: a short strip above the charts.

The trainer's doctor (:mod:`tui_transformer.train.doctor`) raises an
:class:`~tui_transformer.train.events.Alert` when a run goes wrong: one plain-language line and the
Learn page whose idea explains it. The log has every alert; this strip keeps them in sight:

* one line per **rule** (clipping, plateau, overfitting...), its newest alert, newest rule first,
  with how many times that rule spoke: a run stuck on its plateau for an hour says so once (×12),
  and does not push the LR warning out of the strip;
* the Learn page first, then the message, so a line cut at the edge still says where to read;
* hidden while there is nothing to say: it costs the charts no row on a healthy run.

The Train screen's ``a`` opens the Learn page of the newest alert; its line says ``Learn (a)``.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from tui_transformer.train.events import Alert

MAX_LINES = 3  # the screen's narrow layout shows the first line only (see TrainScreen's CSS)


def latest_per_rule(alerts: Sequence[Alert]) -> list[tuple[Alert, int]]:
    """``(newest alert, times raised)`` of each rule, the rule raised most recently first."""
    newest: dict[str, Alert] = {}
    counts: dict[str, int] = {}
    for alert in alerts:  # oldest first: a later alert replaces the rule's entry
        newest.pop(alert.rule, None)  # re-insert, so the dict's order is "last raised"
        newest[alert.rule] = alert
        counts[alert.rule] = counts.get(alert.rule, 0) + 1
    return [(alert, counts[alert.rule]) for alert in reversed(newest.values())]


def alert_text(alerts: Sequence[Alert], max_lines: int = MAX_LINES) -> Text:
    """The strip's lines (see the module docstring); empty when there is no alert."""
    lines = []
    for index, (alert, count) in enumerate(latest_per_rule(alerts)[:max_lines]):
        line = Text("⚠ ", style="bold yellow").append(f"step {alert.step:,} ", style="dim")
        line.append(alert.rule, style="bold yellow")
        if count > 1:
            line.append(f" ×{count}", style="yellow")
        # the newest alert's page is the one the Train screen's ``a`` opens: say so where it is read
        line.append("  Learn (a) › " if index == 0 else "  Learn › ", style="dim").append(alert.learn, style="bold")
        line.append("  ").append(alert.message)
        lines.append(line)
    return Text("\n").join(lines)


class AlertPanel(Static):
    """Shows :func:`alert_text` of a run's alerts; the screen calls :meth:`show` when they change."""

    DEFAULT_CSS = """
    AlertPanel { height: auto; max-height: 3; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis;
                 display: none; }
    AlertPanel.-shown { display: block; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[int, Alert | None] = (-1, None)  # redraw (a layout pass) only when the alerts change

    def show(self, alerts: Sequence[Alert]) -> bool:
        """Show these alerts; True when that changed the strip."""
        key = (len(alerts), alerts[-1] if alerts else None)
        if key[0] == self._shown[0] and key[1] is self._shown[1]:
            return False
        self._shown = key
        self.set_class(bool(alerts), "-shown")
        self.update(alert_text(alerts))
        return True
