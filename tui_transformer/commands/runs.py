"""``tui-transformer runs list``: the training runs on this machine, newest first."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("runs", help="list training runs")
    actions = parser.add_subparsers(dest="runs_command", metavar="ACTION")
    listing = actions.add_parser("list", help="list the runs (newest first)")
    listing.add_argument("--json", action="store_true", help="one JSON object per run, one per line")
    listing.set_defaults(func=run_list)
    parser.set_defaults(func=run_list, json=False)


def run_list(args: argparse.Namespace) -> int:
    import time

    from rich.console import Console
    from rich.table import Table

    from tui_transformer.paths import runs_dir
    from tui_transformer.train.runs import list_runs

    runs = list_runs()
    if args.json:
        for info in runs:
            print(json.dumps({"name": info.name, "path": str(info.path), "preset": info.preset,
                              "last_step": info.last_step, "state": info.label, "val_bpb": info.val_bpb,
                              "updated": info.updated}))
        return 0
    console = Console(highlight=False)
    if not runs:
        console.print(f"no runs yet in {runs_dir()}; start one with `tui-transformer train --no-ui`")
        return 0
    table = Table(title=f"runs in {runs_dir()}")
    for column in ("name", "preset", "step", "val bpb", "state", "updated"):
        table.add_column(column, justify="right" if column in ("step", "val bpb") else "left", no_wrap=column != "state")
    for info in runs:
        updated = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.updated))
        bpb = "-" if info.val_bpb is None else f"{info.val_bpb:.3f}"
        table.add_row(info.name, info.preset, str(info.last_step), bpb, info.label, updated)
    console.print(table)
    return 0
