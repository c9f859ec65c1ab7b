"""Live panel 10, sampling: the next-token distribution before and after each sampler step.

The columns are the stages of ``model.sampling.Sampler.distribution`` in its order, computed by
:func:`tui_transformer.model.tools.explain.sampler_stages` with the sampler's own processors; the last
column is what generation would draw from. The rows are the model's ten likeliest tokens.
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from tui_transformer.model.tools.explain import sampler_stages
from tui_transformer.tui.learn.style import needs_tokens, note, shown

ROWS = 10


def live(ctx):
    if (empty := needs_tokens(ctx)) is not None:
        return empty
    import torch

    logits = ctx.inspection.logits[0, -1]
    context = torch.as_tensor(ctx.ids)
    stages = sampler_stages(logits, context, ctx.sampling)
    top = stages[0].probs.topk(ROWS).indices.tolist()
    table = Table(title=Text(f"next token after {shown(ctx.pieces[-1])!r}: probability after each step"),
                  title_justify="left")
    table.add_column("token")
    for stage in stages:
        table.add_column(stage.name if stage.active else f"({stage.name})", justify="right",
                         style=None if stage.active else "dim")
    for token_id in top:
        seen = " ↺" if token_id in ctx.ids else ""
        table.add_row(Text(shown(ctx.tokenizer.decode([token_id])) + seen),
                      *(_percent(stage.probs[token_id].item()) for stage in stages))
    table.add_row(Text("left", style="italic"),
                  *(f"{int((stage.probs > 0).sum()):,}" for stage in stages))
    return Group(table, note("left = tokens with p > 0. ↺ = already in the prompt (the repetition penalty "
                             "pushes it down). — = cut to 0. s: the next sampler settings."))


def _percent(p: float) -> str:
    return "—" if p == 0 else f"{p:.1%}" if p >= 0.001 else f"{p:.0e}"
