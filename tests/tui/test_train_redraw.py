"""Watching costs little: the Train screen redraws its charts at most twice a second, and only
those with new points, however fast the events come.

Counted, not timed: each chart's ``data_version`` is bumped once per redraw it asks for.
"""

import asyncio
import math
import time

import pytest

from tests.tui.helpers import make_app
from tui_transformer.train.events import RunStarted, StepMetrics
from tui_transformer.tui.messages import TrainingEvent
from tui_transformer.tui.screens.train import CHART_INTERVAL_S
from tui_transformer.tui.widgets.line_chart import LineChart


def _step(step: int) -> StepMetrics:
    loss = 3 + 5 * math.exp(-step / 50)
    return StepMetrics(step=step, max_steps=1000, epoch=0, loss=loss, ppl=math.exp(loss), lr=1e-3, grad_norm=1.0,
                       tokens_per_sec=5000.0, tokens_seen=step * 1024, elapsed_s=step * 0.02, eta_s=10.0)


@pytest.mark.slow  # seconds of events at a fixed pace, then idle intervals
async def test_charts_redraw_at_most_twice_a_second_and_not_when_idle():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.get_screen("train")
        screen.post_message(TrainingEvent(RunStarted(run_dir="/tmp/x", run_name="x", config={}, device="cpu",
                                                     preset="tiny", preset_reason="", n_params=1)))
        await pilot.pause(CHART_INTERVAL_S)  # the placeholder's change is drawn
        charts = list(screen.query(LineChart))
        before = [chart.data_version for chart in charts]
        start = time.monotonic()
        for step in range(1, 61):  # 50 steps a second for 1.2 s: twelve ticks of the 10 Hz redraw timer
            screen.post_message(TrainingEvent(_step(step)))
            await asyncio.sleep(0.02)
        await pilot.pause(CHART_INTERVAL_S)  # the last points are drawn within one chart interval
        elapsed = time.monotonic() - start
        redraws = [chart.data_version - old for chart, old in zip(charts, before)]
        assert all(1 <= count <= elapsed / CHART_INTERVAL_S + 1 for count in redraws), (redraws, elapsed)
        assert screen.query_one("#loss-chart", LineChart).lines[0].series.xs[-1] == 60  # all of it is there

        await pilot.pause(2 * CHART_INTERVAL_S)  # caught up with the last points
        idle = [chart.data_version for chart in charts]
        await pilot.pause(2 * CHART_INTERVAL_S)
        assert [chart.data_version for chart in charts] == idle  # nothing new, nothing redrawn
