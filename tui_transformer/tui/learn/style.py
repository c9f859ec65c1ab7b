"""Small text helpers shared by the live panels (no textual)."""

from __future__ import annotations

from rich.text import Text


def shown(piece: str) -> str:
    """A token made readable: escapes for newlines and tabs, ``␣`` for spaces."""
    return repr(piece)[1:-1].replace(" ", "␣")


def human_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def note(message: str) -> Text:
    """A dim explanatory line under a panel."""
    return Text(message, style="dim italic")


def needs_tokens(ctx) -> Text | None:
    """The panel to show instead when the prompt has no tokens."""
    return None if ctx.ids else Text("type a prompt above: this panel is computed from its tokens", style="dim")
