"""Does watching slow down training? Tokens/s of one config, headless and under the dashboard.

The dashboard shares the process (and the GIL) with the trainer: every event becomes a message,
the UI thread folds it into the run's history, and a timer redraws ten times a second. This
module measures what that costs by training the *same* config twice (same seed, same data, so
the same work) and comparing the throughput:

* **headless**: ``run_training`` with no event consumer at all, the strictest baseline;
* **dashboard**: the real app, started headless (Textual renders every frame but the driver
  writes nothing), training through the Train screen's worker while the charts redraw.

Throughput is read from each run's own ``metrics.jsonl``: the median of the per-step rates
after warm-up (``elapsed_s`` excludes pauses). The rounds alternate headless / dashboard so that a machine that slows down over time (thermal,
other load) does not favour either side. The dashboard run also samples the UI event loop's
lag (how late a 50 ms timer fires): that delay is what a key press waits before it is handled.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

from tui_transformer.train.config import TrainConfig
from tui_transformer.tui.metrics_tail import MetricsTail

LAG_PROBE_S = 0.05


def tokens_per_second(metrics_file: Path, warmup_fraction: float = 0.2) -> float:
    """Median training tokens/s over the steps of a finished run, after the first ``warmup_fraction``.

    Each step's rate is its tokens over its share of ``elapsed_s``. The median, not the mean, so a
    few steps slowed by something else on the machine do not decide the comparison.
    """
    steps = [event for event in MetricsTail(metrics_file).poll() if type(event).__name__ == "StepMetrics"]
    if len(steps) < 3:
        raise ValueError(f"{metrics_file} has {len(steps)} steps; need at least 3 to measure")
    kept = steps[min(int(len(steps) * warmup_fraction), len(steps) - 2):]
    rates = [(b.tokens_seen - a.tokens_seen) / (b.elapsed_s - a.elapsed_s)
             for a, b in zip(kept, kept[1:]) if b.elapsed_s > a.elapsed_s]
    return statistics.median(rates)


def run_headless(config: TrainConfig) -> Path:
    from tui_transformer.train import run_training

    summary = run_training(config)
    return Path(summary.run_dir)


async def _run_dashboard(config: TrainConfig) -> tuple[Path, list[float]]:
    from tui_transformer.tui.app import TuiTransformerApp

    app = TuiTransformerApp()
    lags: list[float] = []
    async with app.run_test(size=(120, 40)):
        app.switch_mode("train")
        app.train_screen.start_config(config)
        while app.training_active:
            before = time.perf_counter()
            await asyncio.sleep(LAG_PROBE_S)
            lags.append(time.perf_counter() - before - LAG_PROBE_S)
        await app.workers.wait_for_complete()
        started = app.train_screen.history.started
    if started is None:
        raise RuntimeError("the dashboard run did not start; see its notification")
    return Path(started.run_dir), lags


def run_dashboard(config: TrainConfig) -> tuple[Path, list[float]]:
    return asyncio.run(_run_dashboard(config))


def compare(config: TrainConfig, rounds: int = 1, on_progress=None) -> dict[str, Any]:
    """Train ``config`` headless and under the dashboard, ``rounds`` times each; tokens/s and their ratio."""
    import torch

    say = on_progress or (lambda message: None)
    config = config.with_overrides(eval_interval=10**9, sample_interval=10**9, checkpoint_interval=10**9)
    headless, dashboard, lags = [], [], []
    for round_index in range(rounds):
        say(f"round {round_index + 1}/{rounds}: headless…")
        headless.append(tokens_per_second(run_headless(config) / "metrics.jsonl"))
        say(f"round {round_index + 1}/{rounds}: dashboard…")
        run_dir, round_lags = run_dashboard(config)
        dashboard.append(tokens_per_second(run_dir / "metrics.jsonl"))
        lags.extend(round_lags)
        say(f"  headless {headless[-1]:,.0f} tok/s, dashboard {dashboard[-1]:,.0f} tok/s")
    lags_ms = sorted(lag * 1000 for lag in lags) or [0.0]
    return {
        "bench": "tui",
        "config": {"preset": config.preset, "model": config.model.to_dict(), "data": config.data,
                   "tokenizer": config.tokenizer, "batch_size": config.batch_size, "max_steps": config.max_steps},
        "torch": torch.__version__,
        "device": config.device,
        "rounds": rounds,
        "headless_tokens_per_s": [round(value, 1) for value in headless],
        "dashboard_tokens_per_s": [round(value, 1) for value in dashboard],
        "ratio": round(statistics.mean(dashboard) / statistics.mean(headless), 3),
        "ui_loop_lag_ms": {"p50": round(lags_ms[len(lags_ms) // 2], 1),
                           "p99": round(lags_ms[min(int(len(lags_ms) * 0.99), len(lags_ms) - 1)], 1),
                           "max": round(lags_ms[-1], 1)},
    }
