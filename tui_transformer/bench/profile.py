"""Where the time goes: the torch profiler over decode steps and training steps, ours beside the yardstick.

A step's wall time splits into two parts::

    wall = op time                  time inside PyTorch's top-level operators (aten::linear, aten::add,
                                    ...: the dispatcher, the kernels, their allocations)
         + Python overhead          everything between the operators: module calls, argument
                                    handling, the sampler's and the loop's own Python

The profiler records every operator with its parent; summing the *top-level* ones (those no other
operator called) gives the op time without counting a child twice. Small models are dispatch-bound:
their operators are microseconds each, so the number of operators per step and the Python between
them set the speed, not the arithmetic. The profiler adds about a microsecond per operator, so
profiled walls are a little slower than the benchmarks' own; compare the variants within one run.

Decode profiles the steps after the first token (the prefill is left out), for ``ours``
(:func:`~tui_transformer.model.generate`) and the benchmark's ``lean`` loop. Training profiles full
steps (forward, loss, backward, clip, AdamW) of ``ours-sdpa`` and the nanoGPT-style ``reference``.
"""

from __future__ import annotations

import dataclasses
import os
from collections import defaultdict
from typing import Callable

import torch
from torch.profiler import ProfilerActivity, profile

from tui_transformer.model import DecoderTransformer, ModelConfig

TOP_OPS = 8


def summarise(prof: profile, steps: int, wall_s: float) -> dict:
    """Per step: wall, op time, Python overhead, operator count, and the operators with most self time."""
    events = [e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CPU]
    top_level = [e for e in events if e.name.startswith("aten::") and not _inside_an_op(e)]
    op_us = sum(e.cpu_time_total for e in top_level)
    self_us: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    for event in events:
        if event.name.startswith("aten::"):
            self_us[event.name] += event.self_cpu_time_total
            calls[event.name] += 1
    wall_us = wall_s * 1e6
    ranked = sorted(self_us, key=self_us.get, reverse=True)[:TOP_OPS]
    return {
        "wall_ms": round(wall_us / steps / 1e3, 3),
        "op_ms": round(op_us / steps / 1e3, 3),
        "python_ms": round(max(0.0, wall_us - op_us) / steps / 1e3, 3),
        "python_share": round(max(0.0, wall_us - op_us) / wall_us, 3),
        "ops_per_step": round(len(top_level) / steps, 1),
        "top_ops": [{"op": name, "self_ms": round(self_us[name] / steps / 1e3, 4),
                     "calls": round(calls[name] / steps, 1)} for name in ranked],
    }


def _inside_an_op(event) -> bool:
    """Whether an operator called this one (backward ops sit under autograd's own, non-aten, events)."""
    parent = event.cpu_parent
    while parent is not None:
        if parent.name.startswith("aten::"):
            return True
        parent = parent.cpu_parent
    return False


def _quiet_kineto() -> None:
    """Silence the profiler library's own log lines on stderr, unless the user set a level.

    Kineto, the library under ``torch.profiler``, prints its stages (``USDT: profiler_start``) and, on
    a machine without a GPU, ``gpuGetDeviceCount failed``, although only CPU activity is profiled
    here. It reads ``KINETO_LOG_LEVEL`` once, when a process's first profile starts (this module's
    are the only ones the project starts); 6 is above its highest severity.
    """
    os.environ.setdefault("KINETO_LOG_LEVEL", "6")


def _profiled(run: Callable[[Callable[[], None]], None], steps: int) -> dict:
    """Profile between the second and third call of the ``tick`` that ``run`` makes (the decode loop's
    "first token chosen" and "done"), or around all of ``run`` when it ticks only twice."""
    import time

    state: dict = {"ticks": 0}
    _quiet_kineto()

    def tick() -> None:
        state["ticks"] += 1
        if state["ticks"] == 2:
            state["prof"] = profile(activities=[ProfilerActivity.CPU])
            state["prof"].__enter__()
            state["start"] = time.perf_counter()
        elif state["ticks"] == 3:
            state["wall"] = time.perf_counter() - state["start"]
            state["prof"].__exit__(None, None, None)

    run(tick)
    return summarise(state["prof"], steps, state["wall"])


def profile_decode(model_config: ModelConfig, batch_size: int = 1, prompt_len: int = 64,
                   new_tokens: int = 65) -> dict:
    """Profile ``new_tokens - 1`` cached greedy decode steps of ours and of the lean loop."""
    from tui_transformer.bench.decode import _lean, _ours, decode_config

    config = decode_config(model_config, prompt_len, new_tokens)
    torch.manual_seed(0)
    model = DecoderTransformer(config).eval()
    prompt = torch.randint(0, config.vocab_size, (batch_size, prompt_len), generator=torch.Generator().manual_seed(0))
    variants = {"ours": _ours, "lean": _lean}
    for decode in variants.values():  # warm up: the thread pool, the allocator's caches
        decode(model, prompt, 4, lambda: None)
    rows = {name: _profiled(lambda tick, d=decode: d(model, prompt, new_tokens, tick), new_tokens - 1)
            for name, decode in variants.items()}
    return {"bench": "profile", "workload": "decode", "config": dataclasses.asdict(config), "batch": batch_size,
            "prompt_len": prompt_len, "steps": new_tokens - 1, "threads": torch.get_num_threads(),
            "torch": torch.__version__, "variants": rows}


def profile_train(model_config: ModelConfig, batch_size: int = 8, steps: int = 3) -> dict:
    """Profile ``steps`` full training steps of ours (fused attention) and of the reference."""
    from tui_transformer.bench.training import build_variant, train_step
    from tui_transformer.train.allocator import keep_freed_memory

    keep_freed_memory()  # as the trainer does on the CPU
    x = torch.randint(0, model_config.vocab_size, (batch_size, model_config.max_seq_len),
                      generator=torch.Generator().manual_seed(0))
    y = torch.roll(x, -1, dims=1)
    rows = {}
    for variant in ("ours-sdpa", "reference"):
        model, optimizer = build_variant(variant, model_config, "cpu")
        for _ in range(2):  # warm up
            train_step(model, optimizer, x, y)

        def run(tick, model=model, optimizer=optimizer) -> None:
            tick()
            tick()
            for _ in range(steps):
                train_step(model, optimizer, x, y)
            tick()

        rows[variant] = _profiled(run, steps)
    return {"bench": "profile", "workload": "train", "config": model_config.to_dict(), "batch": batch_size,
            "steps": steps, "threads": torch.get_num_threads(), "torch": torch.__version__, "variants": rows}
