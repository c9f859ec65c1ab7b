"""Draw a matrix of numbers as coloured cells: a heatmap in the terminal.

Each value becomes a colour on a diverging scale: negative values blue, zero the background,
positive values red, the strongest at full colour (the scale is symmetric around 0, set by the
largest ``|value|``). Two matrix rows share one line of text: the upper half-block ``▀`` takes
the upper row's colour as its foreground and the lower row's as its background, so a 24-line
panel shows 48 rows.

:func:`heatmap` builds a ``rich.text.Text`` and can run in a worker thread; any ``Static`` shows it.
:class:`FittedHeatmap` fits the columns to the width it is drawn in.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.color import Color
from rich.console import Console, ConsoleOptions, RenderResult
from rich.style import Style
from rich.text import Text

NEGATIVE = (59, 130, 246)  # blue
POSITIVE = (239, 68, 68)  # red
ZERO = (24, 24, 32)  # near the dark theme's background: "nothing here"


def _blend(low: tuple[int, int, int], high: tuple[int, int, int], t: float) -> Color:
    t = min(max(t, 0.0), 1.0)
    return Color.from_rgb(*(round(a + (b - a) * t) for a, b in zip(low, high)))


def value_color(value: float, scale: float) -> Color:
    """The colour of ``value`` when ``scale`` is the largest magnitude in the matrix."""
    if scale <= 0:
        return _blend(ZERO, POSITIVE, 0.0)
    t = value / scale
    return _blend(ZERO, POSITIVE, t) if t >= 0 else _blend(ZERO, NEGATIVE, -t)


def heatmap(rows: list[list[float]], row_label: str = "", every: int = 8, cell_width: int = 1,
            scale: float | None = None) -> Text:
    """``rows`` (a ``[R, C]`` list of lists) as ``ceil(R / 2)`` lines of ``C`` cells.

    ``row_label`` names the rows (e.g. "pos"); the first matrix row of every ``every``-th line
    pair gets its index in a left margin, so positions can be read off. ``cell_width`` characters
    per column (2 makes a narrow matrix easier to read). ``scale``: the magnitude drawn at full
    colour (default: the largest in ``rows``).
    """
    if scale is None:
        scale = max((abs(v) for row in rows for v in row), default=0.0)
    margin = _margin(rows, row_label)
    text = Text()
    for line, top in enumerate(range(0, len(rows), 2)):
        if line:
            text.append("\n")
        label = f"{row_label}{top}" if (top // 2) % every == 0 else ""
        text.append(label.rjust(margin) + " ", Style(dim=True))
        upper = rows[top]
        lower = rows[top + 1] if top + 1 < len(rows) else None
        for column, value in enumerate(upper):
            below = value_color(lower[column], scale) if lower is not None else None
            text.append("▀" * cell_width, Style(color=value_color(value, scale), bgcolor=below))
    return text


def _margin(rows: list[list[float]], row_label: str) -> int:
    return len(str(len(rows))) + len(row_label) + 1


@dataclass(frozen=True)
class FittedHeatmap:
    """A heatmap drawn with as many columns as the width it is given holds, never wrapped.

    A wrapped heatmap row breaks the picture (every matrix row then takes two lines), and the
    width is only known when rich draws it, so this renderable chooses then: two characters per
    column when they all fit so, else one, and else the first columns that fit, saying so.
    """

    rows: list[list[float]]
    row_label: str = ""

    def at_width(self, width: int) -> Text:
        """The heatmap (and a line on the columns left out, if any) in ``width`` cells."""
        columns = len(self.rows[0]) if self.rows else 0
        room = max(width - _margin(self.rows, self.row_label) - 1, 1)
        cell = 2 if 2 * columns <= room else 1
        shown = min(columns, room // cell)
        scale = max((abs(v) for row in self.rows for v in row), default=0.0)  # the legend's, all columns
        text = heatmap([row[:shown] for row in self.rows], self.row_label, cell_width=cell, scale=scale)
        if shown < columns:
            text.append(f"\ncolumns 0..{shown - 1} of {columns} shown: a wider terminal shows more", Style(dim=True))
        return text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.at_width(options.max_width)


def legend(scale: float) -> Text:
    """A one-line key: the colours for -scale, 0 and +scale."""
    text = Text()
    for t in (-1.0, -0.5, 0.0, 0.5, 1.0):
        text.append("  ", Style(bgcolor=value_color(t * scale, scale)))
    text.append(f"  -{scale:.2g} … 0 … +{scale:.2g}", Style(dim=True))
    return text
