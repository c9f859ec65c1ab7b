"""Live panel 12, the modern recipe: the learner's runs ranked by best val bits per byte, each with its recipe.

The runs shown are the speedrun lesson's (its sweep, ``speedrun-<arm>``) when there are any, else
every run with a val bits per byte. A run's recipe is read from its ``config.toml``: the settings of
the modern recipe in which it differs from the classic one (``classic`` when it differs in none),
so a row reads as what that run changed, next to what it reached.
"""

from __future__ import annotations

import tomllib
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from tui_transformer.tui.learn.style import note

LESSON = "speedrun"
MAX_ROWS = 16


def recipe_words(config: dict[str, Any]) -> list[str]:
    """The modern settings a run's config (as ``config.toml`` holds it) uses, in the page's order; ["classic"]: none."""
    model = config.get("model", {})
    words = []
    if model.get("norm", "layernorm") != "layernorm":
        words.append(model["norm"])
    if model.get("bias", True) is False:
        words.append("no-bias")
    if model.get("qk_norm"):
        words.append("qk-norm")
    if model.get("activation", "gelu") not in ("gelu", "gelu_tanh"):
        words.append(model["activation"])
    if model.get("zero_init_proj"):
        words.append("zero-init")
    if model.get("logit_softcap"):
        words.append(f"softcap {model['logit_softcap']:g}")
    if model.get("tie_weights", True) is False:
        words.append("untied")
    if config.get("optimizer", "adamw") != "adamw":
        words.append(config["optimizer"])
    if config.get("schedule", "cosine") != "cosine":
        words.append(config["schedule"])
    return words or ["classic"]


def _config(run_dir) -> dict[str, Any] | None:
    from tui_transformer.train.runs import CONFIG_FILE

    try:
        with (run_dir / CONFIG_FILE).open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError):
        return None


def ranked_runs(runs: list) -> tuple[list, bool]:
    """The runs to rank (``RunInfo``), lowest best val bpb first, and whether they are the speedrun lesson's."""
    scored = [run for run in runs if run.best_val_bpb is not None]
    lesson = [run for run in scored if run.sweep == LESSON]
    chosen = lesson or scored
    return sorted(chosen, key=lambda run: run.best_val_bpb)[:MAX_ROWS], bool(lesson)


def recipe_table(ranked: list, yours: str | None) -> Table:
    """A row per run: rank, name, recipe, steps, best val bpb and its difference to the classic run's."""
    classic = next((run for run in ranked if run.name == f"{LESSON}-classic"), None)
    table = Table(title="your runs, best val bits per byte first (lower is better)", title_justify="left")
    for column, justify in (("#", "right"), ("run", "left"), ("recipe", "left"), ("steps", "right"),
                            ("best bpb", "right"), ("vs classic", "right")):
        table.add_column(column, justify=justify, overflow="fold")
    for rank, run in enumerate(ranked, 1):
        config = _config(run.path)
        recipe = " · ".join(recipe_words(config)) if config is not None else "?"
        against = f"{run.best_val_bpb - classic.best_val_bpb:+.4f}" if classic is not None else ""
        name = Text(run.name, style="bold" if run.name == yours else "")
        table.add_row(str(rank), name, recipe, f"{run.last_step:,}", f"{run.best_val_bpb:.4f}", against)
    return table


def live(ctx):
    from tui_transformer.train.runs import list_runs

    ranked, from_lesson = ranked_runs(list_runs())
    if not ranked:
        return Group(Text("no run with a val bits per byte yet", style="bold"),
                     note("run the speedrun lesson (Lessons, 6: The modern recipe) to rank the recipes on your own "
                          "runs, or train any run and evaluate it"))
    yours = ctx.run_dir.name if ctx.run_dir is not None else None
    where = ("the speedrun lesson's runs: each trained for the same wall time" if from_lesson
             else "every run with an eval (no speedrun lesson yet: they differ in more than the recipe)")
    return Group(recipe_table(ranked, yours), note(where + "; bold: the model shown here"))
