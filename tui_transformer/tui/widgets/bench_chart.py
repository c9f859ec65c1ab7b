"""A grouped bar chart of decode speed against generated length, one colour per cache variant.

The KV-cache benchmark measures three ways to generate ``n`` tokens:

* **none**: re-run the whole context every token, so step ``t`` costs O(t) and ``n`` tokens O(n²);
* **naive**: cache K and V but grow them with ``torch.cat`` every step (a fresh copy each time);
* **prealloc**: cache K and V in buffers sized once and written in place: O(1) bookkeeping per step.

For each length on the x axis the chart draws the three tokens/s side by side, so the gap that
opens as the length grows *is* the cache's speedup. Bars are drawn with eighth-blocks
(``▁▂▃▄▅▆▇█``) for eight levels per row; the y axis starts at 0 so heights compare honestly::

    tok/s  ▆ none ▆ naive ▆ prealloc
      900 ┤      ▂█   ▆█
          ┤ ▅▇█ ▃▇█  ▁▅█
        0 ┼──────────────
            8    16    32
"""

from __future__ import annotations

import math

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

_LEVELS = " ▁▂▃▄▅▆▇█"
VARIANTS = ("none", "naive", "prealloc")
AXIS_WIDTH = 7
ROUND_FACTORS = (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)


def nice_ceiling(value: float) -> float:
    """The smallest round number >= value, for a readable top tick: 1, 1.2, 1.5 ... 8 times a power of ten."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(f * power for f in ROUND_FACTORS if f * power >= value * (1 - 1e-12))  # 1e-12: float noise


def bar_cell(height_eighths: int, row: int) -> str:
    """The character of a bar ``height_eighths`` tall in row ``row`` (0 is the bottom row)."""
    return _LEVELS[min(max(height_eighths - 8 * row, 0), 8)]


def _tick(value: float) -> str:
    return f"{value / 1000:.1f}k" if value >= 10_000 else f"{value:.0f}"


def render_chart(lengths: list[int], series: dict[str, list[float | None]], width: int, height: int,
                 styles: dict[str, Style], axis: Style) -> Text:
    """The chart as text, ``width`` x ``height`` cells; ``series[variant][i]`` is tokens/s at ``lengths[i]``."""
    rows = max(height - 3, 2)  # legend, axis line and length labels take three rows
    values = [v for variant in VARIANTS for v in series.get(variant, []) if v is not None]
    top = nice_ceiling(max(values, default=0.0))
    plot_width = max(width - AXIS_WIDTH - 1, 4)
    bar = max(min((plot_width // max(len(lengths), 1) - 1) // len(VARIANTS), 3), 1)
    group = bar * len(VARIANTS) + 1

    text = Text("tok/s".rjust(AXIS_WIDTH - 1) + " ", axis, end="")
    for variant in VARIANTS:
        text.append(" █", styles[variant])
        text.append(f" {variant}", axis)
    for row in range(rows - 1, -1, -1):
        label = _tick(top) if row == rows - 1 else (_tick(top / 2) if row == (rows - 1) // 2 else "")
        text.append("\n" + label.rjust(AXIS_WIDTH - 1) + " ┤", axis)
        for index in range(len(lengths)):
            text.append(" ")
            for variant in VARIANTS:
                value = (series.get(variant) or [None] * len(lengths))[index]
                eighths = 0 if value is None else round(value / top * rows * 8)
                text.append(bar_cell(eighths, row) * bar, styles[variant])
    text.append("\n" + "0".rjust(AXIS_WIDTH - 1) + " ┼" + "─" * (group * len(lengths)), axis)
    text.append("\n" + " " * (AXIS_WIDTH + 1), axis)
    for length in lengths:
        text.append(str(length).center(group)[:group], axis)
    return text


class BenchChart(Static):
    """``show(lengths, {"none": [...], "naive": [...], "prealloc": [...]})`` draws tokens/s per length."""

    DEFAULT_CSS = """
    BenchChart { height: 1fr; min-height: 6; }
    BenchChart > .bench-chart--none { color: $error; }
    BenchChart > .bench-chart--naive { color: $warning; }
    BenchChart > .bench-chart--prealloc { color: $success; }
    BenchChart > .bench-chart--axis { color: $text-muted; }
    """

    COMPONENT_CLASSES = {"bench-chart--none", "bench-chart--naive", "bench-chart--prealloc", "bench-chart--axis"}

    def on_mount(self) -> None:
        self.show([], {})

    def on_resize(self) -> None:
        self.show(*self._data)

    def show(self, lengths: list[int], series: dict[str, list[float | None]]) -> None:
        self._data = (lengths, series)
        if not lengths:
            self.update(Text("run the benchmark (r) to see tokens/s against length",
                             self.get_component_rich_style("bench-chart--axis")))
            return
        styles = {variant: self.get_component_rich_style(f"bench-chart--{variant}") for variant in VARIANTS}
        size = self.content_size
        self.update(render_chart(lengths, series, size.width, size.height, styles,
                                 self.get_component_rich_style("bench-chart--axis")))
