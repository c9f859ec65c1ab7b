"""``tui-transformer bench tui``: training tokens/s under the dashboard against the same run headless;
with ``--startup``, how long the dashboard takes to draw its first frame and to load torch.

See :mod:`tui_transformer.tui.throughput` and :mod:`tui_transformer.tui.startup`. Prints a line per round, then one JSON object (with
``--json``, only the JSON) whose ``ratio`` is dashboard / headless tokens/s, both training on a
worker thread (``ratio_vs_main_thread`` compares with training on the main thread, like
``train --no-ui``).
"""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("tui", help="training tokens/s under the dashboard vs headless; --startup: "
                                               "time to the first frame")
    parser.add_argument("--preset", default="tiny", help="training preset (default tiny)")
    parser.add_argument("--data", default="builtin", help="data source (default builtin: offline)")
    parser.add_argument("--steps", type=int, default=60, help="optimizer steps per run (default 60)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="headless/dashboard pairs, alternating; with --startup, launches (default 1)")
    parser.add_argument("--startup", action="store_true",
                        help="launch the dashboard in a pseudo-terminal and time its first frame and torch's loading")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tui_transformer.errors import UserError

    if args.startup:
        return run_startup(args)
    from tui_transformer.presets import resolve_preset
    from tui_transformer.tui.throughput import compare

    if args.steps < 5 or args.rounds < 1:
        raise UserError("--steps must be at least 5 and --rounds at least 1")
    base, _reason = resolve_preset(args.preset, args.device)
    config = base.with_overrides(data=args.data, device=args.device, max_steps=args.steps, max_tokens=None,
                                 max_time=None, epochs=None)
    progress = None if args.json else (lambda message: print(message, file=sys.stderr, flush=True))
    result = compare(config, rounds=args.rounds, on_progress=progress)
    if not args.json:
        lag, share = result["ui_loop_lag_ms"], max(result["ui_thread_cpu_share"])
        stepping = result["ui_loop_lag_ms_while_stepping"]
        print(f"dashboard / headless (worker thread) tokens/s: {result['ratio']:.3f}; "
              f"vs headless on the main thread: {result['ratio_vs_main_thread']:.3f}")
        print(f"UI thread at most {share:.1%} of a core ({max(result['ui_cpu_ms_per_step']):.1f} ms per step); "
              f"UI loop lag p50 {lag['p50']} ms, p99 {lag['p99']} ms, max {lag['max']} ms; once steps arrive "
              f"p99 {stepping['p99']} ms, max {stepping['max']} ms")
    print(json.dumps(result))
    return 0


def run_startup(args: argparse.Namespace) -> int:
    from tui_transformer.errors import UserError
    from tui_transformer.tui.startup import measure

    if args.rounds < 1:
        raise UserError("--rounds must be at least 1")
    progress = None if args.json else (lambda message: print(message, file=sys.stderr, flush=True))
    result = measure(rounds=args.rounds, on_progress=progress)
    if not args.json:
        print(f"first frame: median {result['first_frame_median_s']:.2f} s, max {result['first_frame_max_s']:.2f} s; "
              f"torch ready: median {result['torch_ready_median_s']:.2f} s")
    print(json.dumps(result))
    return 0
