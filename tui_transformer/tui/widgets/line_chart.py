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
a loss that falls exponentially becomes a straight line. ``log_x`` does the same to ``x``: with
both, a power law ``y = a x^b`` is a straight line of slope ``b`` (the scaling lesson's charts).

Speed: a long run has thousands of points but the canvas only a hundred or so dot columns.
Each series is first reduced to one (first, min, max, last) summary per dot column, then drawn:
a vertical stroke from min to max shows the step-to-step noise, and a segment joins each
column's last value to the next column's first. The reduction runs in numpy (imported with the
first point to draw), so the Python work of a redraw depends on the chart's width only, not on
how long the run has been going: the dashboard shares the GIL with the trainer, and a redraw that
grew with the run would slow training more and more.
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


def _visible(series: Series, x_min: float | None, log: bool, log_x: bool = False):
    """The series' points to draw as two float arrays: those from ``x_min`` on, ``y`` in log10 when
    ``log`` and ``x`` when ``log_x`` (points that have no logarithm left out)."""
    import numpy as np

    xs, ys = np.asarray(series.xs, dtype=float), np.asarray(series.ys, dtype=float)
    keep = np.ones(len(xs), dtype=bool) if x_min is None else xs >= x_min
    if log:
        keep &= ys > 0
    if log_x:
        keep &= xs > 0
    xs, ys = xs[keep], ys[keep]
    return np.log10(xs) if log_x else xs, np.log10(ys) if log else ys


def _padded(low: float, high: float) -> tuple[float, float]:
    if high - low < 1e-12:
        pad = abs(high) * 0.05 or 1.0
        return low - pad, high + pad
    pad = (high - low) * 0.05
    return low - pad, high + pad


def scale_label(log: bool, log_x: bool) -> str:
    """How the chart's header names its log axes: ``[log]`` (y), ``[log x]`` or ``[log-log]``; "" for none."""
    return "[log-log]" if log and log_x else "[log x]" if log_x else "[log]" if log else ""


def render_chart(title: str, lines: Sequence[Line], width: int, height: int,
                 log: bool = False, window: int | None = None, placeholder: str = "waiting for data…",
                 log_x: bool = False) -> Text:
    """The whole chart as text, ``width`` x ``height`` cells (see the module docstring); with no
    point yet, ``placeholder`` says why."""
    header = Text(title, style="bold")
    for line in lines:
        header.append("  ━ ", style=line.style).append(line.series.name)
    if log or log_x:
        header.append(f"  {scale_label(log, log_x)}", style="dim")
    if window:
        header.append(f"  [last {window}]", style="dim")
    header.truncate(width)
    rows = max(height - 2, 1)

    x_max = max((line.series.xs[-1] for line in lines if len(line.series)), default=None)
    x_min = None if window is None or x_max is None else x_max - window
    # an empty series is skipped before numpy: the first frame has no points and must not wait for numpy
    visible = [(_visible(line.series, x_min, log, log_x), line.style) for line in lines if len(line.series)]
    points = [(xs, ys) for (xs, ys), _ in visible if len(xs)]
    if not points:
        body = [Text("")] * rows
        middle = Text(placeholder, style="dim", justify="center")
        middle.truncate(width, overflow="ellipsis")  # one line, whatever the width: the rows are counted
        body[rows // 2] = middle
        return Text("\n").join([header, *body, Text("")])

    x0, x1 = min(float(xs.min()) for xs, _ in points), max(float(xs.max()) for xs, _ in points)
    x1 = x1 if x1 > x0 else x0 + 1
    low, high = min(float(ys.min()) for _, ys in points), max(float(ys.max()) for _, ys in points)
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
    out.append(_x_axis(x0, x1, label_width, canvas.cols, log_x))
    return Text("\n").join(out)


def _draw(canvas: BrailleCanvas, xs, ys, x_range: tuple[float, float], y_range: tuple[float, float],
          style: str) -> None:
    previous: tuple[int, int] | None = None
    for px, first, low, high, last in _column_summaries(xs, ys, x_range, y_range, canvas.width, canvas.height):
        if previous is not None:
            canvas.line(previous[0], previous[1], px, first, style)
        canvas.line(px, low, px, high, style)
        previous = (px, last)


def _column_summaries(xs, ys, x_range: tuple[float, float], y_range: tuple[float, float], width: int,
                      height: int) -> list[tuple[int, int, int, int, int]]:
    """``(px, first, min, max, last)`` in dot rows, for each dot column that has a point, left to right.

    Points map to dots as in the module docstring (rounded half to even, as Python's ``round``).
    A stable sort by column keeps each column's points in their order, so ``first`` and ``last``
    are the earliest and latest of that column.
    """
    import numpy as np

    if not len(xs):
        return []
    (x0, x1), (y0, y1) = x_range, y_range
    px = np.rint((xs - x0) / (x1 - x0) * (width - 1)).astype(np.int64)
    py = np.rint((1 - (ys - y0) / (y1 - y0)) * (height - 1)).astype(np.int64)
    order = np.argsort(px, kind="stable")
    px, py = px[order], py[order]
    starts = np.flatnonzero(np.r_[True, px[1:] != px[:-1]])
    ends = np.r_[starts[1:], len(px)] - 1
    return list(zip(px[starts].tolist(), py[starts].tolist(), np.minimum.reduceat(py, starts).tolist(),
                    np.maximum.reduceat(py, starts).tolist(), py[ends].tolist()))


def _x_axis(x0: float, x1: float, label_width: int, cols: int, log_x: bool = False) -> Text:
    """``└`` and a rule with step labels written into it at the left, middle and right (``10**x`` on a log axis)."""
    rule = ["─"] * cols
    for fraction in (0.0, 1.0, 0.5):  # the ends first: a narrow chart drops the middle label, never the last
        at = x0 + (x1 - x0) * fraction
        label = format_number(10 ** at if log_x else round(at))
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
        self._drawn_signature: tuple | None = None

    def set_lines(self, lines: Sequence[Line]) -> None:
        """Draw other series (after attaching to another run)."""
        self.lines = list(lines)
        self.data_changed()

    def data_changed(self) -> None:
        self.data_version += 1
        self.refresh()

    def show_new_points(self, placeholder: str) -> bool:
        """Redraw if a series has points not drawn yet, or the placeholder changed; True if it redrew.

        A series only grows at its end (or is cut back, or replaced), so its length and last step
        tell whether it changed, at a cost that does not grow with the run.
        """
        signature = (placeholder, tuple((id(line.series), len(line.series), line.series.xs[-1] if len(line.series) else None)
                                        for line in self.lines))
        if signature == self._drawn_signature:
            return False
        self._drawn_signature, self.placeholder = signature, placeholder
        self.data_changed()
        return True

    def render(self) -> RenderableType:
        width, height = self.content_size
        key = (self.data_version, width, height, self.log, self.window)
        if key != self._cache_key or self._cache is None:
            self._cache = render_chart(self.title, self.lines, width, height, self.log, self.window, self.placeholder)
            self._cache_key = key
        return self._cache
