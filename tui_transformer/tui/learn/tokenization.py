"""Live panel 1, tokenization: the prompt cut into tokens by the run's tokenizer and by cl100k.

The same text costs a different number of tokens under different vocabularies: a BPE trained on
the run's own corpus with a few thousand entries cuts rarer words into more pieces than
cl100k_base's 100k entries, but its output layer is 12 times smaller.
"""

from __future__ import annotations

from functools import cache

from rich.console import Group
from rich.table import Table
from rich.text import Text

from tui_transformer.tui.learn.style import needs_tokens, note, shown


@cache
def _cl100k():
    from tui_transformer.data import get_tokenizer

    return get_tokenizer("cl100k_base")


def token_boxes(pieces: list[str], ids: list[int]) -> Text:
    """``[piece|id]`` on alternating backgrounds, so every boundary shows."""
    text = Text()
    for index, (piece, token_id) in enumerate(zip(pieces, ids)):
        style = "on #1e3a8a" if index % 2 == 0 else "on #713f12"
        text.append(shown(piece), style + " bold")
        text.append(f"{token_id}", style + " dim")
        text.append(" ")
    return text


def live(ctx) -> Group | Text:
    if (empty := needs_tokens(ctx)) is not None:
        return empty
    characters = len(ctx.prompt)
    cl100k = _cl100k()
    cl_ids = cl100k.encode(ctx.prompt)
    table = Table(title="the same text, two vocabularies", title_justify="left", expand=False)
    for column in ("tokenizer", "vocabulary", "tokens", "chars / token"):
        table.add_column(column, justify="right" if column != "tokenizer" else "left")
    all_ids = ctx.tokenizer.encode(ctx.prompt)
    for name, vocab, count in ((f"{ctx.tokenizer.name} (this model)", ctx.tokenizer.vocab_size, len(all_ids)),
                               ("cl100k_base (GPT-4)", cl100k.vocab_size, len(cl_ids))):
        table.add_row(name, f"{vocab:,}", str(count), f"{characters / max(count, 1):.2f}")
    cl_pieces = [cl100k.decode([i]) for i in cl_ids]
    parts = [Text(f"{ctx.tokenizer.name}: {len(ctx.ids)} tokens (token text, then its id)", style="bold"),
             token_boxes(ctx.pieces, ctx.ids), Text(""),
             Text(f"cl100k_base: {len(cl_ids)} tokens", style="bold"), token_boxes(cl_pieces, cl_ids), Text(""),
             table]
    if len(all_ids) > len(ctx.ids):
        parts.append(note(f"the model sees only the last {len(ctx.ids)} tokens (max_seq_len)"))
    parts.append(note("␣ is a space: most tokens carry the space before a word."))
    return Group(*parts)
