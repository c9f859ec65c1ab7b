"""Live panel 8, the full model and its training: the run's loss story and the logit lens.

The run's ``metrics.jsonl`` tells how training went (steps, loss first/last/best, validation,
the schedule and gradient accumulation). The logit lens shows, for each position of the prompt,
the token the model would predict if it stopped after each layer.
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from tui_transformer.model.tools.explain import logit_lens_table
from tui_transformer.tui.learn.style import needs_tokens, note, shown

LENS_POSITIONS = 8


def training_summary(run_dir) -> list[tuple[str, str]]:
    """``(what, value)`` rows from a run's metrics file: the config that shaped training and how loss went."""
    from tui_transformer.train.events import EvalResult, RunStarted, StepMetrics
    from tui_transformer.train.metrics import METRICS_FILE, read_events

    path = run_dir / METRICS_FILE
    if not path.is_file():
        return [("metrics", f"none yet ({path} does not exist)")]
    config, losses, val = {}, [], None
    for event in read_events(path):
        if isinstance(event, RunStarted):
            config = event.config
        elif isinstance(event, StepMetrics):
            losses.append((event.step, event.loss, event.lr))
        elif isinstance(event, EvalResult):
            val = event
    rows = []
    if config:
        batch, accumulation, seq = config.get("batch_size"), config.get("accumulation_steps"), config["model"]["max_seq_len"]
        rows.append(("batch", f"{batch} × {accumulation} accumulation steps × {seq} tokens = "
                              f"{batch * accumulation * seq:,} tokens per optimizer step"))
        muon = f" (Muon's {config.get('muon_lr'):g})" if config.get("optimizer") == "muon" else ""
        shape = (f"flat, then down over the last {config.get('warmdown_frac', 0):.0%} to"
                 if config.get("schedule") == "wsd" else "cosine down to")
        rows.append(("schedule", f"lr {config.get('lr'):g}{muon}, warmup {config.get('warmup_frac', 0):.0%}, "
                                 f"{shape} {config.get('min_lr_ratio', 0):g} × lr"))
    if losses:
        best = min(losses, key=lambda row: row[1])
        rows.append(("steps", f"{losses[-1][0]:,}"))
        rows.append(("train loss", f"{losses[0][1]:.3f} at step {losses[0][0]} → {losses[-1][1]:.3f} at step "
                                   f"{losses[-1][0]} (best {best[1]:.3f} at step {best[0]})"))
    if val is not None:
        rows.append(("val loss", f"{val.val_loss:.3f} at step {val.step} (train {val.train_loss:.3f}): {val.verdict}"))
    return rows or [("metrics", "no steps recorded yet")]


def live(ctx):
    parts = []
    summary = Table(title="training", title_justify="left", show_header=False)
    summary.add_column(style="bold")
    summary.add_column()
    if ctx.run_dir is None:
        summary.add_row("run", "none: this model is untrained (random weights). Train one in Train mode (1).")
    else:
        summary.add_row("run", Text(ctx.run_dir.name))
        for what, value in training_summary(ctx.run_dir):
            summary.add_row(what, Text(value))
    parts.append(summary)
    if (empty := needs_tokens(ctx)) is not None:
        return Group(*parts, empty)
    lens = logit_lens_table(ctx.inspection, ctx.tokenizer.decode)
    first = max(0, len(ctx.ids) - LENS_POSITIONS)
    table = Table(title="logit lens: top next token per layer (rows) at each position (columns)", title_justify="left")
    table.add_column("after")
    for position in range(first, len(ctx.ids)):
        table.add_column(Text(shown(ctx.pieces[position]), overflow="fold"), justify="left")
    for layer, row in enumerate(lens):
        # "fold": a narrow column wraps a long token onto a second line instead of cutting it (␣defau…)
        table.add_row(f"layer {layer + 1}", *(Text(f"{shown(token)} {p:.0%}" if p >= 0.01 else f"{shown(token)} <1%",
                                                   overflow="fold") for token, p in row[first:]))
    parts.append(table)
    if first:
        parts.append(note(f"(the first {first} positions are hidden: the table shows the last {LENS_POSITIONS})"))
    parts.append(note("the last row is the model's real prediction; earlier rows apply the final LayerNorm "
                      "and LM head to an earlier layer's residual stream."))
    return Group(*parts)
