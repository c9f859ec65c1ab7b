"""A footer that keeps a screen's keys in sight at 80 columns.

Textual's footer cuts its row at the terminal's edge, so at 80 columns the last keys of a busy
screen disappear (the Runs screen lost note, delete and learn). On a narrow terminal (the app's
``-narrow`` breakpoint) the footer drops the space around each key and the command palette's
hint (``ctrl+p`` is in the help), which gives a row of about ten keys room.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


def fit_footer(screen: Screen) -> None:
    """Make ``screen``'s footer compact while the screen is narrow (call it after a resize)."""
    footer = screen.query_one(Footer)
    narrow = screen.has_class("-narrow")
    if (footer.compact, footer.show_command_palette) != (narrow, not narrow):
        footer.compact, footer.show_command_palette = narrow, not narrow
        footer.refresh(recompose=True)  # the palette's hint is composed, not styled
