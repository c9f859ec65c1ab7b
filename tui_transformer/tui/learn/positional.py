"""Live panel 3, positional encoding: the matrix the model uses to tell positions apart.

Sinusoidal and learned encodings are a ``[T, D]`` table added to the embeddings: a heatmap with a
row per position and a column per dimension. RoPE adds nothing; it rotates each query/key pair
``i`` by ``p · θ_i``, so its heatmap shows those angles: fast-turning pairs on the left,
slow ones on the right.
"""

from __future__ import annotations

from rich.console import Group
from rich.text import Text

from tui_transformer.model.explain import positional_matrix
from tui_transformer.tui.learn.style import note
from tui_transformer.tui.widgets.heatmap import FittedHeatmap, legend

MAX_POSITIONS = 32  # 16 lines of half-blocks; the columns are as many as the panel's width holds


USES = {  # what the picked model does with positions, in a line (the prose describes all of them)
    "sinusoidal": "a fixed table of sines and cosines, added to the token embeddings",
    "learned": "a trained table, added to the token embeddings",
    "rope": "nothing added: queries and keys are rotated by an angle per position inside attention",
    "alibi": "nothing added: each head subtracts a penalty growing with the distance from the attention scores",
}


def live(ctx):
    positions = max(len(ctx.ids), min(MAX_POSITIONS, ctx.config.max_seq_len))
    positions = min(positions, MAX_POSITIONS)
    what, matrix = positional_matrix(ctx.model, positions)
    scale = matrix.abs().max().item()
    title = Text(f"{ctx.config.pos_encoding}: {what}, positions 0..{positions - 1} × {matrix.shape[1]} columns",
                 style="bold")
    uses = Text(f"this model uses {ctx.config.pos_encoding}: {USES.get(ctx.config.pos_encoding, '')}")
    parts = [uses, title, FittedHeatmap(matrix.tolist(), row_label="p"), legend(scale)]
    if ctx.ids:
        parts.append(note(f"your prompt uses positions 0..{len(ctx.ids) - 1}; each row is one position's signature"))
    return Group(*parts)
