"""An attention map: who looks at whom, as a grid of tokens shaded by weight.

Row ``i`` is the token that looks (the query), column ``j`` the token looked at (the key). The cell (three
characters) shows ``weights[i, j]`` as a percentage on a background whose brightness is the weight: a row is
a probability distribution, so its cells add up to 100. Cells above the diagonal are the
**causal mask**: token ``i`` may not see token ``j > i``, its weight there is exactly 0, and the
cell is drawn as a dim ``·``.

:func:`attention_grid` builds a ``rich.text.Text`` (safe in a worker thread) for ``weights [T, T]``,
showing the last ``max_tokens`` positions when the prompt is longer than the panel.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from tui_transformer.tui.widgets.heatmap import value_color

LABEL = 10


def _label(piece: str, width: int) -> str:
    shown = repr(piece)[1:-1].replace(" ", "␣")
    return shown[:width].ljust(width)


def attention_grid(weights: list[list[float]], pieces: list[str], max_tokens: int = 24) -> Text:
    """``weights [T, T]`` (rows sum to 1, upper triangle 0) with the tokens' text as labels."""
    count = len(pieces)
    first = max(0, count - max_tokens)
    shown = range(first, count)
    text = Text()
    # column headers: the key tokens' positions (their text would not fit in three cells)
    text.append("query↓ key→".ljust(LABEL + 1), Style(dim=True))
    for j in shown:
        text.append(f"{j % 100:>3}", Style(dim=True))
    if first:
        text.append("  shown", Style(dim=True))
    for i in shown:
        text.append("\n")
        text.append(f"{i % 100:>2} " + _label(pieces[i], LABEL - 3) + " ", Style(bold=True))
        for j in shown:
            if j > i:
                text.append("  ·", Style(dim=True))
                continue
            weight = weights[i][j]
            background = value_color(weight, 1.0)
            text.append(f"{round(weight * 100):>3}", Style(color="white" if weight < 0.5 else "black", bgcolor=background))
        if first:  # a cut row does not add up to 100: say how much of it is on screen
            text.append(f"  {round(sum(weights[i][j] for j in shown) * 100):>4}%", Style(dim=True))
    if first:
        text.append(f"\n(the first {first} tokens are hidden: the panel shows the last {max_tokens}; \"shown\" is the "
                    "share of each row's attention on them, the rest goes to the hidden tokens)", Style(dim=True))
    return text
