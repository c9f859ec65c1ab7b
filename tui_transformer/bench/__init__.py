"""Benchmarks: functions that measure and return JSON-serialisable dicts; they never print.

The CLI (``tui-transformer bench ...``) prints their results; the dashboard's Benchmark screen
calls the same functions from a worker thread (``on_progress`` and a ``stop`` event).
"""

from tui_transformer.bench.kv_cache import run_kv_bench

__all__ = ["run_kv_bench"]
