"""``tui-transformer bench decode``: cached greedy decode, ours against a lean loop and Hugging Face.

Reports decode tokens/s at each ``--batch-sizes`` value, the time to first token for a
``--prompt-len`` prompt, and at batch 1 the model bandwidth utilisation against the memory
bandwidth measured in the same run (see :mod:`tui_transformer.bench.decode`). Hugging Face's
``GPT2LMHeadModel.generate`` is timed too when ``transformers`` is installed (``uv sync --extra hf``).
"""

from __future__ import annotations

import argparse

from tui_transformer.commands.bench import add_model_flags, bench_model
from tui_transformer.commands.bench_kv import parse_lengths


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("decode", help="cached greedy decode: ours vs a lean loop vs HF generate, MBU",
                                   description=__doc__.split("\n\n")[0])
    add_model_flags(parser)
    parser.add_argument("--batch-sizes", default="1,8", help="comma-separated (default 1,8)")
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--prompt-len", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians are kept")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or mps (default cpu)")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--compile", action="store_true",
                        help="add ours-compiled: generate on torch.compile(model, dynamic=True), compiled first")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tui_transformer.bench.decode import run_decode_bench
    from tui_transformer.commands.bench import print_result
    from tui_transformer.errors import ConfigError

    for name in ("new_tokens", "prompt_len", "rounds"):
        if getattr(args, name) < 1 or (name == "new_tokens" and args.new_tokens < 2):
            raise ConfigError(f"--{name.replace('_', '-')} must be at least {2 if name == 'new_tokens' else 1}")
    from tui_transformer.commands.bench import set_threads

    set_threads(args.threads)
    result = run_decode_bench(bench_model(args), batch_sizes=parse_lengths(args.batch_sizes),
                              new_tokens=args.new_tokens, prompt_len=args.prompt_len, rounds=args.rounds,
                              device=args.device, compile=args.compile)
    print_result(result, args.json, print_table)
    return 0


def print_table(result: dict, console) -> None:
    from rich import box
    from rich.table import Table

    c = result["config"]
    table = Table(title=(f"greedy decode, d_model {c['d_model']}, {c['n_layers']} layers, vocab {c['vocab_size']}, "
                         f"prompt {result['prompt_len']}, {result['new_tokens']} new tokens (torch {result['torch']}, "
                         f"{result['device']}, {result['threads']} threads)"),
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.caption = (f"memory bandwidth measured now: {result['bandwidth_gb_s']} GB/s; weights "
                     f"{result['weight_bytes'] / 1e6:.1f} MB; MBU: bytes read per step x steps/s / bandwidth"
                     + ("" if result["hf"] else "; hf skipped: `uv sync --extra hf` installs transformers")
                     + ("" if result["compile_s"] is None else f"; compiling took {result['compile_s']} s"))
    for name in ("batch", "variant", "tok/s", "vs ours", "TTFT ms", "MBU", "same tokens"):
        table.add_column(name, justify="left" if name == "variant" else "right")
    for row in result["rows"]:
        mbu = f"{row['mbu']:.1%}" if "mbu" in row else "-"
        same = {True: "yes", False: "NO", None: "-"}[row["tokens_match"]]
        table.add_row(str(row["batch"]), row["variant"], f"{row['tokens_per_s']:,.0f}", f"{row['vs_ours']:.2f}x",
                      f"{row['ttft_ms']:,.1f}", mbu, same)
    console.print(table)
