"""The model's top candidates for the next token, as horizontal bars.

At every step the model outputs one logit per vocabulary entry. The sampler turns them into the
distribution it actually draws from: repetition penalty, temperature, then top-k, top-p and min-p
cut the tail and renormalise. These bars show the ten most likely entries of that *filtered*
distribution, so a learner sees what each knob does: temperature 0 leaves one bar at 100 %, top-k 3
leaves three bars, a high temperature flattens them. The token that was drawn is marked ``▶``.

A bar's length is its probability times the bar width, drawn with eighth-blocks (``▏▎▍▌▋▊▉█``)
so that small differences stay visible in a narrow terminal.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(fraction: float, width: int) -> str:
    """A bar ``fraction`` of ``width`` cells long, to the nearest eighth of a cell."""
    eighths = round(min(max(fraction, 0.0), 1.0) * width * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + (_EIGHTHS[part] if part else "")).ljust(width)


def shown(token: str) -> str:
    """A token made readable in one fixed-width cell: quotes show its leading/trailing spaces."""
    return repr(token)[1:-1].replace(" ", "␣")


class NextTokenBars(Static):
    """``show([(token_text, probability), ...], chosen=index)``: one bar per candidate, best first."""

    DEFAULT_CSS = """
    NextTokenBars { height: auto; min-height: 1; }
    NextTokenBars > .next-token--bar { color: $primary; }
    NextTokenBars > .next-token--chosen { color: $accent; text-style: bold; }
    NextTokenBars > .next-token--muted { color: $text-muted; }
    """

    COMPONENT_CLASSES = {"next-token--bar", "next-token--chosen", "next-token--muted"}

    TOKEN_WIDTH = 10  # the narrowest label column

    def on_mount(self) -> None:
        self.show([])

    def on_resize(self) -> None:
        self.show(*self._last)

    def show(self, candidates: list[tuple[str, float]], chosen: int | None = None) -> None:
        self._last = (candidates, chosen)
        muted = self.get_component_rich_style("next-token--muted")
        if not candidates:
            self.update(Text("the candidates for the next token show here once a model is loaded", muted))
            return
        rows = self.content_size.height or len(candidates)  # a short terminal shows the best few
        # the labels are as wide as the longest token (<|endoftext|> is 13), up to a third of the row
        token_width = min(max(self.TOKEN_WIDTH, *(len(shown(token)) for token, _ in candidates[:rows])),
                          max(self.content_size.width // 3, self.TOKEN_WIDTH))
        bar_width = max(self.content_size.width - token_width - 10, 8)
        lines = Text(end="")
        for index, (token, probability) in enumerate(candidates[:rows]):
            style = self.get_component_rich_style("next-token--chosen" if index == chosen else "next-token--bar")
            label = shown(token)
            label = (label if len(label) <= token_width else label[:token_width - 1] + "…").ljust(token_width)
            if index:
                lines.append("\n")
            lines.append("▶" if index == chosen else " ", style)
            lines.append(label + " ", style)
            lines.append(bar(probability, bar_width), style)
            lines.append(f" {probability:6.1%}", style)
        self.update(lines)
