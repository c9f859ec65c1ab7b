"""``tui-transformer bench {kv,train,decode,data,profile,gpu,recipe,...}``: benchmarks that measure and print one JSON line.

**The model a benchmark builds** is a training preset's (:data:`tui_transformer.presets.PRESETS`),
read from the presets rather than copied, so ``bench kv --preset tiny`` times the model that
``train --preset tiny`` trains: the same sizes, positions and attention. Single flags override its
shape (:func:`add_model_flags`). Dropout is off: a benchmark times the arithmetic, and the lean
references it is compared with have none.
"""

import argparse
import json
from typing import Any, Callable

from tui_transformer.commands import command_modules


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="measure speed and memory (KV cache, training, decode, data, "
                                                 "profile, the GPU check) and training recipes")
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


MODEL_FLAGS = [("--vocab-size", "vocab_size", int), ("--d-model", "d_model", int), ("--n-layers", "n_layers", int),
               ("--n-heads", "n_heads", int), ("--d-ff", "d_ff", int), ("--pos-encoding", "pos_encoding", str),
               ("--attention", "attention", str)]


def set_threads(threads: int | None) -> None:
    """``--threads``: torch's intra-op threads for this bench (None: torch's default, one per core)."""
    if threads is None:
        return
    from tui_transformer.errors import ConfigError

    if threads < 1:
        raise ConfigError(f"--threads must be >= 1, got {threads}")
    import torch

    torch.set_num_threads(threads)


def add_model_flags(parser: argparse.ArgumentParser) -> None:
    """``--preset`` and one flag per overridable field of the preset's model."""
    parser.add_argument("--preset", default="tiny", help="the training preset whose model is built (default tiny)")
    for flag, dest, kind in MODEL_FLAGS:
        parser.add_argument(flag, dest=dest, type=kind, default=None, help=f"override the preset's {dest}")


def bench_model(args: argparse.Namespace, **fixed):
    """The preset's ModelConfig, dropout off, then ``fixed`` (what the command sets), then the flags given."""
    from tui_transformer.errors import ConfigError
    from tui_transformer.model import ModelConfig
    from tui_transformer.presets import PRESETS

    if args.preset not in PRESETS:
        raise ConfigError(f"--preset must be one of {', '.join(PRESETS)}; got {args.preset!r}")
    flags = {dest: getattr(args, dest) for _, dest, _ in MODEL_FLAGS if getattr(args, dest) is not None}
    return ModelConfig.from_dict({**PRESETS[args.preset].model.to_dict(), "dropout": 0.0, **fixed, **flags})
