"""``tui-transformer tokenizer {train,encode}``: train a byte-level BPE, or look at tokens.

``train --vocab-size 8192 --data SOURCE`` trains on the training split of SOURCE (``builtin``,
``fineweb``, ``auto`` or a path) with the GPT-4 split pattern and caches the result; the trainer's
``--tokenizer bpe-8192`` then finds it. ``encode TEXT --tokenizer SPEC`` shows how a text is cut.
"""

from __future__ import annotations

import argparse
import json
import time

from tui_transformer.arguments import nonempty


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("tokenizer", help="train a BPE tokenizer, or show how text is tokenized",
                                   description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="tokenizer_command", metavar="ACTION")
    train = commands.add_parser("train", help="train a byte-level BPE on a data source's training split")
    train.add_argument("--vocab-size", type=int, default=8192, help="tokens, end-of-text included (default 8192)")
    train.add_argument("--data", type=nonempty, default="builtin",
                       help="auto, builtin, fineweb or a path (default builtin)")
    train.add_argument("--val-fraction", type=float, default=0.1, help="held out, never trained on (default 0.1)")
    train.add_argument("--json", action="store_true", help="print one JSON object")
    train.set_defaults(func=run_train)
    encode = commands.add_parser("encode", help="show the tokens of a text")
    encode.add_argument("text")
    encode.add_argument("--tokenizer", default="cl100k_base", help="cl100k_base, gpt2, o200k_base, bpe-<N> or a file")
    encode.add_argument("--json", action="store_true", help="print one JSON object")
    encode.set_defaults(func=run_encode)
    parser.set_defaults(func=lambda args: _help(parser))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def run_train(args: argparse.Namespace) -> int:
    from tui_transformer.data import open_source
    from tui_transformer.data.tokenizer import bpe_cache_path, train_or_load_bpe
    from tui_transformer.errors import UserError

    if not 257 <= args.vocab_size <= 200_000:
        raise UserError(f"--vocab-size must be between 257 and 200000, got {args.vocab_size}")
    source = open_source(args.data, args.val_fraction)
    if source.notice:
        print(source.notice)
    path, texts = bpe_cache_path(source, args.vocab_size)
    was_cached = path.exists()
    started = time.perf_counter()
    tokenizer = train_or_load_bpe(source, args.vocab_size, on_progress=None if args.json else print)
    seconds = time.perf_counter() - started
    sample = "".join(texts)[:200_000]
    result = {"tokenizer": tokenizer.name, "vocab_size": tokenizer.vocab_size, "file": str(path),
              "was_cached": was_cached, "seconds": round(seconds, 3), "source": source.name,
              "characters": sum(map(len, texts)),
              "chars_per_token": round(len(sample) / max(1, len(tokenizer.encode(sample))), 3), **tokenizer.identity()}
    source.close()
    if args.json:
        print(json.dumps(result))
    else:
        verb = "loaded from cache" if was_cached else "trained"
        print(f"{tokenizer.name} {verb} in {seconds:.1f} s: {tokenizer.vocab_size} tokens, "
              f"{result['chars_per_token']} characters per token on its training text\n{path}")
    return 0


def run_encode(args: argparse.Namespace) -> int:
    from tui_transformer.data import get_tokenizer

    tokenizer = get_tokenizer(args.tokenizer)
    ids = tokenizer.encode(args.text)
    pieces = [tokenizer.encoding.decode_single_token_bytes(i).decode("utf-8", "replace") for i in ids]
    if args.json:
        print(json.dumps({"tokenizer": tokenizer.name, "ids": ids, "pieces": pieces}))
    else:
        print(f"{len(ids)} tokens ({tokenizer.name}, vocabulary {tokenizer.vocab_size}):")
        print(" ".join(f"{i}:{p!r}" for i, p in zip(ids, pieces)))
    return 0
