"""``tui-transformer`` (no subcommand) or ``tui-transformer dashboard``: the full-screen dashboard.

Textual and the app are imported inside :func:`run`, so ``--help`` stays fast.
"""

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("dashboard", help="open the dashboard (the default with no subcommand)")
    parser.add_argument("--attach", metavar="RUN",
                        help="open a run (name or directory) in the Train screen and follow it live")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tui_transformer.tui.app import TuiTransformerApp

    app = TuiTransformerApp(attach=getattr(args, "attach", None))
    app.run()
    return app.return_code or 0
