"""``tui-transformer`` (no subcommand) or ``tui-transformer dashboard``: the full-screen dashboard.

Textual and the app are imported inside :func:`run`, so ``--help`` stays fast.
"""

import argparse
import sys

from tui_transformer.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("dashboard", help="open the dashboard (the default with no subcommand)")
    parser.add_argument("--attach", metavar="RUN",
                        help="open a run (name or directory) in the Train screen and follow it live")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Textual reads keys from stdin and draws on stderr; without a terminal on both it has no
    # screen and no keyboard, and its input loop spins (seen: 100 % of a core).
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise UserError("the dashboard needs a terminal (stdin and stderr); without one, train headless with "
                        "`tui-transformer train --no-ui`")
    from tui_transformer.tui.app import TuiTransformerApp

    app = TuiTransformerApp(attach=getattr(args, "attach", None))
    app.run()
    return app.return_code or 0
