"""How long the dashboard takes to start: its first frame, and the moment torch is ready.

The dashboard is started as a learner starts it, ``python -m tui_transformer`` in a terminal, here
a pseudo-terminal (``pty``) of 120×40 whose output this module reads as the terminal would. Two
moments are timed from the launch:

* **first frame**: the screen is drawn (the output holds the title ``tui-transformer``). Before
  this, the learner looks at a blank terminal. The app draws it before importing torch: nothing on
  its import path imports torch, and a worker loads it once the first frame is on the screen;
* **torch ready**: the header shows the torch version (``torch 2.…``), so the worker has imported
  torch and found the device; training, the Playground and Learn can start at once.

Then ``q`` quits the app. Each launch uses an empty runs folder of its own, so every launch
starts from the same state and no learner's run is touched. One untimed launch comes first:
Python compiles every module on its first import and caches the bytecode (unless
``PYTHONDONTWRITEBYTECODE`` forbids it, which the launches here ignore), and a learner starts the
dashboard far more often than the first time.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from typing import Any

from tui_transformer.paths import RUNS_ENV

COLUMNS, ROWS = 120, 40
FIRST_FRAME = re.compile(rb"tui-transformer")
TORCH_READY = re.compile(rb"torch \d")
TIMEOUT_S = 120.0


def launch_once(timeout_s: float = TIMEOUT_S) -> dict[str, float]:
    """Start the dashboard in a pty; seconds from the launch to its first frame and to torch ready."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    with tempfile.TemporaryDirectory(prefix="tui-transformer-bench-runs-") as runs:
        env = {**os.environ, RUNS_ENV: runs, "TERM": os.environ.get("TERM", "xterm-256color")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # a learner's Python keeps its compiled modules
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "tui_transformer"], stdin=terminal, stdout=terminal,
                                   stderr=terminal, env=env, cwd=runs, close_fds=True, start_new_session=True)
        os.close(terminal)
        try:
            times = _watch(controller, start, timeout_s)
            os.write(controller, b"q")
            _drain_until_exit(controller, process)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            os.close(controller)
    return times


def _watch(controller: int, start: float, timeout_s: float) -> dict[str, float]:
    """Read the terminal's output until both moments have been seen (patterns may straddle reads)."""
    output, times = b"", {}
    patterns = {"first_frame_s": FIRST_FRAME, "torch_ready_s": TORCH_READY}
    while len(times) < len(patterns):
        if time.perf_counter() - start > timeout_s:
            raise TimeoutError(f"the dashboard did not show {sorted(set(patterns) - set(times))} "
                               f"within {timeout_s:.0f} s; its last output: {output[-300:]!r}")
        if select.select([controller], [], [], 0.05)[0]:
            try:
                output += os.read(controller, 65536)
            except OSError:  # the app exited: its terminal is closed
                raise RuntimeError(f"the dashboard exited before it was ready: {output[-300:]!r}") from None
        now = time.perf_counter() - start
        for name, pattern in patterns.items():
            if name not in times and pattern.search(output):
                times[name] = round(now, 3)
    return times


def _drain_until_exit(controller: int, process: subprocess.Popen, timeout_s: float = 30.0) -> None:
    """Keep reading (a full pty would block the app's writes) until the app has quit."""
    deadline = time.perf_counter() + timeout_s
    while process.poll() is None and time.perf_counter() < deadline:
        if select.select([controller], [], [], 0.05)[0]:
            try:
                os.read(controller, 65536)
            except OSError:
                break
    process.wait(timeout=max(deadline - time.perf_counter(), 1.0))


def measure(rounds: int = 3, on_progress=None) -> dict[str, Any]:
    """``rounds`` timed launches after a warm-up; each moment's times, median and maximum, as one JSON-ready dict."""
    say = on_progress or (lambda message: None)
    say("warm-up launch (not timed): Python compiles and caches the modules on a first start…")
    launch_once()
    launches = []
    for index in range(rounds):
        launches.append(launch_once())
        say(f"launch {index + 1}/{rounds}: first frame {launches[-1]['first_frame_s']:.2f} s, "
            f"torch ready {launches[-1]['torch_ready_s']:.2f} s")
    import torch

    from tui_transformer.train.device import resolve_device

    result: dict[str, Any] = {"bench": "tui-startup", "terminal": f"{COLUMNS}x{ROWS}", "rounds": rounds,
                              "torch": torch.__version__, "device": resolve_device("auto")}
    for name in ("first_frame_s", "torch_ready_s"):
        values = [launch[name] for launch in launches]
        result[name] = values
        moment = name.removesuffix("_s")
        result[f"{moment}_median_s"] = round(statistics.median(values), 3)
        result[f"{moment}_max_s"] = max(values)
    return result
