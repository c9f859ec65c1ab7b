"""Live panel 11: circuits, what each attention head of the learner's model does.

Everything comes from :mod:`tui_transformer.interpret`, on the same test sequences as
``tui-transformer interpret heads`` and ``interpret induction`` with their defaults (``LENGTH`` ids
repeated twice, ``BATCH`` sequences, seed 0, ids drawn from the builtin corpus's most frequent), so
the page and the command print the same numbers for the same model:

* a table of every head's role scores (:func:`~tui_transformer.interpret.head_roles.head_roles`),
  its copying score and its dominant role, coloured by role;
* the induction test: the loss on each copy and the in-context learning score, then one test
  sequence with the strongest induction head's attention drawn over it, from a token of the second
  copy;
* activation patching on the prompt pair ``clean | corrupted`` in the prompt box (:mod:`.patching`).

All but the patching ignore the prompt: the test sequences are random tokens, on purpose (nothing
but copying from context can predict their second copy). So that part is computed once per model
(seconds on a large vocabulary) and shown again from a cache when the learner edits the prompt.
"""

from __future__ import annotations

import json
import threading
import weakref

import torch
from rich.console import Group
from rich.style import Style
from rich.table import Table
from rich.text import Text

from tui_transformer.interpret.head_roles import ROLES, head_roles
from tui_transformer.interpret.induction import training_ids, induction_report, repeated_random_tokens
from tui_transformer.model.tools.inspection import inspect
from tui_transformer.tui.learn.patching import live_patching
from tui_transformer.tui.learn.style import note, shown
from tui_transformer.tui.widgets.heatmap import value_color

LENGTH, BATCH, SEED = 24, 4, 0  # the defaults of `tui-transformer interpret heads|induction`
ROLE_COLOURS = {"previous token": "cyan", "self": "magenta", "first token": "yellow", "local window": "blue",
                "induction": "green"}
HEADERS = {"previous token": "prev", "self": "self", "first token": "first", "local window": "local",
           "induction": "induct"}  # short: the table fits the 52 columns Learn leaves at 80

_pools: dict[str, list[int]] = {}  # tokenizer identity -> frequent ids: encoding the corpus takes seconds
_pools_lock = threading.Lock()  # two workers (two quick page visits) must not both encode it
_panels: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> its panel; gone with the model


def token_pool(tokenizer, data: str | None = None) -> list[int]:
    """The ids the test sequences are drawn from: those of the run's synthetic data, else the builtin
    corpus's most frequent (cached)."""
    key = json.dumps([tokenizer.identity(), data], sort_keys=True, default=str)
    with _pools_lock:
        if key not in _pools:
            _pools[key] = training_ids(tokenizer, data)
        return _pools[key]


def trained_on(run_dir) -> str | None:
    """The ``--data`` of the run at ``run_dir`` (None for the fresh model, or a run without a readable config)."""
    from tui_transformer.errors import UserError
    from tui_transformer.train.runs import load_run_config

    if run_dir is None:
        return None
    try:
        return load_run_config(run_dir).data
    except UserError:
        return None


def live(ctx):
    """Page 11: the model's heads (cached per model: the prompt plays no part), then patching on the prompt."""
    panel = _panels.get(ctx.model)
    if panel is None:
        panel = _panels[ctx.model] = circuits_panel(ctx)
    ctx.check()
    return Group(panel, Text(""), live_patching(ctx))


def circuits_panel(ctx):
    """The head-roles table, the induction scores and the strongest head's attention."""
    pool = token_pool(ctx.tokenizer, trained_on(ctx.run_dir))
    ctx.check()  # each step below takes up to seconds on a large vocabulary
    length = min(LENGTH, ctx.config.max_seq_len // 2, len(pool))
    if length < 2:
        return Text("the model's context is too short for a repeated test sequence", style="dim")
    device = ctx.model.embed.weight.device
    tokens = repeated_random_tokens(pool, length, BATCH, SEED).to(device)
    with torch.inference_mode():  # the copying scores' matmuls need no autograd graph
        roles = head_roles(ctx.model, tokens, period=length)
        ctx.check()
        report = induction_report(ctx.model, pool, length, BATCH, SEED)  # the same seed: the same tokens
    return Group(
        Text(f"{BATCH} sequences of {length} random tokens, each repeated twice (ids drawn from "
             f"the builtin corpus's most frequent)", style="bold"),
        roles_table(roles, report),
        note("scores: the fraction of the attention on each pattern (induct = prefix matching); "
             "copy = the head's direct logit push for the right next token (z-score); "
             "role = the best pattern if it reaches 0.4."),
        Text(""),
        induction_summary(report),
        strongest_head_view(ctx, tokens[0], report),
    )


def roles_table(roles, report) -> Table:
    """One row per head: each role's score, the copying score and the dominant role."""
    table = Table(box=None, padding=(0, 1), collapse_padding=True, pad_edge=False, show_edge=False,
                  header_style="bold")
    table.add_column("head")
    for role in ROLES:
        table.add_column(HEADERS[role], justify="right")
    table.add_column("copy", justify="right")
    table.add_column("role")
    layers, heads, _ = roles.scores.shape
    for layer in range(layers):
        for head in range(heads):
            role = roles.role(layer, head)
            cells = [score_cell(score, role == name) for name, score in zip(ROLES, roles.scores[layer, head].tolist())]
            table.add_row(f"L{layer + 1} H{head + 1}", *cells, f"{float(report.copying[layer, head]):+.1f}",
                          Text(role or "—", style=ROLE_COLOURS.get(role, "dim")))
    return table


def score_cell(score: float, dominant: bool) -> Text:
    """A score on a background as bright as it is; the head's dominant role in bold."""
    return Text(f"{score:.2f}", style=Style(bgcolor=value_color(score, 1.0), bold=dominant))


def induction_summary(report) -> Text:
    """The loss on each copy, their difference (in-context learning) and the strongest head."""
    layer, head, score = report.strongest()
    return Text.assemble(
        ("induction: ", "bold"),
        f"loss on the first copy {report.first_copy_loss:.2f}, on the second {report.second_copy_loss:.2f} nats: "
        f"in-context learning {report.in_context_learning:+.2f} nats. Strongest induction head ",
        (f"L{layer + 1} H{head + 1}", "bold green"), f", prefix matching {score:.2f}.")


def strongest_head_view(ctx, sequence, report) -> Group:
    """One test sequence, shaded by the strongest induction head's attention from a second-copy token.

    The query is ``t_i`` at position ``R + i`` (reversed); an induction head looks at position
    ``i + 1`` (underlined), the token that followed ``t_i`` the first time.
    """
    layer, head, _ = report.strongest()
    length = report.length
    i = length // 2
    query, target = length + i, i + 1
    weights = inspect(ctx.model, sequence[: query + 1].unsqueeze(0)).attention[layer][0, head, query].float()
    pieces = [shown(ctx.tokenizer.decode([int(t)])) for t in sequence[: query + 1].tolist()]
    line = Text()
    for j, piece in enumerate(pieces):
        style = Style(bgcolor=value_color(float(weights[j]), 1.0), bold=j == target, underline=j == target,
                      reverse=j == query)
        line.append(piece, style)
        line.append(" ")
    return Group(
        Text(f"L{layer + 1} H{head + 1} at the second {pieces[query]!r} (position {query}): "
             f"{float(weights[target]):.0%} of its attention on {pieces[target]!r}, the token after the first one",
             style="bold"),
        line,
        note("shaded by attention; reversed = the token that looks; underlined = what an induction head "
             "looks at. Ablate this head in the Playground (ctrl+b) to see what it does for the prediction."),
    )
