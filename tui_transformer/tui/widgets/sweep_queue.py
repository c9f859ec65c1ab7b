"""The queue of a sweep trained from the dashboard: which runs are done, which one runs, which wait.

One row per run of the grid, in the order they train: its number, its varied values (the line
above names the fields), its state and, once it is done, its best val bits per byte (the number
the sweep ranks by; lower is better). It is hidden until a sweep starts, and stays after it ends,
so the learner sees the results without leaving the Train screen. The runs themselves are ordinary
runs (``<sweep>-<i>`` in the runs folder) to compare afterwards with ``runs compare``.
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from tui_transformer.train.run_state import RunState
from tui_transformer.tui.sweep_progress import WAITING, SweepProgress

# state -> (mark, label, style); "done" is what a learner calls a finished run
_LOOKS = {
    WAITING: ("·", "waiting", "dim"),
    RunState.RUNNING: ("▶", "running", "bold"),
    RunState.FINISHED: ("✓", "done", "green"),
    RunState.STOPPED: ("■", "stopped", "yellow"),
    RunState.FAILED: ("✗", "failed", "red"),
}


def queue_table(progress: SweepProgress) -> Group:
    """The queue: a title, what the sweep varies, then one row per run. It fits a 27-column sidebar:
    a done run's state column holds its best val bpb, and long values wrap inside their column."""
    title = Text(f"sweep {progress.name} · {progress.done}/{len(progress.runs)} done", style="bold")
    varies = Text(f"varies {', '.join(progress.fields)} · bpb: best val bits/byte", style="dim")
    table = Table(box=None, padding=(0, 1, 0, 0), expand=True, show_edge=False, show_header=False)
    table.add_column("#", no_wrap=True)
    table.add_column("values", ratio=1, overflow="fold")
    table.add_column("state", no_wrap=True)
    for number, run in enumerate(progress.runs, 1):
        mark, label, style = _LOOKS.get(run.state, ("?", str(run.state), ""))
        if run.state == RunState.FINISHED and run.best_val_bpb is not None:
            label = f"{label} {run.best_val_bpb:.3f}"
        table.add_row(Text(f"{mark}{number}", style), ", ".join(run.values), Text(label, style))
    return Group(title, varies, table)


class SweepQueue(Static):
    """The sweep's queue (hidden when no sweep was started here)."""

    DEFAULT_CSS = """
    SweepQueue { height: auto; margin-bottom: 1; display: none; }
    SweepQueue.-shown { display: block; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[SweepProgress | None, int] = (None, 0)  # the progress drawn last, and its version

    def show(self, progress: SweepProgress | None) -> None:
        """Draw ``progress`` (None hides the queue); cheap when nothing changed (the screen's 10 Hz redraw)."""
        drawn = (progress, progress.version if progress is not None else 0)
        if drawn[0] is self._shown[0] and drawn[1] == self._shown[1]:
            return
        self._shown = drawn
        self.set_class(progress is not None, "-shown")
        if progress is not None:
            self.update(queue_table(progress))
