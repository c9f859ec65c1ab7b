"""The keys every screen's footer must keep: help and quit, right after the screen's main action.

Textual's footer lists the screen's bindings first, then the app's, and cuts the row at the
terminal's edge, so at 80 columns the app's ``?`` and ``q`` were the first to go. A screen that
puts these two bindings near the front of its own ``BINDINGS`` (they only call the app's actions)
keeps them in sight; the less used keys at the end of the row are the ones cut, and ``?`` lists
them all.
"""

from __future__ import annotations

from textual.binding import Binding

HELP_AND_QUIT = (
    Binding("question_mark", "app.help", "Help", key_display="?"),
    Binding("q", "app.quit", "Quit"),
)
