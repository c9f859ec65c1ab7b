"""``tui-transformer bench {kv,train,decode,data,profile,gpu,...}``: benchmarks that measure and print one JSON line."""

import argparse
import json
from typing import Any, Callable

from tui_transformer.commands import command_modules


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="measure speed and memory (KV cache, training, decode, data, "
                                                 "profile, the GPU check)")
    benches = parser.add_subparsers(dest="bench", metavar="BENCH")
    for module in command_modules(prefix="bench_"):
        module.register(benches)
    parser.set_defaults(func=lambda args: _missing_bench(parser))


def _missing_bench(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def print_result(result: dict[str, Any], as_json: bool, print_table: Callable[[dict[str, Any], Any], None]) -> None:
    """One JSON object on the last line with ``--json``; otherwise the bench's rich table."""
    if as_json:
        print(json.dumps(result))
        return
    from rich.console import Console

    console = Console()
    # Piped output has no terminal width; rich would assume 80 columns and truncate cells.
    print_table(result, console if console.is_terminal else Console(width=120))
