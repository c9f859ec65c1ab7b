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
from rich.text import Text

from tui_transformer.tui.run_history import Series
from tui_transformer.tui.widgets.line_chart import Line, render_chart, scale_label
from tui_transformer.tui.widgets.overlay_chart import PALETTE, legend_rows

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
        width, lines, chart = options.max_width, self.lines(), self.chart
        scale = scale_label(chart.log_y, chart.log_x)
        header = legend_rows(chart.title + (f"  {scale}" if scale else ""), lines, width)  # wrapped, never cut
        body = render_chart(chart.title, lines, width, self.height - len(header) + 1, log=chart.log_y,
                            log_x=chart.log_x, placeholder="no points to draw")
        yield Text("\n").join([*header, *body.split("\n")[1:]])
