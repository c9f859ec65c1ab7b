"""Live panel 9, the KV cache: its memory for this model as the context grows.

``bytes = 2 (K and V) · layers · batch · heads · T · d_head · bytes per value``: linear in ``T``.
Without a cache each new token re-runs all ``T`` positions; with it, one.
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from tui_transformer.model.kv_cache import kv_cache_bytes
from tui_transformer.model.tools.explain import kv_cache_table
from tui_transformer.tui.learn.style import human_bytes, note


def live(ctx):
    cfg = ctx.config
    dtype = ctx.model.embed.weight.dtype
    size = ctx.model.embed.weight.element_size()
    prompt = len(ctx.ids)
    # one position's K and V in every layer; the cache holds T of them
    formula = Text(f"2 · L {cfg.n_layers} · B 1 · H {cfg.n_heads} · d_head {cfg.d_head} · {size} bytes ({dtype}) "
                   f"= {kv_cache_bytes(cfg, 1, bytes_per_value=size):,} bytes per position, × T positions",
                   style="bold")
    table = Table(title_justify="left", title="cache size as the context grows")
    for column in ("T (positions)", "K and V bytes", "decode work per token, no cache → cache"):
        table.add_column(column, justify="right")
    for length, nbytes in kv_cache_table(cfg, prompt, bytes_per_value=size):
        label = f"{length}" + (" ← your prompt" if length == prompt else "")
        table.add_row(label, human_bytes(nbytes), f"{length} positions → 1 position")
    return Group(formula, table,
                 note(f"prefill: the {prompt}-token prompt fills positions 0..{max(prompt - 1, 0)} at once; "
                      "decode: each new token writes one position and reads all earlier ones."))
