"""The ``tui-transformer`` command line.

With no subcommand it opens the dashboard. Subcommands live in :mod:`tui_transformer.commands`,
one module each, so that the training, data and benchmark code each own their command.

Errors meant for the user (:class:`~tui_transformer.errors.UserError`) print one line and exit 2,
and so does an ``OSError`` about a path (a folder that is a file, a disk that refuses a write): the
path is the user's to fix. Ctrl-C exits 130, the shell convention for SIGINT.
"""

from __future__ import annotations

import argparse
import re
import sys
import warnings

from tui_transformer import __version__
from tui_transformer.commands import command_modules
from tui_transformer.errors import Unverified, UserError


class Parser(argparse.ArgumentParser):
    """argparse, but a wrong argument is one ``error:`` line and a pointer to ``--help``, not the usage block."""

    def error(self, message: str):
        self.exit(2, f"error: {message}{_did_you_mean(message)}\n(see `{self.prog} --help`)\n")

    def format_help(self) -> str:
        # the descriptions are the command modules' docstrings, written in reST: ``x`` reads `x` in a terminal
        return re.sub(r"``(.+?)``", r"`\1`", super().format_help(), flags=re.DOTALL)


def _did_you_mean(message: str) -> str:
    """`` (did you mean `train`?)`` when ``message`` is argparse's invalid choice close to a valid one."""
    import difflib

    match = re.search(r"invalid choice: '(.*?)' \(choose from (.*)\)", message)
    if not match:
        return ""
    choices = re.findall(r"'([^']*)'", match.group(2))
    close = difflib.get_close_matches(match.group(1), choices, n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="tui-transformer",
        description="Build, train and probe a decoder-only transformer from the terminal.",
    )
    parser.add_argument("--version", action="version", version=f"tui-transformer {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in command_modules():
        module.register(subparsers)
    return parser


_show_other_warning = warnings.showwarning


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Our own warnings are one line on stderr, ``warning: <message>``, like an error; others are Python's."""
    if issubclass(category, Unverified):
        print(f"warning: {message}", file=sys.stderr)
    else:
        _show_other_warning(message, category, filename, lineno, file, line)


def main(argv: list[str] | None = None) -> int:
    warnings.showwarning = _show_warning
    warnings.simplefilter("always", Unverified)  # each file, each time it is loaded
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):  # no subcommand: open the dashboard
        from tui_transformer.commands import dashboard

        args.func = dashboard.run
    try:
        return args.func(args)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        if error.filename is None:  # not about a path the user gave: a bug, keep its traceback
            raise
        print(f"error: cannot use {error.filename}: {error.strerror or error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
