"""The Runs screen's chart: one metric of several runs on shared axes, one stable colour per run.

What is drawn, for every marked run, in this order (see :mod:`tui_transformer.train.smoothing`)::

    history rows --curve--> (x, y) on the chosen axis --EMA--> smoothed --thin--> <= 4 points a column

then :func:`~tui_transformer.tui.widgets.line_chart.render_chart` draws the thinned curves in
braille, with a log y axis if asked.

**Stable colours.** A run gets the first palette colour no marked run holds, and keeps it until
it is unmarked (:class:`ColourBook`): marking a third run never repaints the first two, so the
eye can follow a curve while the comparison grows. The legend names each run by what tells it
apart from the others (:mod:`tui_transformer.tui.run_labels`: one sweep's runs are ``1``, ``2``,
``3``) and wraps onto more rows rather than cut a name.

**Speed.** Smoothing must see every point (an EMA over a thinned curve is another curve), but the
canvas has only ``2 * width`` dot columns, so each smoothed curve is thinned once to its first,
lowest, highest and last point per column (:func:`thin`) before drawing, which keeps the shape,
spikes included. Each run's thinned curve is cached by (its data version, metric, axis,
smoothing, width), and its unsmoothed points by (data version, metric, axis): a redraw after
marking one more run computes only that run, and one after a smoothing change only the EMAs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from rich.console import RenderableType
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui_transformer.train.run_compare import HistoryFold
from tui_transformer.train.smoothing import METRICS, curve, debiased_ema
from tui_transformer.tui.run_history import Series
from tui_transformer.tui.run_labels import shared_prefix, short_names
from tui_transformer.tui.widgets.line_chart import Line, render_chart, scale_label

# Ten colours that stay apart on dark and light themes (matplotlib's "tab10", as W&B and TensorBoard use).
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")


class ColourBook:
    """Which colour each marked run holds (see the module docstring); past ten runs, colours repeat."""

    def __init__(self, palette: Sequence[str] = PALETTE) -> None:
        self.palette = tuple(palette)
        self._slots: dict[str, int] = {}

    def colour(self, name: str) -> str:
        """``name``'s colour, given it the first free one if it has none."""
        if name not in self._slots:
            taken = set(self._slots.values())
            self._slots[name] = next(i for i in range(len(self._slots) + 1) if i not in taken)
        return self.palette[self._slots[name] % len(self.palette)]

    def slot(self, name: str) -> int:
        """Where ``name`` stands in the marking order (its colour's index); runs without a colour last."""
        return self._slots.get(name, len(self.palette) * 1000)

    def release(self, name: str) -> None:
        self._slots.pop(name, None)

    def rename(self, old: str, new: str) -> None:
        if old in self._slots:
            self._slots[new] = self._slots.pop(old)


def thin(xs: list[float], ys: list[float], buckets: int) -> tuple[list[float], list[float]]:
    """At most four points per x bucket (its first, lowest, highest and last), in x order; short curves as they are."""
    if len(xs) <= 4 * buckets or buckets < 1:
        return xs, ys
    x0, span = xs[0], (xs[-1] - xs[0]) or 1.0
    keep: list[int] = []
    bucket, first, low, high = -1, 0, 0, 0
    for i, (x, y) in enumerate(zip(xs, ys)):
        b = min(int((x - x0) / span * buckets), buckets - 1)
        if b != bucket:
            if bucket >= 0:
                keep.extend(sorted({first, low, high, i - 1}))
            bucket, first, low, high = b, i, i, i
        else:
            if y < ys[low]:
                low = i
            if y > ys[high]:
                high = i
    keep.extend(sorted({first, low, high, len(xs) - 1}))
    return [xs[i] for i in keep], [ys[i] for i in keep]


@dataclass(frozen=True)
class OverlayRun:
    """A marked run: its name, its (possibly growing) history and its colour."""

    name: str
    fold: HistoryFold
    style: str


class OverlayChart(Widget):
    """The marked runs' ``metric`` against ``x_axis``, smoothed by ``smoothing``, optionally on a log scale."""

    DEFAULT_CSS = """
    OverlayChart { height: 1fr; min-height: 6; padding: 0 1; }
    """

    metric: reactive[str] = reactive("val_bpb")
    x_axis: reactive[str] = reactive("tokens")
    smoothing: reactive[float] = reactive(0.6)
    log: reactive[bool] = reactive(False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.runs: list[OverlayRun] = []
        self._curves: dict[str, tuple[tuple, tuple[list[float], list[float]]]] = {}  # smoothed and thinned
        self._raw: dict[str, tuple[tuple, tuple[list[float], list[float]]]] = {}  # as logged
        self._cache_key: tuple | None = None
        self._cache: RenderableType | None = None

    def set_runs(self, runs: Sequence[OverlayRun]) -> None:
        self.runs = list(runs)
        names = {run.name for run in self.runs}
        self._curves = {name: cached for name, cached in self._curves.items() if name in names}
        self._raw = {name: cached for name, cached in self._raw.items() if name in names}
        self.refresh()

    def data_changed(self) -> None:
        """A marked run's history grew (a live run): redraw."""
        self.refresh()

    def drawn_lines(self, width: int | None = None) -> list[Line]:
        """The curves as drawn at ``width`` cells (the widget's own by default), one :class:`Line` per run."""
        width = self.content_size.width if width is None else width
        buckets = max(2 * width, 1)  # the braille canvas has two dot columns per cell
        lines = []
        labels = short_names([run.name for run in self.runs])  # the legend: what tells the runs apart
        for run in self.runs:
            key = (run.fold.version, self.metric, self.x_axis, self.smoothing, buckets)
            cached = self._curves.get(run.name)
            if cached is None or cached[0] != key:
                xs, ys = self._raw_curve(run)
                cached = (key, thin(xs, debiased_ema(ys, self.smoothing), buckets))
                self._curves[run.name] = cached
            xs, ys = cached[1]
            lines.append(Line(Series(labels[run.name], xs=xs, ys=ys), run.style))
        return lines

    def _raw_curve(self, run: OverlayRun) -> tuple[list[float], list[float]]:
        """The run's unsmoothed points, kept until its data, the metric or the axis change (not the smoothing)."""
        key = (run.fold.version, self.metric, self.x_axis)
        cached = self._raw.get(run.name)
        if cached is None or cached[0] != key:
            cached = (key, curve(run.fold.rows(), self.metric, self.x_axis))
            self._raw[run.name] = cached
        return cached[1]

    @property
    def title(self) -> str:
        smoothing = f" · smoothed {self.smoothing:.2f}" if self.smoothing else ""
        shared = shared_prefix([run.name for run in self.runs])  # said once; the legend has the rest
        return f"{METRICS[self.metric]} by {self.x_axis}{smoothing}" + (f" · {shared}*" if shared else "")

    def render(self) -> RenderableType:
        width, height = self.content_size
        key = (tuple((run.name, run.fold.version, run.style) for run in self.runs), self.metric, self.x_axis,
               self.smoothing, self.log, width, height)
        if key != self._cache_key or self._cache is None:
            placeholder = "mark runs with space to overlay them" if not self.runs else "no points of this metric yet"
            self._cache = chart_with_legend(self.title, self.drawn_lines(width), width, height, log=self.log,
                                            placeholder=placeholder)
            self._cache_key = key
        return self._cache


def chart_with_legend(title: str, lines: Sequence[Line], width: int, height: int, *, log: bool = False,
                      log_x: bool = False, placeholder: str) -> Text:
    """:func:`render_chart` under a legend that wraps (:func:`legend_rows`) in place of its own one-line header."""
    scale = scale_label(log, log_x)
    header = legend_rows(title + (f"  {scale}" if scale else ""), lines, width)
    chart = render_chart(title, lines, width, height - len(header) + 1, log=log, log_x=log_x, placeholder=placeholder)
    return Text("\n").join([*header, *chart.split("\n")[1:]])


def legend_rows(title: str, lines: Sequence[Line], width: int) -> list[Text]:
    """The title, then ``━ label`` per run, on as many rows of ``width`` as they need: a legend cut at
    the edge hides which colour is which run."""
    rows = [Text(title, style="bold")]
    for line in lines:
        entry = Text("━ ", style=line.style).append(line.series.name)
        if rows[-1].cell_len + 2 + entry.cell_len > width and rows[-1].cell_len:
            rows.append(Text(""))
        if rows[-1].cell_len:
            rows[-1].append("  ")
        rows[-1].append_text(entry)
    for row in rows:
        row.truncate(width)
    return rows
