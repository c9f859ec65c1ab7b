"""``tui-transformer bench runs``: the Runs screen's table load and overlay redraw with many long runs.

See :mod:`tui_transformer.tui.runs_bench`. Prints one JSON object (with ``--json``, only it;
otherwise a short summary first, on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("runs", help="the Runs screen with many long runs: table load, overlay redraw")
    parser.add_argument("--runs", type=int, default=50, help="run folders to write (default 50)")
    parser.add_argument("--steps", type=int, default=10_000, help="logged steps per run (default 10000)")
    parser.add_argument("--marked", type=int, default=5, help="runs overlaid on the chart (default 5)")
    parser.add_argument("--repeats", type=int, default=10, help="timings per measure (default 10)")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tui_transformer.errors import UserError
    from tui_transformer.tui.runs_bench import measure

    if args.runs < 2 or args.steps < 100 or not 1 <= args.marked < args.runs or args.repeats < 1:
        raise UserError("need --runs >= 2, --steps >= 100, 1 <= --marked < --runs and --repeats >= 1")
    result = measure(runs=args.runs, steps=args.steps, marked=args.marked, repeats=args.repeats)
    if not args.json:
        print(f"{args.runs} runs x {args.steps:,} steps ({result['metrics_mb']} MB of metrics): table in "
              f"{result['table_load']['median_ms']:.0f} ms (median); overlay of {args.marked} runs redrawn in "
              f"{result['overlay_redraw_smoothing_change']['median_ms']:.1f} ms after a smoothing change, "
              f"{result['overlay_redraw_one_more_run']['median_ms']:.1f} ms after marking one more run",
              file=sys.stderr)
    print(json.dumps(result))
    return 0
