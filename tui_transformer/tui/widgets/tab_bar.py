"""The tab bar under the header, on every screen: the six screens, which one this is, and your run.

At 120 columns it reads::

     1 Train · [2 Playground] · 3 Benchmark · 4 Learn · 5 Runs · 6 Lessons     run pos-2 · finished

and from 99 columns down the screens' names shorten, and the word "run" goes, so that the run's
state and most of its name still fit at 80 (a long name is cut in its middle)::

     1 Train [2 Play] 3 Bench 4 Learn 5 Runs 6 Lessons   tiny-bui…-232311 · finished

The screen shown is bracketed and drawn in reverse. The run is the app's current run (:mod:`tui_transformer.tui.current_run`); the screen
calls :meth:`TabBar.show` when it changes.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.widget import Widget

from tui_transformer.tui.current_run import CurrentRun
from tui_transformer.tui.host import host_of

TABS = (("train", "Train", "Train"), ("playground", "Playground", "Play"), ("benchmark", "Benchmark", "Bench"),
        ("learn", "Learn", "Learn"), ("runs", "Runs", "Runs"), ("lessons", "Lessons", "Lessons"))
WIDE_FROM = 100  # columns: the app's "-wide" breakpoint
NO_RUN_HINTS = ("no run yet: s starts one, o opens one", "no run yet: s starts one")  # the first that fits
_STATE_STYLES = {"running": "bold green", "paused": "bold yellow", "stopping": "bold yellow", "starting": "yellow",
                 "failed": "bold red", "interrupted": "yellow"}


def tab_bar_text(mode: str, run: CurrentRun, width: int) -> Text:
    """The bar for the screen ``mode``, showing ``run``, fitted to ``width`` columns."""
    wide = width >= WIDE_FROM
    text = Text(" ")
    for number, (key, long, short) in enumerate(TABS, 1):
        if number > 1:
            text.append(" · " if wide else " ", style="dim")
        label = f"{number} {long if wide else short}"
        if key == mode:
            text.append(f"[{label}]", style="reverse bold")
        else:
            text.append(label)
    text.append_text(_run_text(run, width - cell_len(text.plain) - 3, wide))
    return text


def _run_text(run: CurrentRun, room: int, wide: bool) -> Text:
    """``   run NAME · state``, right-aligned in ``room`` columns (``run`` left out when narrow, ``following``
    instead for a run trained elsewhere that still runs); a long name is cut in its middle, where run
    names differ least (``<preset>-<data>-<MMDD>-<HHMMSS>``)."""
    state = run.state if run.path is not None or run.trained_here else ""
    following = run.path is not None and run.live and not run.trained_here  # trained elsewhere, read as it grows
    prefix = "following " if following else ("run " if run.path is not None and wide else "")
    hint = next(hint for hint in NO_RUN_HINTS if len(hint) <= room or hint == NO_RUN_HINTS[-1])
    name = run.name or ("a new run" if run.trained_here else hint)
    spare = room - len(prefix) - len(name) - (len(state) + 3 if state else 0)
    if spare < 0 and run.path is not None:
        keep = max(len(name) + spare - 1, 4)
        name = f"{name[:keep // 2]}…{name[len(name) - (keep - keep // 2):]}"
    line = Text()
    line.append(prefix, style="dim").append(name, style="bold" if run.path is not None else "dim")
    if state:
        line.append(" · ", style="dim").append(state, style=_STATE_STYLES.get(state, ""))
    line.pad_left(max(room - cell_len(line.plain), 0) + 3)
    line.truncate(max(room + 3, 0))
    return line


class TabBar(Widget):
    """One row: the screens (``1``-``6`` switch) and the current run. ``mode`` is the screen it sits on."""

    DEFAULT_CSS = "TabBar { height: 1; background: $panel; }"

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode
        self.run = CurrentRun()

    def on_mount(self) -> None:
        self.show(host_of(self).current_run)

    def show(self, run: CurrentRun) -> None:
        self.run = run
        self.refresh()

    def render(self) -> Text:
        return tab_bar_text(self.mode, self.run, self.size.width)
