"""Live panels 6 and 7: the feed-forward network's and the block's real shapes and parameter counts,
and the residual stream's length as it passes through the blocks."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from tui_transformer.model.feedforward import feedforward_parameters
from tui_transformer.model.tools.explain import component_table, residual_norms
from tui_transformer.tui.learn.style import needs_tokens, note
from tui_transformer.tui.widgets.next_token_bars import bar


def _shapes(shapes) -> str:
    return "  ".join("×".join(str(n) for n in shape) for shape in shapes)


def _parameter_table(ctx, keep) -> Table:
    rows = component_table(ctx.model, blocks=(0,))
    total = rows[-1].parameters
    table = Table(title_justify="left")
    for column, justify in (("component", "left"), ("parameter shapes", "left"), ("parameters", "right"),
                            ("share", "right")):
        table.add_column(column, justify=justify)
    for row in rows:
        if keep(row.name):
            table.add_row(row.name, _shapes(row.shapes), f"{row.parameters:,}", f"{row.parameters / total:.1%}")
    return table


ACTIVATION_NAMES = {"gelu": "GELU", "gelu_tanh": "GELU (tanh)", "relu2": "ReLU²", "swiglu": "silu(gate) ⊙ up"}


def live_feedforward(ctx):
    """Page 6: FFN(x) = W_down · act(W_up · x + b_up) + b_down, per position."""
    cfg = ctx.config
    table = _parameter_table(ctx, lambda name: name.endswith(".ff") or name == "total")
    table.title = (f"x [1, T, {cfg.d_model}] → up [1, T, {cfg.d_ff}] → {ACTIVATION_NAMES[cfg.activation]} → "
                   f"down [1, T, {cfg.d_model}]  (block 0 of {cfg.n_layers}; every block is alike)")
    per_block = feedforward_parameters(cfg.d_model, cfg.d_ff, cfg.activation, cfg.bias)
    return Group(table, Text(f"all {cfg.n_layers} feed-forward networks: {cfg.n_layers} × {per_block:,} = "
                             f"{cfg.n_layers * per_block:,} parameters"),
                 note(f"d_ff / d_model = {cfg.d_ff / cfg.d_model:g}: the FFN widens each token's vector, "
                      "applies a non-linearity, and narrows it back."))


def stream_start(pos_encoding: str) -> str:
    """What the residual stream holds before block 0: the token embeddings, plus the positional
    encoding where it is *added* (sinusoidal, learned). RoPE and ALiBi add nothing there: they act
    inside attention, on the queries and keys or on the scores."""
    return "embed + pos" if pos_encoding in ("sinusoidal", "learned") else "embed"


def live_block(ctx):
    """Page 7: x + Attn(LN(x)), then + FFN(LN(x)); the parameters and the stream's norm per layer."""
    cfg = ctx.config
    table = _parameter_table(ctx, lambda name: not name.startswith("blocks.") or name.startswith("blocks.0."))
    table.title = f"every component (block 0 shown; {cfg.n_layers} alike)"
    parts = [table]
    if (empty := needs_tokens(ctx)) is not None:
        parts.append(empty)
        return Group(*parts)
    norms = residual_norms(ctx.inspection)
    largest = max(norm for _, norm in norms)
    lines = Text(f"mean L2 norm ‖x‖ of the residual stream [1, T, {cfg.d_model}] over your prompt's positions\n",
                 style="bold")
    for index, (name, norm) in enumerate(norms):
        if index:
            lines.append("\n")
        else:
            name = stream_start(cfg.pos_encoding)
        lines.append(f"{name:<12} {norm:7.2f} ")
        lines.append(bar(norm / largest, 40), style="cyan")
    parts += [lines, note("each block adds to the stream and never replaces it, so its length tends to grow.")]
    return Group(*parts)
