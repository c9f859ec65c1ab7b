"""``tui-transformer bench data``: tokens per second of the data path (see :mod:`tui_transformer.bench.data`)."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("data", help="tokens/s of tokenizing, cached reads and the batch loader")
    parser.add_argument("--data", default="builtin", help="auto, builtin, fineweb or a path (default builtin)")
    parser.add_argument("--tokenizers", default="cl100k_base,bpe-8192", help="comma-separated (default cl100k_base,bpe-8192)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--batches", type=int, default=2000, help="loader batches to time (default 2000)")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tui_transformer.bench.data import run_data_bench
    from tui_transformer.errors import UserError

    if min(args.batch_size, args.seq_len, args.batches) < 1:
        raise UserError("--batch-size, --seq-len and --batches must be positive")
    progress = None if args.json else (lambda message: print(message, file=sys.stderr, flush=True))
    result = run_data_bench(data=args.data, tokenizers=[t.strip() for t in args.tokenizers.split(",") if t.strip()],
                            batch_size=args.batch_size, seq_len=args.seq_len, batches=args.batches,
                            on_progress=progress)
    if not args.json:
        for row in result["results"]:
            extra = f", BPE training {row['bpe_train_seconds']} s" if "bpe_train_seconds" in row else ""
            print(f"{row['tokenizer']:>12}: tokenize {row['tokenize_tokens_per_s']:>12,} tok/s, cached read "
                  f"{row['cached_read_tokens_per_s']:>14,} tok/s, loader {row['loader_tokens_per_s']:>12,} tok/s, "
                  f"{row['margin_vs_tiny_preset']}x the tiny preset{extra}")
    print(json.dumps(result))
    return 0
