"""The device's peak FLOP/s: the denominator of MFU.

* **A known GPU** takes its datasheet's dense peak for the precision it trains in (``PEAK_TFLOPS``;
  bf16 and fp16 tensor-core rates, without sparsity). Datasheets are what other projects report MFU
  against (nanoGPT, nanochat), so the numbers compare.
* **Anything else** (a CPU, an unknown GPU, MPS) is measured: the best rate of a ``1024 x 1024``
  matmul, the kind of work a training step is made of. On a CPU that takes about a second, so the
  result is cached in ``<cache>/peak_flops.json``, keyed by the device, the thread count and the torch
  version.

A measured peak is only a lower bound: taken while other processes kept the cores busy, it comes out
low, and MFU above 100 % would follow. So a peak below what a training step has just achieved is
wrong by definition: :func:`peak_flops` with ``at_least`` measures again and keeps the larger of the
new measurement and the achieved rate, in the cache too. A datasheet peak is never changed.
"""

from __future__ import annotations

import json
import math
import platform
import time

import torch

from tui_transformer import paths
from tui_transformer.atomic import write_bytes_atomic

# Dense tensor-core peaks in TFLOP/s for (bf16, fp16); fp32 training is measured instead.
PEAK_TFLOPS = {
    "H200": (989.0, 989.0),
    "H100": (989.0, 989.0),  # SXM; the PCIe card is lower, and is matched by "H100 PCIe" first
    "H100 PCIe": (756.0, 756.0),
    "A100": (312.0, 312.0),
    "L40S": (362.0, 362.0),
    "L4": (121.0, 121.0),
    "RTX 4090": (165.2, 165.2),
    "RTX 3090": (71.0, 71.0),
    "A10G": (70.0, 70.0),
    "T4": (65.0, 65.0),
    "V100": (125.0, 125.0),
}
CACHE_FILE = "peak_flops.json"


def known_gpu_peak(name: str, dtype: torch.dtype) -> float | None:
    """The datasheet peak in FLOP/s of the GPU called ``name`` in ``dtype``, or None."""
    if dtype not in (torch.bfloat16, torch.float16):
        return None
    for model in sorted(PEAK_TFLOPS, key=len, reverse=True):  # "H100 PCIe" before "H100"
        if model in name:
            bf16, fp16 = PEAK_TFLOPS[model]
            return (bf16 if dtype == torch.bfloat16 else fp16) * 1e12
    return None


def measure_peak_flops(device: str, dtype: torch.dtype, size: int = 1024, repeats: int = 5) -> float:
    """Best observed rate of a ``size x size`` matmul, in FLOP/s.

    The operands come from a generator of their own: the global one draws a training run's dropout
    masks, and a measurement in the middle of a run must not move it (resume is bitwise).
    """
    generator = torch.Generator(device=device).manual_seed(0)
    a = torch.randn(size, size, device=device, dtype=dtype, generator=generator)
    b = torch.randn(size, size, device=device, dtype=dtype, generator=generator)
    a @ b  # warm up (thread pool, kernels)
    best = math.inf
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        for _ in range(3):
            a @ b
        synchronize(device)
        best = min(best, (time.perf_counter() - start) / 3)
    return 2 * size**3 / best


def synchronize(device: str) -> None:
    """Wait for the device's queued work (a timer around GPU work must, or it times the launch)."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    elif device == "mps":
        torch.mps.synchronize()


def peak_flops(device: str, dtype: torch.dtype, at_least: float = 0.0) -> float:
    """The peak for MFU: a known GPU's datasheet value, else a measured one, cached (see above).

    ``at_least`` is a rate this device has been seen doing: a cached measurement below it is replaced.
    """
    if device.startswith("cuda"):
        known = known_gpu_peak(torch.cuda.get_device_name(torch.device(device)), dtype)
        if known is not None:
            return known
    key = f"{device}|{device_model(device)}|{str(dtype)}|{torch.get_num_threads()}|torch {torch.__version__}"
    cache = paths.cache_dir() / CACHE_FILE
    try:
        measured = json.loads(cache.read_text())
    except (OSError, ValueError):
        measured = {}
    if not isinstance(measured, dict):  # a damaged cache file: measured again and rewritten
        measured = {}
    known = measured.get(key)
    if not isinstance(known, (int, float)) or known < at_least:
        measured[key] = max(measure_peak_flops(device, dtype), at_least)
        try:
            write_bytes_atomic(cache, json.dumps(measured, indent=1).encode())
        except OSError:
            pass  # a read-only cache: measure again next time
    return float(measured[key])


def device_model(device: str) -> str:
    """The GPU's name, or the CPU's as the platform reports it."""
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    return platform.processor() or platform.machine()
