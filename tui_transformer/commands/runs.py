"""``tui-transformer runs list|compare|export|rename|note|delete``: the training runs on this machine.

* ``list``: every run, newest first, with its state, latest bits per byte, doctor alerts and note;
* ``compare RUN RUN ...``: the settings that differ between the runs, and each run's best and final
  val loss and bits per byte (bpb is the fair one across tokenizers);
* ``export RUN``: the metric history, one row per logged step with the eval columns filled where an
  eval happened, as CSV (the default) or JSON, to stdout or ``--out FILE``;
* ``rename RUN NAME``, ``note RUN TEXT``, ``delete RUN [--yes]``: see :mod:`tui_transformer.train.run_actions`.
  Without ``--yes``, delete asks on the terminal, and refuses when there is none to ask on.
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
    rename = actions.add_parser("rename", help="rename a run (everything in it is kept)")
    rename.add_argument("run", metavar="RUN")
    rename.add_argument("name", metavar="NAME")
    rename.set_defaults(func=run_rename)
    note = actions.add_parser("note", help="give a run a one-line note, shown by `runs list` (\"\" removes it)")
    note.add_argument("run", metavar="RUN")
    note.add_argument("text", metavar="TEXT")
    note.set_defaults(func=run_note)
    delete = actions.add_parser("delete", help="delete a run of the runs folder, with its checkpoints")
    delete.add_argument("run", metavar="RUN")
    delete.add_argument("--yes", action="store_true", help="do not ask first")
    delete.set_defaults(func=run_delete)
    parser.set_defaults(func=run_list, json=False)


def run_list(args: argparse.Namespace) -> int:
    import time

    from rich import box
    from rich.console import Console
    from rich.table import Table

    from tui_transformer.paths import runs_dir
    from tui_transformer.train.runs import list_runs

    runs = list_runs()
    if args.json:
        for info in runs:
            print(json.dumps({"name": info.name, "path": str(info.path), "preset": info.preset,
                              "last_step": info.last_step, "state": info.label, "val_bpb": info.val_bpb,
                              "best_val_loss": info.best_val_loss, "best_val_bpb": info.best_val_bpb,
                              "alerts": info.alerts, "note": info.note, "sweep": info.sweep,
                              "updated": info.updated}))
        return 0
    console = Console(highlight=False)
    if not runs:
        console.print(f"no runs yet in {runs_dir()}; start one with `tui-transformer train --no-ui`")
        return 0
    if not console.is_terminal:  # a pipe or a file: plain aligned lines, never squeezed to 80 columns
        console = Console(highlight=False, width=100_000)
        console.print(f"runs in {runs_dir()}")
    table = Table(title=f"runs in {runs_dir()}" if console.is_terminal else None,
                  box=box.ROUNDED if console.is_terminal else None, pad_edge=console.is_terminal)
    for column in ("name", "preset", "step", "val bpb", "alerts", "state", "updated", "note"):
        table.add_column(column, justify="right" if column in ("step", "val bpb", "alerts") else "left",
                         no_wrap=column not in ("state", "note"))
    for info in runs:
        updated = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.updated))
        bpb = "-" if info.val_bpb is None else f"{info.val_bpb:.3f}"
        table.add_row(info.name, info.preset, str(info.last_step), bpb, str(info.alerts), info.label, updated,
                      info.note or "-")
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
    if len(paths) < 2:
        from tui_transformer.errors import UserError

        named = ", ".join(args.runs)
        raise UserError(f"runs compare needs two runs or more; got one ({named}). "
                        f"`tui-transformer runs export {next(iter(paths))}` shows one run's history")
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


def run_rename(args: argparse.Namespace) -> int:
    from tui_transformer.train.run_actions import rename_run

    new = rename_run(args.run, args.name)
    print(f"renamed to {new.name} ({new})")
    return 0


def run_note(args: argparse.Namespace) -> int:
    from tui_transformer.train.run_actions import set_note

    run_dir = set_note(args.run, args.text)
    print(f"noted on {run_dir.name}" if args.text.strip() else f"removed the note of {run_dir.name}")
    return 0


def run_delete(args: argparse.Namespace) -> int:
    import sys

    from tui_transformer.errors import UserError
    from tui_transformer.train.run_actions import deletable_run, delete_run
    from tui_transformer.train.runs import run_info

    run_dir = deletable_run(args.run)
    if not args.yes:
        if not sys.stdin.isatty():
            raise UserError(f"runs delete {run_dir.name}: there is no terminal to confirm on; add --yes to delete it")
        info = run_info(run_dir)
        try:
            answer = input(f"delete run {info.name} ({info.label}, step {info.last_step:,}) with its checkpoints? "
                           "[y/N] ")
        except EOFError:  # the terminal closed: no answer is no
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print("kept it")
            return 1
    delete_run(run_dir)
    print(f"deleted {run_dir.name}")
    return 0


def _cell(value) -> str:
    if value is None:
        return "-"
    return f"{value:,.4f}" if isinstance(value, float) else f"{value:,}"
