"""The KV-cache benchmark: what caching keys and values buys during greedy decoding.

For each number of new tokens (default 64 .. 1024) the same model decodes the same prompt greedily
three ways, and every decode step is timed:

* ``none``: no cache; each step runs the model's plain forward over the whole context (``O(t)``
  per token), logits at every position included, exactly what ``generate(use_cache=False)`` does;
* ``naive``: a cache that grows by ``torch.cat`` (each step copies all of it);
* ``prealloc``: the preallocated cache written in place (:class:`~tui_transformer.model.KVCache`).

Reported per (length, variant): tokens/s for the whole generation (prefill included), the median
time of a decode step near position ~100 (``early``) and at the end of the run (``late``, ~1000 for
1024 new tokens), and the cache's memory. Then speedups as ratios *within this run*, since absolute
times drift on a shared machine. Medians of 32 steps make the early/late times robust to a busy
neighbour. The three variants must choose the same tokens (``tokens_match``): a cache that changed
the output would make its speed meaningless.

On a shared machine a burst of load during one window skews that in-run early/late comparison,
so ``flatness`` measures it again the robust way: two preallocated caches are filled to the early
and the late position, then single decode steps are timed on each *alternately* (the cache is
rewound after every step), so any load hits both positions alike; medians of ``FLAT_STEPS`` each.

The model is freshly initialised (speed does not depend on the weights) and its ``max_seq_len`` is
raised when needed to ``prompt_len + max(lengths)``, so no window slide happens while measuring.
"""

from __future__ import annotations

import dataclasses
import statistics
import threading
import time
from collections.abc import Callable, Sequence

import torch

from tui_transformer.errors import ConfigError
from tui_transformer.model import DecoderTransformer, ModelConfig

VARIANTS = ("none", "naive", "prealloc")
WINDOW = 32  # decode steps per early/late median
EARLY_POSITION = 100
FLAT_STEPS = 100  # alternating decode steps per position for the flatness measurement

ProgressCallback = Callable[[int, int, str], None]


class _Stopped(Exception):
    """The caller set the stop event; the benchmark returns what it measured so far."""


def run_kv_bench(
    model_config: ModelConfig,
    lengths: Sequence[int] = (64, 128, 256, 512, 1024),
    batch_size: int = 1,
    device: str = "cpu",
    prompt_len: int = 16,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> dict:
    """Measure greedy decode with no cache, the naive cache and the preallocated cache.

    ``on_progress(done, total, message)`` is called as tokens are generated (``total`` counts every
    token of every run); setting ``stop`` ends the benchmark early, with ``"stopped": True``.
    Returns a JSON-serialisable dict (see the module docstring).
    """
    lengths = sorted(set(lengths))
    if not lengths or lengths[0] < 1:
        raise ConfigError(f"lengths must be positive numbers of new tokens, got {list(lengths)}")
    if batch_size < 1 or prompt_len < 1:
        raise ConfigError(f"batch_size and prompt_len must be >= 1, got {batch_size} and {prompt_len}")
    needed = prompt_len + lengths[-1]
    config = dataclasses.replace(model_config, max_seq_len=max(model_config.max_seq_len, needed), dropout=0.0)
    torch_device = _device(device)
    torch.manual_seed(0)
    model = DecoderTransformer(config).to(torch_device).eval()
    prompt = torch.randint(0, config.vocab_size, (batch_size, prompt_len),
                           generator=torch.Generator().manual_seed(0)).to(torch_device)

    total = len(VARIANTS) * sum(lengths) + (2 * FLAT_STEPS if prompt_len + lengths[-1] - 1 > EARLY_POSITION else 0)
    progress = _Progress(on_progress, total, stop)
    result = {
        "benchmark": "kv_cache",
        "config": config.to_dict(),
        "parameters": model.num_parameters(),
        "torch": torch.__version__,
        "device": str(torch_device),
        "threads": torch.get_num_threads(),
        "batch_size": batch_size,
        "prompt_len": prompt_len,
        "lengths": lengths,
        "rows": [],
        "speedups": [],
        "tokens_match": True,
        "flatness": None,
        "stopped": False,
    }
    try:
        for variant in VARIANTS:  # warm-up: first calls pay for allocator and kernel setup
            _decode(model, prompt, min(16, lengths[0]), variant, progress=None)
        for length in lengths:
            outputs = {}
            for variant in VARIANTS:
                progress.message = f"{variant} cache, {length} new tokens"
                tokens, row = _measure(model, prompt, length, variant, progress)
                outputs[variant] = tokens
                result["rows"].append(row)
            if not (torch.equal(outputs["none"], outputs["naive"]) and torch.equal(outputs["none"], outputs["prealloc"])):
                result["tokens_match"] = False
            result["speedups"].append(_speedups(result["rows"][-len(VARIANTS):]))
        late = prompt_len + lengths[-1] - 1
        if late > EARLY_POSITION:
            progress.message = "decode cost at two positions"
            result["flatness"] = _flatness(model, prompt, EARLY_POSITION, late, progress)
    except _Stopped:
        result["stopped"] = True
    return result


def _device(name: str) -> torch.device:
    try:
        device = torch.device(name)
    except RuntimeError as error:
        raise ConfigError(f"unknown device {name!r}: {error}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' asked for, but no CUDA GPU is available")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("device 'mps' asked for, but MPS is not available")
    return device


class _Progress:
    def __init__(self, callback: ProgressCallback | None, total: int, stop: threading.Event | None) -> None:
        self.callback, self.total, self.stop = callback, total, stop
        self.done = 0
        self.message = ""

    def tick(self) -> None:
        """One token generated: check for a stop, report now and then."""
        if self.stop is not None and self.stop.is_set():
            raise _Stopped
        self.done += 1
        if self.callback is not None and (self.done % 16 == 0 or self.done == self.total):
            self.callback(self.done, self.total, self.message)


def _measure(model, prompt, length: int, variant: str, progress: _Progress) -> tuple[torch.Tensor, dict]:
    tokens, step_times, cache_bytes = _decode(model, prompt, length, variant, progress)
    total_s = sum(step_times)
    prompt_len = prompt.shape[1]
    # step_times[0] is the prefill; step_times[i] (i >= 1) is the forward pass of the token at
    # position prompt_len + i - 1, which produces new token i.
    decode = step_times[1:]
    early_start = max(0, min(EARLY_POSITION - prompt_len, len(decode) - 2 * WINDOW))
    early = decode[early_start : early_start + WINDOW]
    late = decode[-WINDOW:]
    early_ms = statistics.median(early) * 1e3 if early else None
    late_ms = statistics.median(late) * 1e3 if late else None
    row = {
        "length": length,
        "variant": variant,
        "seconds": round(total_s, 4),
        "tokens_per_s": round(length * prompt.shape[0] / total_s, 1),
        "early_position": prompt_len + early_start + len(early) // 2 if early else None,
        "late_position": prompt_len + len(decode) - len(late) // 2 if late else None,
        "ms_per_token_early": round(early_ms, 3) if early_ms else None,
        "ms_per_token_late": round(late_ms, 3) if late_ms else None,
        "late_over_early": round(late_ms / early_ms, 3) if early_ms and late_ms else None,
        "cache_bytes": cache_bytes,
    }
    return tokens, row


def _decode(model, prompt: torch.Tensor, length: int, variant: str, progress: _Progress | None):
    """Greedy decode ``length`` tokens; returns (tokens [B, length], per-step seconds, cache bytes).

    A plain loop rather than :func:`~tui_transformer.model.generate`, so that the three variants
    run the very same code around the model and differ only in the cache.
    """
    batch, prompt_len = prompt.shape
    sync = torch.cuda.synchronize if prompt.device.type == "cuda" else (lambda: None)
    cache = None
    if variant == "prealloc":
        cache = model.new_cache(batch_size=batch, max_len=prompt_len + length)
    elif variant == "naive":
        cache = model.new_cache(batch_size=batch, naive=True)
    sequence = torch.empty(batch, prompt_len + length, dtype=torch.long, device=prompt.device)
    sequence[:, :prompt_len] = prompt
    step_times = []
    with torch.inference_mode():
        for i in range(length):
            end = prompt_len + i
            if cache is None:
                model_input = sequence[:, :end]
            else:
                model_input = sequence[:, :end] if i == 0 else sequence[:, end - 1 : end]
            start = time.perf_counter()
            next_ids = model(model_input, cache=cache, last_only=True)[:, -1].argmax(dim=-1)
            sequence[:, end] = next_ids
            sync()
            step_times.append(time.perf_counter() - start)
            if progress is not None:
                progress.tick()
    cache_bytes = 0 if cache is None else cache.memory_bytes()
    return sequence[:, prompt_len:].clone(), step_times, cache_bytes


def _flatness(model, prompt: torch.Tensor, early: int, late: int, progress: _Progress) -> dict:
    """Median time of one decode step at ``early`` and at ``late`` positions, timed alternately."""
    batch = prompt.shape[0]
    sync = torch.cuda.synchronize if prompt.device.type == "cuda" else (lambda: None)
    filler = torch.randint(0, model.config.vocab_size, (batch, late), generator=torch.Generator().manual_seed(1))
    filler = filler.to(prompt.device)
    positions = (early, late)
    caches = [model.new_cache(batch_size=batch, max_len=late + 1) for _ in positions]
    times: tuple[list[float], list[float]] = ([], [])
    with torch.inference_mode():
        for position, cache in zip(positions, caches):
            model(filler[:, :position], cache=cache)
        token = filler[:, -1:]
        for _ in range(FLAT_STEPS):
            for position, cache, seconds in zip(positions, caches, times):
                cache.length = position  # rewind: every step decodes at the same position
                start = time.perf_counter()
                model(token, cache=cache).argmax(dim=-1)
                sync()
                seconds.append(time.perf_counter() - start)
                progress.tick()
    early_ms, late_ms = (statistics.median(seconds) * 1e3 for seconds in times)
    return {
        "early_position": early,
        "late_position": late,
        "ms_per_token_early": round(early_ms, 3),
        "ms_per_token_late": round(late_ms, 3),
        "late_over_early": round(late_ms / early_ms, 3),
    }


def _speedups(rows: list[dict]) -> dict:
    by_variant = {row["variant"]: row for row in rows}
    none, naive, prealloc = (by_variant[v]["tokens_per_s"] for v in VARIANTS)
    return {
        "length": rows[0]["length"],
        "prealloc_vs_none": round(prealloc / none, 2),
        "naive_vs_none": round(naive / none, 2),
        "prealloc_vs_naive": round(prealloc / naive, 2),
    }
