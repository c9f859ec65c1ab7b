"""``tui-transformer bench gpu``: the one prepared check of every CUDA path (``--smoke``: the same on CPU).

Trains the gpt2-small shape with bf16 + SDPA + compile (tokens/s, MFU), runs fp16 with a GradScaler,
compares bf16 and fp32 eval losses, decodes 512 tokens at batch 1 and 8, loads a CUDA checkpoint on
the CPU and trains under ``torchrun --nproc_per_node=1`` with a resume (see
:mod:`tui_transformer.bench.gpu`). ``--smoke`` runs every step at a tiny shape on the CPU (the CPU's
own kernels where CUDA's are missing) and names what it skipped. Exits 1 when a step failed.
"""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("gpu", help="check every CUDA path once (--smoke: the same steps on CPU)",
                                   description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny shapes on the CPU, in seconds (what CI runs)")
    parser.add_argument("--device", default=None, help="cuda, cuda:N (default cuda; cpu with --smoke)")
    parser.add_argument("--train-steps", type=int, default=None,
                        help="steps of the training step (default 300; 4 with --smoke)")
    parser.add_argument("--work-dir", default=None, help="keep the runs here (default: a temporary folder, removed)")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys
    import tempfile
    from pathlib import Path

    from tui_transformer.bench.gpu import run_gpu_check
    from tui_transformer.commands.bench import print_result
    from tui_transformer.errors import ConfigError
    from tui_transformer.train.device import resolve_device

    import torch

    if not args.smoke and not torch.cuda.is_available():
        raise ConfigError("the GPU check needs a CUDA device and this machine has none; "
                          "--smoke runs its steps on the CPU")
    device = resolve_device(args.device or ("cpu" if args.smoke else "cuda"))
    if not args.smoke and not device.startswith("cuda"):
        raise ConfigError(f"the GPU check needs a CUDA device, not {device!r}; --smoke runs its steps on the CPU")
    if args.train_steps is not None and args.train_steps < 1:
        raise ConfigError(f"--train-steps must be at least 1, got {args.train_steps}")
    progress = lambda name: print(f"gpu check: {name} ...", file=sys.stderr, flush=True)  # noqa: E731
    if args.work_dir:
        Path(args.work_dir).mkdir(parents=True, exist_ok=True)
        result = run_gpu_check(device, Path(args.work_dir), args.smoke, args.train_steps, progress)
    else:
        with tempfile.TemporaryDirectory(prefix="gpu-check-") as folder:
            result = run_gpu_check(device, Path(folder), args.smoke, args.train_steps, progress)
    print_result(result, args.json, print_table)
    return 0 if result["ok"] else 1


def print_table(result: dict, console) -> None:
    from rich import box
    from rich.table import Table

    title = (f"GPU check{' (smoke, on the CPU)' if result['smoke'] else ''}: {result['device_name']} "
             f"({result['device']}, torch {result['torch']}), {result['seconds']:.0f} s")
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("step", "status", "s", "figures"):
        table.add_column(name, justify="right" if name == "s" else "left")
    for row in result["steps"]:
        figures = {k: v for k, v in row.items() if k not in ("step", "status", "seconds")}
        text = ", ".join(f"{k} {v}" for k, v in figures.items())
        table.add_row(row["step"], row["status"], f"{row.get('seconds', 0):.1f}", text)
    console.print(table)
