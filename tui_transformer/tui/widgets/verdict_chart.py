"""A lesson verdict's chart (:class:`~tui_transformer.lessons.verdict.Chart`), drawn at whatever width it is given.

A rich renderable rather than a widget: the Lessons screen shows the verdict as one scrolling text,
and the chart takes the width of that text when it is drawn (``options.max_width``), so it follows
the terminal's size. The curves are drawn by :func:`~tui_transformer.tui.widgets.line_chart.render_chart`,
on log axes when the chart asks, one palette colour a curve, in the Runs screen's palette, under a
legend that wraps onto more rows rather than cut a name (the Runs screen's own).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console, ConsoleOptions, RenderResult

from tui_transformer.tui.run_history import Series
from tui_transformer.tui.widgets.line_chart import Line
from tui_transformer.tui.widgets.overlay_chart import PALETTE, chart_with_legend

if TYPE_CHECKING:
    from tui_transformer.lessons.verdict import Chart

HEIGHT = 10  # rows, the title, the legend and the x axis included


class VerdictChart:
    """``chart`` as text, ``HEIGHT`` rows high and as wide as the space it is drawn in."""

    def __init__(self, chart: Chart, height: int = HEIGHT) -> None:
        self.chart, self.height = chart, height

    def lines(self) -> list[Line]:
        return [Line(Series(label, xs=list(xs), ys=list(ys)), PALETTE[index % len(PALETTE)])
                for index, (label, (xs, ys)) in enumerate(self.chart.series.items())]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield chart_with_legend(self.chart.title, self.lines(), options.max_width, self.height, log=self.chart.log_y,
                                log_x=self.chart.log_x, placeholder="no points to draw")
