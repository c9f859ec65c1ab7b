"""How fast the Runs screen is with many long runs: the table's load and the overlay's redraw.

The targets (issue 10): with 50 runs of 10,000 logged steps each, the table shows within about a
second of opening, and changing the smoothing or the marked runs redraws the overlay in under
50 ms. :func:`measure` checks them on real files in a real (headless) app:

1. it writes ``runs`` run folders with the core's writers (``config_file.write``, ``MetricsWriter``),
   ``steps`` steps each, an eval every 100 steps and a few doctor alerts, as a trainer would;
2. **table**: the time from asking the screen to list the runs to the table holding every row
   (the listing runs in a thread worker, scanning each metrics file, see
   :mod:`tui_transformer.train.run_scan`): cold (every file read whole, as when the dashboard
   starts) and warm (listing again: only what was appended is read);
3. **overlay**: ``marked`` runs are marked (each history is read once, in a worker; timed apart),
   then the chart is rendered after each smoothing change (every run's EMA is recomputed and
   thinned to the chart's width), and after marking one more run (only that run is computed).

Times are medians and maxima over ``repeats``; the files are in the page cache (just written),
as they are when a learner reopens the screen.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any


def write_runs(root: Path, runs: int, steps: int) -> None:
    """``runs`` finished run folders of ``steps`` steps under ``root`` (see the module docstring)."""
    from tui_transformer.presets import PRESETS
    from tui_transformer.train import config_file
    from tui_transformer.train.events import Alert, EvalResult, RunFinished, RunStarted, StepMetrics
    from tui_transformer.train.metrics import MetricsWriter

    for index in range(runs):
        name = f"bench-{index:02d}"
        config = PRESETS["tiny"].with_overrides(data="builtin", run_name=name, lr=1e-3 * (1 + index % 5),
                                                sweep=f"sweep-{index // 10}")
        run_dir = root / name
        (run_dir / "checkpoints").mkdir(parents=True)
        config_file.write(config, run_dir / "config.toml")
        writer = MetricsWriter(run_dir)
        writer.write(RunStarted(str(run_dir), name, config.to_dict(), "cpu", "tiny", "bench", 1_000_000))
        rate = 0.0002 * (1 + index % 7)
        for step in range(1, steps + 1):
            loss = 1.5 + 8.0 * math.exp(-rate * step) + 0.1 * math.sin(step * (index + 1))
            writer.write(StepMetrics(step, steps, 1, loss, math.exp(loss), 1e-3, 0.5, 5000.0, 4096 * step,
                                     0.05 * step, None))
            if step % 100 == 0:
                writer.write(EvalResult(step, loss + 0.1, math.exp(loss + 0.1), loss, "normal", (loss + 0.1) / 2.5))
            if step % 2500 == 0:
                writer.write(Alert(step, "plateau", "bench", "Model and training"))
        writer.write(RunFinished(steps, "max_steps", 4096 * steps, loss + 0.1))
        writer.close()


def _summary(seconds: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(seconds) * 1000, 2), "max_ms": round(max(seconds) * 1000, 2)}


async def _measure_screen(runs: int, marked: int, repeats: int, size: tuple[int, int]) -> dict[str, Any]:
    from textual.app import App

    from tui_transformer.train import run_scan
    from tui_transformer.tui.screens.runs import RunsScreen
    from tui_transformer.tui.widgets.overlay_chart import OverlayChart
    from tui_transformer.tui.widgets.run_table import RunTable

    class RunsApp(App):
        def on_mount(self) -> None:
            self.push_screen(RunsScreen())

    app = RunsApp()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        screen = app.screen
        await screen.workers.wait_for_complete()  # the listing that opening started
        table, chart = screen.query_one(RunTable), screen.query_one(OverlayChart)
        loads: dict[str, list[float]] = {"cold": [], "warm": []}
        for i in range(2 * repeats):
            kind = "cold" if i % 2 == 0 else "warm"
            if kind == "cold":
                run_scan._CACHE.clear()  # as when the dashboard starts: every file read whole
            start = time.perf_counter()
            await screen.list_runs().wait()
            await pilot.pause()  # the rows are added on the UI thread, after the worker
            loads[kind].append(time.perf_counter() - start)
        assert table.row_count == runs, table.row_count

        start = time.perf_counter()
        screen.mark(table.runs[:marked])
        await screen.workers.wait_for_complete()
        await pilot.pause()
        mark_load = time.perf_counter() - start
        assert len(chart.runs) == marked

        def render_s() -> float:
            begin = time.perf_counter()
            chart.render()
            return time.perf_counter() - begin

        smoothing = []
        for i in range(repeats):
            chart.smoothing = round(0.5 + 0.4 * (i % 2) + 0.001 * i, 3)  # a new value every time: nothing cached
            smoothing.append(render_s())
        one_more = []
        for i in range(repeats):
            extra = table.runs[marked + i % (runs - marked)]
            screen.mark([extra])
            await screen.workers.wait_for_complete()
            await pilot.pause()
            # the app has drawn it by now: forget that draw and this run's curve, so the timed render is
            # the first one after marking (this run computed, the others from their cache)
            chart._curves.pop(extra.name, None)
            chart._raw.pop(extra.name, None)
            chart._cache_key = None
            one_more.append(render_s())
            screen.unmark([extra.name])
        points = sum(len(run.fold.rows()) for run in chart.runs)
        return {"table_load": _summary(loads["cold"]), "table_reload_warm": _summary(loads["warm"]), "mark_and_read_histories_s": round(mark_load, 3),
                "overlay_redraw_smoothing_change": _summary(smoothing),
                "overlay_redraw_one_more_run": _summary(one_more), "overlay_points": points,
                "chart_cells": list(chart.content_size)}


def measure(runs: int = 50, steps: int = 10_000, marked: int = 5, repeats: int = 10,
            size: tuple[int, int] = (120, 40)) -> dict[str, Any]:
    """Write the runs into a temporary folder, then time the screen (see the module docstring)."""
    import os

    from tui_transformer.paths import RUNS_ENV
    from tui_transformer.train.runs import list_runs

    with tempfile.TemporaryDirectory(prefix="runs-bench-") as temporary:
        root = Path(temporary)
        start = time.perf_counter()
        write_runs(root, runs, steps)
        written = time.perf_counter() - start
        size_mb = sum(path.stat().st_size for path in root.rglob("metrics.jsonl")) / 1e6
        previous = os.environ.get(RUNS_ENV)
        os.environ[RUNS_ENV] = str(root)  # the screen lists the runs folder
        try:
            start = time.perf_counter()
            list_runs(root)
            listing = time.perf_counter() - start
            screen = asyncio.run(_measure_screen(runs, marked, repeats, size))
        finally:
            if previous is None:
                os.environ.pop(RUNS_ENV, None)
            else:
                os.environ[RUNS_ENV] = previous
    return {"bench": "runs", "runs": runs, "steps": steps, "marked": marked, "repeats": repeats,
            "terminal": list(size), "metrics_mb": round(size_mb, 1), "write_s": round(written, 1),
            "list_runs_s": round(listing, 3), **screen}
