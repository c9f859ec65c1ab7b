"""``tui-transformer lesson list | run NAME | show NAME [--json]``: experiments that answer one question each.

``list`` shows every lesson with its state (not started, partly run, done) and its minutes on 2 CPU
cores. ``run`` trains the lesson's runs (a sweep named after the lesson, its runs listed in Runs),
continuing a stopped lesson where it stopped, then prints the verdict. ``show`` prints the verdict
of the runs so far (``--json``: as one object). Ctrl-C stops the current run with its checkpoint.
"""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("lesson", help="experiments that each answer one question with your own runs",
                                   description=__doc__.split("\n\n")[0])
    actions = parser.add_subparsers(dest="action", required=True, metavar="list | run NAME | show NAME")
    actions.add_parser("list", help="the lessons, their state and minutes")
    run_parser = actions.add_parser("run", help="train a lesson's runs (continuing a stopped one), then its verdict")
    run_parser.add_argument("name")
    run_parser.add_argument("--quiet", action="store_true", help="print only a line per run and the verdict")
    show = actions.add_parser("show", help="the verdict of a lesson's runs so far")
    show.add_argument("name")
    show.add_argument("--json", action="store_true", help="the verdict as one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return {"list": _list, "run": _run, "show": _show}[args.action](args)


def _list(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from tui_transformer.lessons.registry import LESSONS
    from tui_transformer.lessons.runner import lesson_state

    table = Table(title="lessons: tui-transformer lesson run NAME")
    for column in ("lesson", "title", "state", "minutes"):
        table.add_column(column)
    for lesson in LESSONS:
        why_not = lesson.unavailable()
        state = f"unavailable: {why_not}" if why_not else lesson_state(lesson)
        minutes = "?" if lesson.minutes is None else f"{lesson.minutes:g}"
        table.add_row(lesson.name, lesson.title, state, minutes)
    Console(highlight=False).print(table)
    return 0


def _run(args: argparse.Namespace) -> int:
    from tui_transformer.commands.train import ProgressView, signal_exit_code, stop_on_signals
    from tui_transformer.lessons.registry import get_lesson
    from tui_transformer.lessons.runner import lesson_plan, run_lesson
    from tui_transformer.train.sweep import describe

    lesson = get_lesson(args.name)
    labels = lesson_plan(lesson).labels  # as its manifest recorded them, for a lesson that ran before
    print(f"{lesson.title}: {lesson.question}\n{lesson.expect}\n", flush=True)

    def announce(index, total, values, action):
        settings = f" ({describe(values)})" if values else ""  # the lesson's baseline arm changes nothing
        print(f"lesson {lesson.name}: run {index + 1}/{total} {labels[index]}{settings}: {action}",
              file=sys.stderr, flush=True)

    with stop_on_signals() as (stop, interrupted), ProgressView(quiet=args.quiet) as view:
        runs = run_lesson(lesson, on_run_start=announce, on_event=view.handle, stop=stop)
    _print_verdict(lesson.verdict(runs))
    if interrupted:
        print(f"lesson stopped; continue with: tui-transformer lesson run {lesson.name}", file=sys.stderr)
        return signal_exit_code(interrupted)
    return 0


def _show(args: argparse.Namespace) -> int:
    from tui_transformer.lessons.registry import get_lesson
    from tui_transformer.lessons.runner import lesson_verdict

    verdict = lesson_verdict(get_lesson(args.name))
    if args.json:
        print(json.dumps(verdict.to_dict()))
    else:
        _print_verdict(verdict)
    return 0


def _print_verdict(verdict) -> None:
    mark = {True: "shown", False: "not shown", None: "not yet"}[verdict.shown]
    print(f"verdict ({mark}): {verdict.headline}")
    for line in verdict.lines:
        print(f"  {line}")
    if verdict.try_next:
        print(f"try: {verdict.try_next}")
    if verdict.open_page:
        on_run = f" on run {verdict.open_run}" if verdict.open_run else ""
        print(f"see it: the dashboard's Learn page {verdict.open_page!r}{on_run}")
