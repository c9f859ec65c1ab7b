"""Argument types shared by the commands (:mod:`tui_transformer.commands`).

An empty value (``--name ''``, often a shell variable that was never set) is refused at parse
time, the same way for every flag that names something, rather than read as "not given".
"""

from __future__ import annotations

import argparse


def nonempty(text: str) -> str:
    """``text`` unless it is empty or only spaces."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text
