"""``tui-transformer runs list|compare|export``: the training runs on this machine.

* ``list``: every run, newest first, with its state and latest bits per byte;
* ``compare RUN RUN ...``: the settings that differ between the runs, and each run's best and final
  val loss and bits per byte (bpb is the fair one across tokenizers);
* ``export RUN``: the metric history, one row per logged step with the eval columns filled where an
  eval happened, as CSV (the default) or JSON, to stdout or ``--out FILE``.
"""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("runs", help="list training runs")
    actions = parser.add_subparsers(dest="runs_command", metavar="ACTION")
    listing = actions.add_parser("list", help="list the runs (newest first)")
    listing.add_argument("--json", action="store_true", help="one JSON object per run, one per line")
    listing.set_defaults(func=run_list)
    compare = actions.add_parser("compare", help="the config diff and best/final metrics of two or more runs")
    compare.add_argument("runs", nargs="+", metavar="RUN", help="run names or run directories")
    compare.add_argument("--json", action="store_true", help="one JSON object")
    compare.set_defaults(func=run_compare)
    export = actions.add_parser("export", help="a run's metric history as CSV or JSON")
    export.add_argument("run", metavar="RUN")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--out", metavar="FILE", help="write here (atomically) instead of to stdout")
    export.set_defaults(func=run_export)
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


def run_compare(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from tui_transformer.train.run_compare import config_diff, metric_history, summary
    from tui_transformer.train.runs import load_run_config, resolve_run

    paths = {}
    for run in args.runs:
        path = resolve_run(run)
        paths.setdefault(path.name, path)
    configs = {name: load_run_config(path) for name, path in paths.items()}
    diff = config_diff(configs)
    results = {name: summary(metric_history(path)) for name, path in paths.items()}
    if args.json:
        print(json.dumps({"runs": list(paths), "config_diff": diff, "results": results}))
        return 0
    console = Console(highlight=False)
    table = Table(title="settings that differ" if diff else "the runs' settings are identical")
    table.add_column("setting")
    for name in paths:
        table.add_column(name)
    for key, values in diff.items():
        table.add_row(key, *(str(values[name]) for name in paths))
    console.print(table)
    metrics = Table(title="results (bpb compares runs whose tokenizers differ)")
    metrics.add_column("metric")
    for name in paths:
        metrics.add_column(name, justify="right")
    for key in ("steps", "tokens_seen", "best_val_bpb", "final_val_bpb", "best_val_loss", "final_val_loss",
                "final_train_loss", "elapsed_s"):
        metrics.add_row(key, *(_cell(results[name][key]) for name in paths))
    console.print(metrics)
    return 0


def run_export(args: argparse.Namespace) -> int:
    import csv
    import io
    import sys
    from pathlib import Path

    from tui_transformer.atomic import write_bytes_atomic
    from tui_transformer.errors import UserError
    from tui_transformer.train.run_compare import COLUMNS, metric_history
    from tui_transformer.train.runs import resolve_run

    history = metric_history(resolve_run(args.run))
    if args.format == "json":
        text = json.dumps(history) + "\n"
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({key: "" if value is None else value for key, value in row.items()} for row in history)
        text = buffer.getvalue()
    if args.out is None:
        sys.stdout.write(text)
        return 0
    out = Path(args.out).expanduser()
    if out.is_dir():
        raise UserError(f"--out {out} is a folder; name a file")
    write_bytes_atomic(out, text.encode("utf-8"))
    print(f"wrote {len(history):,} rows to {out}", file=sys.stderr)
    return 0


def _cell(value) -> str:
    if value is None:
        return "-"
    return f"{value:,.4f}" if isinstance(value, float) else f"{value:,}"
