"""``tui-transformer bench {kv,train,data}``: benchmarks that measure and print one JSON line."""

import argparse

from tui_transformer.commands import command_modules


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="measure speed and memory (KV cache, training, data)")
    benches = parser.add_subparsers(dest="bench", metavar="BENCH")
    for module in command_modules(prefix="bench_"):
        module.register(benches)
    parser.set_defaults(func=lambda args: _missing_bench(parser))


def _missing_bench(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2
