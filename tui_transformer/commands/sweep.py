"""``tui-transformer sweep --vary FIELD=V1,V2 [--vary ...] [train flags] [--name NAME]``: a grid of runs.

Every combination of the ``--vary`` values trains as an ordinary run named ``<NAME>-<i>``, one after
another, over the same preset, config file and flags as ``train`` takes. At the end a table ranks
them by best val bits per byte (``--json``: the same as one object). Ctrl-C stops the current run
with its checkpoint, then the sweep; ``sweep --resume NAME`` skips the finished runs, continues the
stopped one and starts the rest. Compare them afterwards with ``tui-transformer runs compare``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tui_transformer.arguments import nonempty
from tui_transformer.commands.train import (SETTINGS, ProgressView, keeping_at_evals, overrides_from, signal_exit_code,
                                            stop_on_signals)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sweep", help="train a grid of runs and rank them by val bits per byte",
                                   description=__doc__.split("\n\n")[0])
    parser.add_argument("--vary", action="append", default=[], metavar="FIELD=V1,V2,...",
                        help="a setting and its values (repeat for a grid), e.g. lr=1e-3,2e-3")
    parser.add_argument("--name", dest="sweep_name", help="the sweep's name (default: sweep-MMDD-HHMMSS)")
    parser.add_argument("--resume", metavar="NAME", help="continue a sweep: skip finished runs, resume the stopped one")
    parser.add_argument("--preset", type=nonempty, help="tiny, seed, gpt2-small or auto (default: auto)")
    parser.add_argument("--config", metavar="FILE", help="TOML file overriding the preset")
    parser.add_argument("--json", action="store_true", help="print the ranked table as one JSON object")
    parser.add_argument("--quiet", action="store_true", help="print only a line per run and the table")
    for flag, dest, kind, text in SETTINGS:
        if dest != "run_name":  # the sweep names its runs
            parser.add_argument(flag, dest=dest, type=kind, default=None, help=text)
    parser.set_defaults(func=run, compile=None, amp=None, run_name=None)


def run(args: argparse.Namespace) -> int:
    with stop_on_signals() as (stop, interrupted):
        return _sweep(args, stop, interrupted)


def _sweep(args: argparse.Namespace, stop, interrupted: list) -> int:
    from tui_transformer.errors import UserError
    from tui_transformer.presets import build_config
    from tui_transformer.train import sweep as sweeps

    if args.resume:
        flags = {key for key in overrides_from(args) if key != "run_dir"}  # --run-dir says where the sweep is
        if args.vary or args.preset or args.config or flags:
            raise UserError("--resume continues a sweep with its own settings; drop the other flags (but --run-dir)")
        name = args.resume
        plan = sweeps.resume_plan(name, Path(args.run_dir).expanduser() if args.run_dir else None)
    else:
        name = args.sweep_name or sweeps.default_name()
        axes = [sweeps.parse_vary(text) for text in args.vary]
        base, _ = build_config(args.preset, overrides_from(args).get("device", "auto"), args.config,
                               overrides_from(args))
        base = keeping_at_evals(base, args)
        plan = sweeps.new_sweep(name, base, axes)  # every config checked before anything trains
    view = ProgressView(quiet=args.quiet or args.json, stderr=args.json)  # --json keeps stdout for the object

    def announce(index, total, values, action):
        print(f"sweep {name}: run {index + 1}/{total} ({sweeps.describe(values)}): {action}", file=sys.stderr,
              flush=True)

    with view:
        rows = sweeps.run_sweep(plan, on_run_start=announce, on_event=view.handle, stop=stop)
    if args.json:
        print(json.dumps({"sweep": name, "runs": len(plan.configs), "ranked": rows}))
    else:
        _print_table(name, rows)
    if interrupted:
        print(f"sweep stopped; continue with: tui-transformer sweep --resume {name}", file=sys.stderr)
        return signal_exit_code(interrupted)
    return 0


def _print_table(name: str, rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"sweep {name}: best val loss and bits per byte of each run, ranked by bpb")
    fields = list(rows[0]["values"]) if rows else []  # one column per varied field: the values read at a glance
    table.add_column("rank", justify="right")
    table.add_column("run", no_wrap=True)
    for field in fields:
        table.add_column(field.removeprefix("model_"), no_wrap=True)
    table.add_column("state")
    for column in ("steps", "val bpb", "val loss"):
        table.add_column(column, justify="right", no_wrap=True)
    for rank, row in enumerate(rows, 1):
        bpb = "-" if row["best_val_bpb"] is None else f"{row['best_val_bpb']:.4f}"
        loss = "-" if row["best_val_loss"] is None else f"{row['best_val_loss']:.4f}"
        table.add_row(str(rank), row["run"], *(str(row["values"][field]) for field in fields), row["state"],
                      str(row["steps"]), bpb, loss)
    Console(highlight=False).print(table)
