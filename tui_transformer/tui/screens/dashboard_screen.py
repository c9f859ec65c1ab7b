"""What the five main screens share: the typed way to the app, and the tab bar kept current.

Train, Playground, Benchmark, Learn and Runs each derive from :class:`DashboardScreen` and put a
:class:`~tui_transformer.tui.widgets.tab_bar.TabBar` under their header. When the current run
changes, the app posts :class:`~tui_transformer.tui.messages.CurrentRunChanged` to each of them;
the handler here redraws the tab bar, and Textual then calls the screen's own handler of the same
message, if it has one (a handler runs for every class of the screen's ancestry).
"""

from __future__ import annotations

from typing import ClassVar

from textual.screen import Screen

from tui_transformer.tui.host import DashboardHost, host_of
from tui_transformer.tui.messages import CurrentRunChanged
from tui_transformer.tui.widgets.tab_bar import TabBar


class DashboardScreen(Screen):
    """A main screen (a mode of the app): ``MODE`` is its name in the tab bar.

    At 80 columns (the app's ``-narrow`` breakpoint) the tab bar takes the header's row: it names the
    run and its state too, and at 24 rows every row counts.
    """

    MODE: ClassVar[str]
    DEFAULT_CSS = "DashboardScreen.-narrow Header { display: none; }"

    @property
    def host(self) -> DashboardHost:
        """The app, through the only interface a screen uses of it."""
        return host_of(self)

    def tab_bar(self) -> TabBar:
        """The tab bar to yield under the header in ``compose``."""
        return TabBar(self.MODE)

    def on_current_run_changed(self, message: CurrentRunChanged) -> None:
        self.query_one(TabBar).show(message.run)
