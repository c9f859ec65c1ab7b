"""The run's log: the trainer's messages, evaluations, checkpoints and the UI's own notes.

Its lines hold long paths (``…/runs/tiny-1203/checkpoints/latest.pt``). Rich wraps only at spaces,
so a path was cut at the pane's edge, in the middle of a name. :func:`wrap_line` also breaks
after a ``/``, and the pane writes the pieces itself, continuation lines indented under the text.
"""

from __future__ import annotations

import re
import time

from rich.text import Text
from textual.widgets import RichLog

from tui_transformer.tui.run_history import RunHistory

_LEVEL_STYLES = {"warning": "yellow", "error": "bold red"}
_PIECES = re.compile(r"\s+|[^\s/]*/|[^\s/]+")  # spaces, a path part with its "/", or a word
TIME_WIDTH = 9  # "12:34:56 "


def wrap_line(message: str, width: int) -> list[str]:
    """``message`` in lines of at most ``width`` characters, broken at spaces or after a ``/``;
    only a piece longer than a whole line is cut."""
    lines, current = [], ""
    for piece in _PIECES.findall(message):
        if len(current) + len(piece) <= width:
            current += piece
            continue
        if current.strip():
            lines.append(current.rstrip())
        current = "" if piece.isspace() else piece
        while len(current) > width:
            lines.append(current[:width])
            current = current[width:]
    if current.strip() or not lines:
        lines.append(current.rstrip())
    return lines


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
        indent = TIME_WIDTH if self.show_times else 0
        width = self.scrollable_content_region.width - indent
        for line in history.log_since(self._written):
            style = _LEVEL_STYLES.get(line.level, "")
            pieces = wrap_line(line.message, width) if width > 8 else [line.message]  # not laid out yet: rich wraps
            for index, piece in enumerate(pieces):
                text = Text()
                if self.show_times:
                    stamp = time.strftime("%H:%M:%S ", time.localtime(line.time)) if index == 0 else " " * indent
                    text.append(stamp, style="dim")
                text.append(piece, style=style)
                self.write(text)
        self._written = history.log_count
