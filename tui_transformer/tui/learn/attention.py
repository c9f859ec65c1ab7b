"""Live panels 4 and 5: attention maps, one head in detail and all heads of a layer side by side.

The weights come from :func:`tui_transformer.model.tools.inspection.inspect`: the real softmax of the
real model on the learner's prompt, causal mask included (the empty upper triangle).
"""

from __future__ import annotations

from rich.columns import Columns
from rich.console import Group
from rich.text import Text

from tui_transformer.tui.learn.style import needs_tokens, note
from tui_transformer.tui.widgets.attention_map import attention_grid


def selected(ctx) -> tuple[int, int]:
    """The selected layer and head, wrapped into the model's range."""
    return ctx.layer % ctx.config.n_layers, ctx.head % ctx.config.n_heads


def live_head(ctx):
    """Page 4: one head's weights, softmax(QKᵀ/√d + M), as a grid."""
    if (empty := needs_tokens(ctx)) is not None:
        return empty
    layer, head = selected(ctx)
    weights = ctx.inspection.attention[layer][0, head].float().tolist()
    cfg = ctx.config
    title = Text(f"layer {layer + 1}/{cfg.n_layers} · head {head + 1}/{cfg.n_heads} · "
                 f"Q, K [1, {cfg.n_heads}, {len(ctx.ids)}, {cfg.d_head}] → weights [{len(ctx.ids)} × {len(ctx.ids)}]",
                 style="bold")
    return Group(title, attention_grid(weights, ctx.pieces),
                 note("row = the token that looks, column = the token looked at, % of its attention. "
                      "· = masked (the future). [ ] layer, < > head."))


def live_heads(ctx, max_tokens: int = 8):
    """Page 5: every head of the selected layer, each on the last ``max_tokens`` tokens."""
    if (empty := needs_tokens(ctx)) is not None:
        return empty
    layer, _ = selected(ctx)
    cfg = ctx.config
    grids = []
    for head in range(cfg.n_heads):
        weights = ctx.inspection.attention[layer][0, head].float().tolist()
        grids.append(Group(Text(f"head {head + 1}", style="bold"),
                           attention_grid(weights, ctx.pieces, max_tokens=max_tokens)))
    title = Text(f"layer {layer + 1}/{cfg.n_layers}: {cfg.n_heads} heads of d_head = {cfg.d_model} / "
                 f"{cfg.n_heads} = {cfg.d_head}. x [1, T, {cfg.d_model}] → q, k, v [1, {cfg.n_heads}, T, {cfg.d_head}]"
                 f" → concat [1, T, {cfg.d_model}] → W_o", style="bold")
    return Group(title, Columns(grids, padding=(1, 3)),
                 note("each head learns its own pattern: previous token, first token, same word... [ ] picks the layer."))
