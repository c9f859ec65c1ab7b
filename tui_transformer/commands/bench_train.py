"""``tui-transformer bench train``: training tokens/s and MFU, ours against a lean nanoGPT-style reference.

Times the full training step (forward, loss, backward, clip, AdamW) of our model with explicit and
with fused (sdpa) attention, and of a nanoGPT-style reference of the same dims, in alternating
rounds within one run. Prints a table, or with ``--json`` one JSON object as the last line.
"""

from __future__ import annotations

import argparse

from tui_transformer.commands.bench import add_model_flags, bench_model


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("train", help="training tokens/s and MFU vs a nanoGPT-style reference",
                                   description=__doc__.split("\n\n")[0])
    add_model_flags(parser)
    parser.add_argument("--seq-len", type=int, default=128, help="context length T (default 128)")
    parser.add_argument("--batch-size", type=int, default=8, help="sequences per step (default 8)")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per round (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of all variants (default 3)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--variants", default=None,
                        help="comma-separated, from ours-explicit, ours-sdpa, reference, reference-fused "
                             "(default: the first three)")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from tui_transformer.bench.training import run_train_bench
    from tui_transformer.errors import ConfigError
    from tui_transformer.train.device import resolve_device

    for name in ("batch_size", "steps", "rounds", "seq_len"):
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    from tui_transformer.commands.bench import set_threads

    set_threads(args.threads)
    from tui_transformer.bench.training import OPTIONAL_VARIANTS, VARIANTS

    variants = VARIANTS if args.variants is None else tuple(v.strip() for v in args.variants.split(",") if v.strip())
    unknown = sorted(set(variants) - set(VARIANTS + OPTIONAL_VARIANTS))
    if unknown or not variants:
        raise ConfigError(f"--variants: unknown {', '.join(unknown) or '(none given)'}; choose from "
                          f"{', '.join(VARIANTS + OPTIONAL_VARIANTS)}")
    config = bench_model(args, max_seq_len=args.seq_len)
    device = resolve_device(args.device)
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("warming up", total=None)
        result = run_train_bench(config, batch_size=args.batch_size, steps_per_round=args.steps, rounds=args.rounds,
                                 device=device, variants=variants,
                                 on_progress=lambda done, total, text: progress.update(task, completed=done,
                                                                                       total=total, description=text))
    from tui_transformer.commands.bench import print_result

    print_result(result, args.json, print_table)
    return 0


def print_table(result: dict, console) -> None:
    from rich import box
    from rich.table import Table

    c = result["config"]
    title = (f"training step, d_model {c['d_model']}, {c['n_layers']} layers, {c['n_heads']} heads, d_ff {c['d_ff']}, "
             f"vocab {c['vocab_size']}, batch {result['batch_size']} x T {result['seq_len']} "
             f"(torch {result['torch']}, {result['device']} {result['precision']}, {result['threads']} threads)")
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.caption = (f"matmul peak measured now: {result['peak_flops'] / 1e9:,.1f} GFLOP/s; "
                     f"{result['flops_per_token'] / 1e6:,.1f} MFLOP per token; "
                     f"{result['peak_memory_kind']} {result['peak_memory_mb']:,.0f} MB")
    for name in ("variant", "ms/step", "tok/s", "vs reference", "MFU", "params"):
        table.add_column(name, justify="left" if name == "variant" else "right", no_wrap=True)
    for row in result["rows"]:
        ratio = "" if row["vs_reference"] is None else f"{row['vs_reference']:.2f}x"
        table.add_row(row["variant"], f"{row['step_ms']:,.1f}", f"{row['tokens_per_s']:,.0f}", ratio,
                      f"{row['mfu'] * 100:.1f}%", f"{row['params'] / 1e6:.2f}M")
    console.print(table)
