"""A line chart with axes, drawn in braille, for training curves.

Layout of a chart ``H`` lines high::

    loss  ━ train ━ val  [log]          <- title and legend
      4.20 ┤⠈⠢⡀                          <- H-2 plot rows, y labels at the top, middle and bottom
           │  ⠈⠑⠢⢄⣀
      2.10 ┤       ⠉⠉⠒⠒⠤⠤⣀⣀⣀
           └0──────────250──────500    <- x axis (optimizer steps) with its labels inline

Mapping data to dots: with the visible x range ``[x0, x1]`` and y range ``[y0, y1]`` on a
canvas ``W x H`` dots, a point lands at ``px = (x - x0) / (x1 - x0) * (W - 1)`` and
``py = (1 - (y - y0) / (y1 - y0)) * (H - 1)`` (the terminal's y grows downwards). In log mode
``y`` is replaced by ``log10(y)`` before the mapping and the labels show ``10**y`` again, so
a loss that falls exponentially becomes a straight line.

Speed: a long run has thousands of points but the canvas only a hundred or so dot columns.
Each series is first reduced to one (first, min, max, last) summary per dot column, in one pass,
then drawn: a vertical stroke from min to max shows the step-to-step noise, and a segment joins
each column's last value to the next column's first. The cost of a redraw depends on the data
length once and on the chart width, never on their product.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from rich.console import RenderableType
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui_transformer.tui.run_history import Series
from tui_transformer.tui.widgets.braille import BrailleCanvas

WINDOWS = (None, 100, 1000)  # the x windows the chart cycles through: all steps, last 100, last 1000


@dataclass(frozen=True)
class Line:
    """A series to draw and the colour to draw it in."""

    series: Series
    style: str


def format_number(value: float) -> str:
    """A short label: 3 significant digits, k/M suffixes, scientific notation for tiny values."""
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if magnitude >= 1e9:  # an early perplexity (e^22): "4.55e+03M" read as a typo
        return f"{value:.3g}"
    if magnitude >= 1e6:
        return f"{value / 1e6:.3g}M"
    if magnitude >= 1e3:
        return f"{value / 1e3:.3g}k"
    if magnitude >= 0.01:
        return f"{value:.3g}"
    return f"{value:.1e}"


def _visible(series: Series, x_min: float | None, log: bool) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for x, y in zip(series.xs, series.ys):
        if x_min is not None and x < x_min:
            continue
        if log:
            if y <= 0:
                continue
            y = math.log10(y)
        xs.append(x)
        ys.append(y)
    return xs, ys


def _padded(low: float, high: float) -> tuple[float, float]:
    if high - low < 1e-12:
        pad = abs(high) * 0.05 or 1.0
        return low - pad, high + pad
    pad = (high - low) * 0.05
    return low - pad, high + pad


def render_chart(title: str, lines: Sequence[Line], width: int, height: int,
                 log: bool = False, window: int | None = None, placeholder: str = "waiting for data…") -> Text:
    """The whole chart as text, ``width`` x ``height`` cells (see the module docstring); with no
    point yet, ``placeholder`` says why."""
    header = Text(title, style="bold")
    for line in lines:
        header.append("  ━ ", style=line.style).append(line.series.name)
    if log:
        header.append("  [log]", style="dim")
    if window:
        header.append(f"  [last {window}]", style="dim")
    header.truncate(width)
    rows = max(height - 2, 1)

    x_max = max((line.series.xs[-1] for line in lines if len(line.series)), default=None)
    x_min = None if window is None or x_max is None else x_max - window
    visible = [(_visible(line.series, x_min, log), line.style) for line in lines]
    points = [(xs, ys) for (xs, ys), _ in visible if xs]
    if not points:
        body = [Text("")] * rows
        middle = Text(placeholder, style="dim", justify="center")
        middle.truncate(width, overflow="ellipsis")  # one line, whatever the width: the rows are counted
        body[rows // 2] = middle
        return Text("\n").join([header, *body, Text("")])

    x0, x1 = min(xs[0] for xs, _ in points), max(xs[-1] for xs, _ in points)
    x1 = x1 if x1 > x0 else x0 + 1
    low, high = min(min(ys) for _, ys in points), max(max(ys) for _, ys in points)
    y0, y1 = _padded(low, high)
    if not log and low >= 0:
        y0 = max(y0, 0.0)  # padding must not invent negative losses or rates
    def label_for(y: float) -> str:
        return format_number(10 ** y if log else y)

    labels = {0: label_for(y1), rows - 1: label_for(y0)}
    if rows >= 5:
        labels[(rows - 1) // 2] = label_for(y1 - (y1 - y0) * ((rows - 1) // 2 * 4 + 1.5) / (rows * 4 - 1))
    label_width = max(len(text) for text in labels.values())
    canvas = BrailleCanvas(max(width - label_width - 2, 2), rows)
    for (xs, ys), style in visible:
        _draw(canvas, xs, ys, (x0, x1), (y0, y1), style)

    out = [header]
    for row in range(rows):
        label = labels.get(row)
        gutter = Text(f"{label:>{label_width}} ┤" if label else " " * label_width + " │", style="dim")
        out.append(gutter + canvas.row_text(row))
    out.append(_x_axis(x0, x1, label_width, canvas.cols))
    return Text("\n").join(out)


def _draw(canvas: BrailleCanvas, xs: list[float], ys: list[float],
          x_range: tuple[float, float], y_range: tuple[float, float], style: str) -> None:
    (x0, x1), (y0, y1) = x_range, y_range
    columns: dict[int, list[int]] = {}  # px -> [first, min, max, last] in dot rows
    for x, y in zip(xs, ys):
        px = round((x - x0) / (x1 - x0) * (canvas.width - 1))
        py = round((1 - (y - y0) / (y1 - y0)) * (canvas.height - 1))
        summary = columns.get(px)
        if summary is None:
            columns[px] = [py, py, py, py]
        else:
            summary[1], summary[2], summary[3] = min(summary[1], py), max(summary[2], py), py
    previous: tuple[int, int] | None = None
    for px in sorted(columns):
        first, low, high, last = columns[px]
        if previous is not None:
            canvas.line(previous[0], previous[1], px, first, style)
        canvas.line(px, low, px, high, style)
        previous = (px, last)


def _x_axis(x0: float, x1: float, label_width: int, cols: int) -> Text:
    """``└`` and a rule with step labels written into it at the left, middle and right."""
    rule = ["─"] * cols
    for fraction in (0.0, 1.0, 0.5):  # the ends first: a narrow chart drops the middle label, never the last
        label = format_number(round(x0 + (x1 - x0) * fraction))
        start = min(max(round(fraction * (cols - 1)) - (len(label) // 2 if fraction else 0), 0), cols - len(label))
        if start < 0 or any(ch != "─" for ch in rule[max(start - 1, 0):start + len(label) + 1]):
            continue  # no room: skip the label rather than overlap another
        rule[start:start + len(label)] = label
    return Text(" " * label_width + " └" + "".join(rule), style="dim")


class LineChart(Widget):
    """A chart widget over live :class:`Series`; call :meth:`refresh` after the series change.

    ``log`` and ``window`` are reactive: toggling them redraws. The rendered text is cached per
    (data version, size, mode), so a repaint without new data costs nothing.
    """

    DEFAULT_CSS = """
    LineChart { height: 1fr; min-height: 4; padding: 0 1; }
    """

    log: reactive[bool] = reactive(False)
    window: reactive[int | None] = reactive(None)

    def __init__(self, title: str, lines: Sequence[Line], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.title = title
        self.lines = list(lines)
        self.data_version = 0
        self.placeholder = "waiting for data…"  # shown while there is no point to draw
        self._cache_key: tuple | None = None
        self._cache: Text | None = None

    def set_lines(self, lines: Sequence[Line]) -> None:
        """Draw other series (after attaching to another run)."""
        self.lines = list(lines)
        self.data_changed()

    def data_changed(self) -> None:
        self.data_version += 1
        self.refresh()

    def render(self) -> RenderableType:
        width, height = self.content_size
        key = (self.data_version, width, height, self.log, self.window)
        if key != self._cache_key or self._cache is None:
            self._cache = render_chart(self.title, self.lines, width, height, self.log, self.window, self.placeholder)
            self._cache_key = key
        return self._cache
