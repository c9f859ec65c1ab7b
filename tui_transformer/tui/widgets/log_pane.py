"""The run's log: the trainer's messages, evaluations, checkpoints and the UI's own notes."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import RichLog

from tui_transformer.tui.run_history import RunHistory

_LEVEL_STYLES = {"warning": "yellow", "error": "bold red"}


class LogPane(RichLog):
    """A RichLog that appends only the history's lines it has not written yet."""

    DEFAULT_CSS = "LogPane { height: 1fr; }"

    def __init__(self, *, show_times: bool = True, id: str | None = None) -> None:
        super().__init__(wrap=True, markup=False, highlight=False, max_lines=1000, id=id)
        self.show_times = show_times
        self._written = 0

    def reset(self) -> None:
        self.clear()
        self._written = 0

    def show(self, history: RunHistory) -> None:
        for line in history.log_since(self._written):
            text = Text()
            if self.show_times:
                text.append(time.strftime("%H:%M:%S ", time.localtime(line.time)), style="dim")
            text.append(line.message, style=_LEVEL_STYLES.get(line.level, ""))
            self.write(text)
        self._written = history.log_count
