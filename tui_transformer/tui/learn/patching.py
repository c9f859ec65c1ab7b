"""The Circuits page's patching panel: activation patching on a prompt pair that the learner writes.

The prompt box holds ``clean | corrupted``, two prompts of the same token length, for example
``The cat sat on the | The dog sat on the``. The answer is what the model predicts after the clean
prompt, the wrong answer what it predicts after the corrupted one, so the learner never has to
pick token ids. :func:`tui_transformer.interpret.patching.patch` then gives two grids of the
fraction of the logit difference recovered: by (position, layer) of the residual stream, and by
(layer, head).
"""

from __future__ import annotations

import torch
from rich.console import Group
from rich.style import Style
from rich.table import Table
from rich.text import Text

from tui_transformer.errors import ConfigError
from tui_transformer.interpret.patching import patch
from tui_transformer.model.tools.eval_mode import eval_mode
from tui_transformer.tui.learn.style import note, shown
from tui_transformer.tui.widgets.heatmap import value_color

SEPARATOR = "|"
MAX_TOKENS = 16  # one forward pass per (layer, position): a short pair keeps the page quick and the grid legible
EXAMPLE = "The cat sat on the mat. The cat | The dog sat on the mat. The cat"


def prompt_pair(prompt: str) -> tuple[str, str] | None:
    """``"clean | corrupted"`` -> the two prompts (stripped of the spaces around the bar), or None."""
    if prompt.count(SEPARATOR) != 1:
        return None
    clean, corrupted = (part.strip() for part in prompt.split(SEPARATOR))
    return (clean, corrupted) if clean and corrupted else None


def live_patching(ctx):
    """The two grids for the prompt pair in the box, or one line saying what to write there."""
    title = Text("activation patching", style="bold")
    pair = prompt_pair(ctx.prompt)
    if pair is None:
        return Group(title, note(f"write two prompts of the same token length as `clean | corrupted` in the "
                                 f"prompt box to patch, e.g. {EXAMPLE}"))
    clean, corrupted = (ctx.tokenizer.encode(text) for text in pair)
    if len(clean) != len(corrupted) or len(clean) > MAX_TOKENS:
        return Group(title, Text(f"patching needs two prompts of the same length, at most {MAX_TOKENS} tokens: "
                                 f"the clean one has {len(clean)}, the corrupted one {len(corrupted)}", style="yellow"))
    answer, wrong = (int(_logits(ctx.model, ids)[-1].argmax()) for ids in (clean, corrupted))
    word, other = shown(ctx.tokenizer.decode([answer])), shown(ctx.tokenizer.decode([wrong]))
    if answer == wrong:
        return Group(title, Text(f"both prompts make the model predict {word!r}: nothing to recover. Change the "
                                 f"corrupted prompt until it predicts something else.", style="yellow"))
    try:
        result = patch(ctx.model, clean, corrupted, answer, wrong)
    except ConfigError as error:
        return Group(title, Text(str(error), style="yellow"))
    pieces = [shown(ctx.tokenizer.decode([i])) for i in clean]
    return Group(
        Text.assemble(("activation patching: ", "bold"),
                      f"clean predicts {word!r}, corrupted {other!r}; logit difference "
                      f"{result.clean:+.2f} clean, {result.corrupted:+.2f} corrupted"),
        # positions down, layers across: a grid as narrow as the model is deep, readable at 80 columns
        grid("residual stream entering each layer, patched at one position", "token", pieces,
             [f"L{layer + 1}" for layer in range(result.residual.shape[0])], result.residual.T),
        grid("one head's output patched at every position", "layer",
             [f"L{layer + 1}" for layer in range(result.heads.shape[0])],
             [f"H{head + 1}" for head in range(result.heads.shape[1])], result.heads),
        note("each cell: the fraction of the logit difference it brings back into the corrupted run "
             "(1 = all of it, 0 = none); red recovers, blue works against."),
    )


def _logits(model, ids: list[int]) -> torch.Tensor:
    """The model's logits ``[T, V]`` for one prompt."""
    with eval_mode(model), torch.inference_mode():
        return model(torch.tensor([ids], device=model.embed.weight.device))[0]


def grid(title: str, corner: str, rows: list[str], columns: list[str], values: torch.Tensor) -> Group:
    """``title`` over a table of ``values [rows, columns]``, each cell on the diverging colour of its value."""
    table = Table(box=None, padding=(0, 1), collapse_padding=True, pad_edge=False, show_edge=False,
                  header_style="bold")
    table.add_column(corner)
    for column in columns:
        table.add_column(Text(column), justify="right")
    for label, row in zip(rows, values.tolist()):
        table.add_row(Text(label), *(Text(f"{v:.2f}", style=Style(bgcolor=value_color(v, 1.0))) for v in row))
    return Group(Text(title, style="italic"), table)
