"""``tui-transformer import DIR [--name RUN]``: a local GPT-2 folder becomes one of our runs.

DIR is a Hugging Face ``GPT2LMHeadModel`` folder (``config.json``, ``model.safetensors`` and its
tokenizer), such as ``save_pretrained`` writes. The weights load into our from-scratch model, as
nanoGPT's ``from_pretrained`` does; ``generate``, ``eval`` and ``runs list`` then use the run.
"""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("import", help="turn a local GPT-2 (Hugging Face) folder into a run",
                                   description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", metavar="DIR", help="a folder with config.json, model.safetensors and a tokenizer")
    parser.add_argument("--name", help="the run's name (default: the folder's name)")
    parser.add_argument("--force", action="store_true", help="replace a run of that name")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tui_transformer.interop.gpt2_import import import_gpt2

    run_dir = import_gpt2(args.dir, args.name, args.force)
    print(f"imported {args.dir} as run {run_dir.name} ({run_dir}); try "
          f"`tui-transformer generate --run {run_dir.name} --prompt \"Hello\"`")
    return 0
