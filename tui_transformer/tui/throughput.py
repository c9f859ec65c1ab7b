"""Does watching slow down training? Tokens/s of one config, headless and under the dashboard.

The dashboard shares the process (and the GIL) with the trainer: every event becomes a message,
the UI thread folds it into the run's history, and a timer redraws ten times a second. This
module measures what that costs by training the *same* config twice (same seed, same data, so
the same work) and comparing the throughput:

* **headless**: ``run_training`` with no event consumer at all, the strictest baseline, once on
  the main thread (as ``train --no-ui`` runs it) and once on a worker thread (as the dashboard
  runs it);
* **dashboard**: the real app, started headless (Textual renders every frame but the driver
  writes nothing), training through the Train screen's worker while the charts redraw.

Each measurement runs in a fresh process (``python -m tui_transformer.tui.throughput``), as a user
runs them. Within one process they would disturb each other: OpenMP keeps one team of worker
threads per thread that has run torch ops, so a thread training after the main thread has trained
competes with the main thread's still-spinning team (measured: a worker thread 20-30 % slower
than the main thread in the same process, and no slower in a process of its own).

Throughput is read from each run's own ``metrics.jsonl``: the median of the per-step rates
after warm-up (``elapsed_s`` excludes pauses). Each round runs every variant, in an order rotated
from round to round, so that a machine that slows down or speeds up over time (thermal, other
load) does not favour one of them.

Three more numbers depend less on what else runs on the machine: the CPU time of the UI thread
(where Textual's event loop, the event handling and all drawing happen) as a share of one core
while the run trains, which bounds what the dashboard can take from the trainer; the same CPU
time per training step once steps arrive, the UI's work per step; and the UI event loop's lag (how late a 50 ms
timer fires), which is what a key press waits before it is handled.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tui_transformer.paths import RUNS_ENV
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


def run_headless(config: TrainConfig, in_thread: bool = False) -> Path:
    """Train with no consumer of the events, on this thread or (like the dashboard) on a new one."""
    from tui_transformer.train import run_training

    if not in_thread:
        return Path(run_training(config).run_dir)
    result: list = []
    worker = threading.Thread(target=lambda: result.append(run_training(config)))
    worker.start()
    worker.join()
    if not result:
        raise RuntimeError("the headless run in a thread failed; run it on the main thread to see why")
    return Path(result[0].run_dir)


async def _run_dashboard(config: TrainConfig) -> tuple[Path, list[float], list[float], float, float]:
    """Train under the app; returns the run dir, the loop lags (all, and those once steps arrive), the
    UI thread's share of one core and its CPU milliseconds per training step."""
    from tui_transformer.tui.app import TuiTransformerApp

    app = TuiTransformerApp()
    lags: list[float] = []
    stepping_lags: list[float] = []  # the setup (corpus, tokenizer, model) runs in C calls that hold the GIL
    async with app.run_test(size=(120, 40)):
        app.switch_mode("train")
        screen = app.get_screen("train")
        screen.start_config(config)
        # The event loop runs on this (main) thread: its CPU time is the dashboard's whole cost.
        cpu_start, wall_start = time.thread_time(), time.perf_counter()
        first_step: tuple[int, float] | None = None  # (step, UI CPU time) when the first step arrived
        while app.training_active:
            before = time.perf_counter()
            await asyncio.sleep(LAG_PROBE_S)
            lags.append(time.perf_counter() - before - LAG_PROBE_S)
            if first_step is not None:
                stepping_lags.append(lags[-1])
            last_step = screen.history.last_step
            if first_step is None and last_step is not None:
                first_step = (last_step.step, time.thread_time())
        cpu_end = time.thread_time()
        ui_share = (cpu_end - cpu_start) / (time.perf_counter() - wall_start)
        await app.workers.wait_for_complete()
        history = screen.history
    if history.started is None or history.last_step is None:
        raise RuntimeError("the dashboard run did not train; see its notification")
    # per step once steps arrive: the run's setup (corpus, tokenizer, first frames) is not a step's cost
    if first_step is None or history.last_step.step <= first_step[0]:  # all steps came between two probes
        first_step = (0, cpu_start)
    ms_per_step = 1000 * (cpu_end - first_step[1]) / (history.last_step.step - first_step[0])
    return Path(history.started.run_dir), lags, stepping_lags, ui_share, ms_per_step


def run_dashboard(config: TrainConfig) -> tuple[Path, list[float], list[float], float, float]:
    return asyncio.run(_run_dashboard(config))


def measure(variant: str, config: TrainConfig) -> dict[str, Any]:
    """One run of ``variant`` ("headless_main", "headless_thread" or "dashboard") in this process."""
    if variant == "dashboard":
        run_dir, lags, stepping_lags, ui_share, ui_ms_per_step = run_dashboard(config)
        return {"tokens_per_s": tokens_per_second(run_dir / "metrics.jsonl"), "lags": lags,
                "stepping_lags": stepping_lags, "ui_share": ui_share, "ui_ms_per_step": ui_ms_per_step}
    run_dir = run_headless(config, in_thread=variant == "headless_thread")
    return {"tokens_per_s": tokens_per_second(run_dir / "metrics.jsonl")}


def _measure_in_a_new_process(variant: str, config: TrainConfig) -> dict[str, Any]:
    command = [sys.executable, "-m", __name__, variant, json.dumps(config.to_dict())]
    # These runs are measurements, not the learner's: they train in a runs folder of their own,
    # deleted afterwards, so they never show up in `runs list` or the pickers (each holds checkpoints).
    with tempfile.TemporaryDirectory(prefix="tui-transformer-bench-runs-") as runs:
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, RUNS_ENV: runs})
    if done.returncode != 0:
        raise RuntimeError(f"the {variant} measurement failed:\n{done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(config: TrainConfig, rounds: int = 1, on_progress=None) -> dict[str, Any]:
    """Train ``config`` headless (main thread, then a worker thread) and under the dashboard, per round."""
    import torch

    say = on_progress or (lambda message: None)
    config = config.with_overrides(eval_interval=10**9, sample_interval=10**9, checkpoint_interval=10**9,
                                   run_dir=None, run_name=None)
    rates: dict[str, list[float]] = {"headless_main": [], "headless_thread": [], "dashboard": []}
    lags, stepping_lags, ui_shares, ui_ms_per_step = [], [], [], []
    variants = list(rates)
    for round_index in range(rounds):
        # Rotate the order every round: a machine that speeds up or slows down must not favour one variant.
        order = variants[round_index % 3:] + variants[:round_index % 3]
        for name in order:
            say(f"round {round_index + 1}/{rounds}: {name.replace('_', ' ')}…")
            result = _measure_in_a_new_process(name, config)
            rates[name].append(result["tokens_per_s"])
            if name == "dashboard":
                lags.extend(result["lags"])
                stepping_lags.extend(result["stepping_lags"])
                ui_shares.append(result["ui_share"])
                ui_ms_per_step.append(result["ui_ms_per_step"])
        say("  " + ", ".join(f"{name} {values[-1]:,.0f} tok/s" for name, values in rates.items())
            + f", UI thread {ui_shares[-1]:.1%} of a core")
    mean = {name: statistics.mean(values) for name, values in rates.items()}
    return {
        "bench": "tui",
        "config": {"preset": config.preset, "model": config.model.to_dict(), "data": config.data,
                   "tokenizer": config.tokenizer, "batch_size": config.batch_size, "max_steps": config.max_steps},
        "torch": torch.__version__,
        "device": config.device,
        "rounds": rounds,
        **{f"{name}_tokens_per_s": [round(value, 1) for value in values] for name, values in rates.items()},
        # the dashboard's own cost: same threading, with and without the UI
        "ratio": round(mean["dashboard"] / mean["headless_thread"], 3),
        # what a user sees against `train --no-ui`, which trains on the main thread
        "ratio_vs_main_thread": round(mean["dashboard"] / mean["headless_main"], 3),
        "ui_thread_cpu_share": [round(share, 4) for share in ui_shares],
        # the UI's work per step: CPU time, so other load changes it little (slower steps add idle ticks)
        "ui_cpu_ms_per_step": [round(ms, 2) for ms in ui_ms_per_step],
        "ui_loop_lag_ms": _lag_percentiles(lags),
        # the same once the first step has arrived: a key press while the run trains
        "ui_loop_lag_ms_while_stepping": _lag_percentiles(stepping_lags),
    }


def _lag_percentiles(lags: list[float]) -> dict[str, float]:
    lags_ms = sorted(lag * 1000 for lag in lags) or [0.0]
    return {"p50": round(lags_ms[len(lags_ms) // 2], 1),
            "p99": round(lags_ms[min(int(len(lags_ms) * 0.99), len(lags_ms) - 1)], 1),
            "max": round(lags_ms[-1], 1)}


if __name__ == "__main__":  # one measurement, run by compare() in a fresh process
    print(json.dumps(measure(sys.argv[1], TrainConfig.from_dict(json.loads(sys.argv[2])))))
