"""Draw a matrix of numbers as coloured cells: a heatmap in the terminal.

Each value becomes a colour on a diverging scale: negative values blue, zero the background,
positive values red, the strongest at full colour (the scale is symmetric around 0, set by the
largest ``|value|``). Two matrix rows share one line of text: the upper half-block ``▀`` takes
the upper row's colour as its foreground and the lower row's as its background, so a 24-line
panel shows 48 rows.

:func:`heatmap` builds a ``rich.text.Text`` and can run in a worker thread; any ``Static`` shows it.
"""

from __future__ import annotations

from rich.color import Color
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


def heatmap(rows: list[list[float]], row_label: str = "", every: int = 8, cell_width: int = 1) -> Text:
    """``rows`` (a ``[R, C]`` list of lists) as ``ceil(R / 2)`` lines of ``C`` cells.

    ``row_label`` names the rows (e.g. "pos"); the first matrix row of every ``every``-th line
    pair gets its index in a left margin, so positions can be read off. ``cell_width`` characters
    per column (2 makes a narrow matrix easier to read).
    """
    scale = max((abs(v) for row in rows for v in row), default=0.0)
    margin = len(str(len(rows))) + len(row_label) + 1
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


def legend(scale: float) -> Text:
    """A one-line key: the colours for -scale, 0 and +scale."""
    text = Text()
    for t in (-1.0, -0.5, 0.0, 0.5, 1.0):
        text.append("  ", Style(bgcolor=value_color(t * scale, scale)))
    text.append(f"  -{scale:.2g} … 0 … +{scale:.2g}", Style(dim=True))
    return text
