"""Live panel 2, token embeddings: each prompt token's row of E and its nearest neighbours.

Neighbours by cosine similarity show what training put close together. In an untrained model the
rows are random, so the neighbours are arbitrary: a typical cosine is near 0, and the nearest ones
(about 0.3 for 8,192 rows of 128) are the best of thousands by chance. That is the point to compare
against after training.
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from tui_transformer.model.tools.explain import nearest_neighbours
from tui_transformer.tui.learn.style import needs_tokens, note, shown

MAX_ROWS = 12
NEIGHBOURS = 5


def live(ctx):
    if (empty := needs_tokens(ctx)) is not None:
        return empty
    ids = list(dict.fromkeys(ctx.ids))[-MAX_ROWS:]  # each distinct token once, the latest ones
    weight = ctx.model.embed.weight
    rows = nearest_neighbours(weight.detach(), ids, k=NEIGHBOURS)
    # Text, not str: rich would read "[token]" (and a token such as "[b]") as markup
    table = Table(title=Text(f"E: [{weight.shape[0]:,} × {weight.shape[1]}]  ·  x = E[token]  →  [B, T, {weight.shape[1]}]"),
                  title_justify="left")
    table.add_column("token")
    table.add_column("id", justify="right")
    table.add_column(Text("|E[id]|"), justify="right")
    table.add_column(f"{NEIGHBOURS} nearest by cosine")
    for token_id, neighbours in zip(ids, rows):
        near = "  ".join(f"{shown(ctx.tokenizer.decode([n]))} {c:.2f}" for n, c in neighbours)
        table.add_row(Text(shown(ctx.tokenizer.decode([token_id]))), str(token_id),
                      f"{weight[token_id].norm().item():.2f}", Text(near))
    return Group(table, note("cosine 1 = same direction, 0 = unrelated. Untrained, the neighbours are arbitrary: "
                             "among thousands of random rows a few point the same way by chance."))
