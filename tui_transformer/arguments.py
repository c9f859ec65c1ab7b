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


BOOLEANS = {"true": True, "yes": True, "1": True, "on": True, "false": False, "no": False, "0": False, "off": False}


def boolean(text: str) -> bool:
    """``true/false``, ``yes/no``, ``1/0`` or ``on/off``, in any case."""
    try:
        return BOOLEANS[text.strip().lower()]
    except KeyError:
        raise argparse.ArgumentTypeError(f"expected true or false (or yes/no, 1/0), got {text!r}") from None
