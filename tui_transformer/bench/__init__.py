"""Benchmarks: functions that measure and return JSON-serialisable dicts; they never print.

The CLI (``tui-transformer bench ...``) prints their results; the dashboard's Benchmark screen
calls the same functions from a worker thread (``on_progress`` and a ``stop`` event).

Importing this package is cheap (:mod:`tui_transformer.lazy_exports`): the speedrun lesson reads
the recipe benchmark's arms (:mod:`.recipe`, plain data) without loading torch, which
:mod:`.kv_cache` imports.
"""

from typing import TYPE_CHECKING

from tui_transformer.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from tui_transformer.bench.kv_cache import run_kv_bench

__all__ = ["run_kv_bench"]
__getattr__, __dir__ = lazy_exports(__name__, {"run_kv_bench": "kv_cache"})
