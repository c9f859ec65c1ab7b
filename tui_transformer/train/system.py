"""The system panel's numbers: what the machine spends on this run, sampled every few seconds.

* **CPU %** of this process: CPU seconds over wall seconds since the last sample, times 100. Every
  busy thread adds up to 100, so two cores working read about 200;
* **RSS**: the resident memory of this process (Linux ``/proc/self/statm``; elsewhere the peak RSS,
  the nearest that ``resource`` offers);
* **CUDA memory**: what torch's allocator has handed out (*allocated*) and keeps from the driver
  (*reserved*, what ``nvidia-smi`` shows for the process), and the GPU's utilisation where the
  driver reports it;
* **tokens/s and MFU**: ``tokens/s · FLOPs per token / peak FLOP/s`` (see :mod:`tui_transformer.model.tools.flops`
  and :mod:`.peak`).
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Callable

import torch

from tui_transformer.train.events import SystemSample

SAMPLE_INTERVAL_S = 5.0


def rss_bytes() -> int:
    """This process's resident memory now (Linux), or its peak where only that is known."""
    try:
        with open("/proc/self/statm") as file:
            return int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB on Linux


def cuda_numbers(device: str) -> dict[str, float | None]:
    """Allocated and reserved bytes and utilisation %, or Nones off CUDA."""
    if not device.startswith("cuda"):
        return {"cuda_allocated": None, "cuda_reserved": None, "gpu_util": None}
    try:
        util = float(torch.cuda.utilization(torch.device(device)))
    except Exception:  # noqa: BLE001 - it needs pynvml and a driver that answers; the panel shows "-" then
        util = None
    return {"cuda_allocated": float(torch.cuda.memory_allocated(device)),
            "cuda_reserved": float(torch.cuda.memory_reserved(device)), "gpu_util": util}


class SystemSampler:
    """Makes a :class:`~.events.SystemSample` when ``SAMPLE_INTERVAL_S`` have passed since the last.

    ``peak_flops(at_least)`` is called at the first sample (measuring a CPU's peak takes a moment,
    which a run shorter than one interval never pays), and again if the run ever goes faster than the
    peak it gave: a measurement taken while the cores were busy elsewhere (see :mod:`.peak`).
    """

    def __init__(self, device: str, flops_per_token: int, peak_flops: Callable[[float], float],
                 interval_s: float = SAMPLE_INTERVAL_S) -> None:
        self.device, self.flops_per_token, self.interval_s = device, flops_per_token, interval_s
        self._peak_flops, self._peak = peak_flops, None
        self._wall, self._cpu = time.monotonic(), time.process_time()

    def due(self) -> bool:
        return time.monotonic() - self._wall >= self.interval_s

    def sample(self, step: int, tokens_per_sec: float) -> SystemSample:
        achieved = tokens_per_sec * self.flops_per_token
        if self._peak is None or achieved > self._peak:
            self._peak = self._peak_flops(achieved)
        wall, cpu = time.monotonic(), time.process_time()
        cpu_percent = 100.0 * (cpu - self._cpu) / max(wall - self._wall, 1e-9)
        self._wall, self._cpu = wall, cpu
        return SystemSample(step=step, cpu_percent=cpu_percent, rss_bytes=rss_bytes(), tokens_per_sec=tokens_per_sec,
                            mfu=achieved / self._peak, **cuda_numbers(self.device))
