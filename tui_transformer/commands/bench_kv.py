"""``tui-transformer bench kv``: greedy decode speed with no cache, a naive cache and the preallocated cache.

Builds a freshly initialised model of a training preset (``--preset``, default tiny; single flags
override, see :mod:`.bench`), decodes greedily at each ``--lengths`` value, and prints a
table (or, with ``--json``, one JSON object as the last line).
"""

from __future__ import annotations

import argparse

from tui_transformer.commands.bench import add_model_flags, bench_model


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("kv", help="KV-cache decode speed: none vs naive vs preallocated",
                                   description=__doc__.split("\n\n")[0])
    add_model_flags(parser)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--lengths", default="64,128,256,512,1024", help="new-token counts, comma-separated")
    parser.add_argument("--prompt-len", type=int, default=16)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or mps (default cpu)")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    parser.set_defaults(func=run)


def parse_lengths(text: str) -> list[int]:
    from tui_transformer.errors import ConfigError

    try:
        lengths = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"--lengths must be comma-separated positive integers, got {text!r}") from None
    if not lengths or min(lengths) < 1:
        raise ConfigError(f"--lengths must be comma-separated positive integers, got {text!r}")
    return lengths


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from tui_transformer.bench.kv_cache import run_kv_bench
    from tui_transformer.errors import ConfigError
    config = bench_model(args)
    lengths = parse_lengths(args.lengths)
    from tui_transformer.commands.bench import set_threads

    set_threads(args.threads)

    # The progress bar starts with the first measurement, so a bad setting fails on a clean line.
    progress = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                        console=Console(stderr=True), transient=True)
    task = None

    def on_progress(done: int, total: int, message: str) -> None:
        nonlocal task
        if task is None:
            progress.start()
            task = progress.add_task(message, total=total)
        progress.update(task, completed=done, total=total, description=message)

    try:
        result = run_kv_bench(config, lengths=lengths, batch_size=args.batch_size, device=args.device,
                              prompt_len=args.prompt_len, on_progress=on_progress)
    finally:
        progress.stop()
    from tui_transformer.commands.bench import print_result

    print_result(result, args.json, print_table)
    return 0


def print_table(result: dict, console) -> None:
    from rich import box
    from rich.table import Table

    cfg = result["config"]
    title = (f"KV cache, greedy decode, d_model {cfg['d_model']}, {cfg['n_layers']} layers, {cfg['n_heads']} heads, "
             f"d_ff {cfg['d_ff']}, vocab {cfg['vocab_size']}, batch {result['batch_size']}, "
             f"prompt {result['prompt_len']} (torch {result['torch']}, {result['device']}, {result['threads']} threads)")
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.caption = "early/late: median ms per decode step around that position (in parentheses)"
    for name in ("new", "cache", "tok/s", "speedup", "early ms", "late ms", "late/early", "memory"):
        table.add_column(name, justify="left" if name == "cache" else "right", no_wrap=True)
    speedups = {s["length"]: s for s in result["speedups"]}
    for row in result["rows"]:
        speedup = speedups.get(row["length"], {}).get(f"{row['variant']}_vs_none", 1.0)
        table.add_row(
            str(row["length"]), row["variant"], f"{row['tokens_per_s']:,.1f}",
            f"{speedup:.1f}x",
            _ms(row["ms_per_token_early"], row["early_position"]),
            _ms(row["ms_per_token_late"], row["late_position"]),
            "" if row["late_over_early"] is None else f"{row['late_over_early']:.2f}",
            _bytes(row["cache_bytes"]),
        )
    console.print(table)
    flat = result.get("flatness")
    if flat:
        console.print(f"prealloc decode step, timed alternately at two positions: {flat['ms_per_token_early']:.2f} ms at "
                      f"{flat['early_position']}, {flat['ms_per_token_late']:.2f} ms at {flat['late_position']} "
                      f"(late/early {flat['late_over_early']:.2f})")
    if not result["tokens_match"]:
        console.print("[bold red]warning: the variants generated different tokens[/]")


def _ms(value: float | None, position: int | None) -> str:
    return "" if value is None else f"{value:.2f} ({position})"


def _bytes(n: int) -> str:
    if n == 0:
        return "-"
    return f"{n / 2**20:.2f} MiB" if n >= 2**20 else f"{n / 2**10:.0f} KiB"
