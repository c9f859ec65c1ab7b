"""``tui-transformer bench profile {decode,train}``: where a step's time goes, by the torch profiler.

Splits each step's wall time into the time inside PyTorch's operators and the Python between them,
counts the operators per step and lists those with the most self time, for our model beside the
benchmark's yardstick (the lean decode loop, the nanoGPT-style reference); see
:mod:`tui_transformer.bench.profile`.
"""

from __future__ import annotations

import argparse

from tui_transformer.commands.bench import add_model_flags, bench_model


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("profile", help="the torch profiler on decode or training steps: ops vs Python",
                                   description=__doc__.split("\n\n")[0])
    parser.add_argument("workload", choices=("decode", "train"))
    add_model_flags(parser)
    parser.add_argument("--batch-size", type=int, default=None, help="decode: 1 (default); train: 8 (default)")
    parser.add_argument("--seq-len", type=int, default=128, help="train: context length T (default 128)")
    parser.add_argument("--prompt-len", type=int, default=64, help="decode: prompt tokens (default 64)")
    parser.add_argument("--steps", type=int, default=None, help="steps profiled (decode 64, train 3)")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tui_transformer.bench.profile import profile_decode, profile_train
    from tui_transformer.commands.bench import print_result
    from tui_transformer.errors import ConfigError

    for name in ("batch_size", "steps", "threads"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    for name in ("seq_len", "prompt_len"):
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    from tui_transformer.commands.bench import set_threads

    set_threads(args.threads)
    if args.workload == "decode":
        result = profile_decode(bench_model(args), batch_size=args.batch_size or 1, prompt_len=args.prompt_len,
                                new_tokens=(args.steps or 64) + 1)
    else:
        result = profile_train(bench_model(args, max_seq_len=args.seq_len), batch_size=args.batch_size or 8,
                               steps=args.steps or 3)
    print_result(result, args.json, print_table)
    return 0


def print_table(result: dict, console) -> None:
    from rich import box
    from rich.table import Table

    c = result["config"]
    table = Table(title=(f"profile of {result['steps']} {result['workload']} steps, batch {result['batch']}, "
                         f"d_model {c['d_model']}, {c['n_layers']} layers, vocab {c['vocab_size']} "
                         f"(torch {result['torch']}, {result['threads']} threads), per step"),
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("variant", "wall ms", "op ms", "Python ms", "Python share", "ops", "most self time"):
        table.add_column(name, justify="left" if name in ("variant", "most self time") else "right")
    for name, row in result["variants"].items():
        top = ", ".join(f"{op['op'].removeprefix('aten::')} {op['self_ms']:.3f}" for op in row["top_ops"][:4])
        table.add_row(name, f"{row['wall_ms']:.3f}", f"{row['op_ms']:.3f}", f"{row['python_ms']:.3f}",
                      f"{row['python_share']:.0%}", f"{row['ops_per_step']:.0f}", top)
    console.print(table)
