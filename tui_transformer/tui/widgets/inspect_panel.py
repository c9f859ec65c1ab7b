"""The Playground's inspect panel: what the model does at one token of the prompt.

For the token under the cursor (position ``i``) it shows two views of one recorded forward pass
(:func:`tui_transformer.model.tools.inspection.inspect`):

* **attention, last layer**: for each head, row ``i`` of its attention weights, i.e. how token ``i``
  spreads its attention over tokens ``0 .. i``. The context is drawn with each token's background
  as bright as the weight it gets, followed by the three most attended tokens;
* **logit lens**: after each layer, the three tokens the model would predict next if it stopped
  there (final LayerNorm and LM head applied to that layer's residual stream). The last row is the
  model's real prediction.

With heads ablated (the Playground's head picker) the pass runs with them switched off, and the
title says which. The forward pass runs in a thread worker owned by the panel; each request has a serial number so
a late answer for an older prompt or cursor is dropped. A failed pass says why in the panel:
worker state messages do not bubble, so the screen would never hear of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.console import Group
from rich.style import Style
from rich.text import Text
from textual import work
from textual.message import Message
from textual.widgets import Static

from tui_transformer.tui.widgets.head_picker import Ablation
from tui_transformer.tui.widgets.heatmap import value_color
from tui_transformer.tui.widgets.next_token_bars import shown
from tui_transformer.tui.worker_errors import error_text

CONTEXT_TOKENS = 24  # the attention strip shows the last this many tokens up to the cursor
TOP = 3


def token_at(pieces: list[str], offset: int) -> int:
    """The index of the token whose text covers character ``offset`` of the joined ``pieces``.

    A cursor at the very end, or just after a token, belongs to the token before it: that is the
    token the learner just typed. Pieces that are partial characters (``�``) count their own length.
    """
    end = 0
    for index, piece in enumerate(pieces):
        end += len(piece)
        if offset <= end:
            return index
    return len(pieces) - 1


def inspect_token(model: Any, tokenizer: Any, ids: list[int], position: int, ablation: Ablation = Ablation()) -> Group:
    """The panel's content for token ``position`` of ``ids``, with ``ablation``'s heads off (runs in a worker thread).

    Mean ablation averages over all of ``ids`` (the whole prompt), wherever the cursor is.
    """
    from tui_transformer.model.tools.inspection import inspect

    with ablation.applied(model, ids):
        context = ids[: position + 1][-model.config.max_seq_len:]  # the model sees the context up to the cursor
        seen = inspect(model, context)
    ids, position = context, len(context) - 1
    pieces = [tokenizer.decode([i]) for i in ids]
    last = len(seen.attention) - 1
    title = Text.assemble(("inspect ", "bold"), (f"token {position} ", "bold"),
                          (shown(pieces[position]), "bold reverse"), (f" · last layer ({last + 1}) heads", "dim"))
    if ablation.heads:
        title.append(f" · ablated {ablation.label()}", "bold red")
    lines = [title]
    first = max(0, position + 1 - CONTEXT_TOKENS)
    for head in range(seen.attention[last].shape[1]):
        weights = seen.attention[last][0, head, position, : position + 1].float()
        off = (last, head) in ablation.heads  # it still looks; what it writes is dropped
        line = Text(f"{'✗' if off else ''}h{head + 1} ", style="bold red" if off else "dim")
        for j in range(first, position + 1):
            weight = weights[j].item()
            line.append(shown(pieces[j]), Style(bgcolor=value_color(weight, 1.0), bold=weight > 0.3))
        top = weights.topk(min(TOP, position + 1))
        line.append("  " + "  ".join(f"{shown(pieces[j])} {w:.0%}" for w, j in zip(top.values.tolist(),
                                                                             top.indices.tolist())), "dim")
        lines.append(line)
    probs, top_ids = seen.logit_lens_top(TOP)  # [L, 1, T, k]
    lines.append(Text("logit lens: the next token after each layer", style="bold"))
    for layer in range(probs.shape[0]):
        guesses = "  ".join(f"{shown(tokenizer.decode([int(i)]))} {p:.0%}"
                            for i, p in zip(top_ids[layer, 0, position].tolist(), probs[layer, 0, position].tolist()))
        lines.append(Text(f"L{layer + 1:<2} {guesses}", style="bold" if layer == probs.shape[0] - 1 else ""))
    return Group(*lines)


class InspectPanel(Static):
    """``show(model, tokenizer, ids, position, ablation)`` computes and shows the panel for that token."""

    DEFAULT_CSS = """
    InspectPanel { height: auto; max-height: 14; border: round $panel; padding: 0 1; display: none; }
    InspectPanel.-shown { display: block; }
    """

    @dataclass
    class Computed(Message):
        """The panel's content for request ``serial``: (the token shown or None, a renderable)."""

        serial: int
        content: Any

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.serial = 0
        self.position: int | None = None  # the token shown, once computed

    def show(self, model: Any, tokenizer: Any, ids: list[int], position: int, ablation: Ablation = Ablation()) -> None:
        self.serial += 1
        if not ids:
            self.update(Text("type a prompt to inspect its tokens", style="dim"))
            return
        self._compute(self.serial, model, tokenizer, ids, min(position, len(ids) - 1), ablation)

    @work(thread=True, exclusive=True, group="inspect", exit_on_error=False)
    def _compute(self, serial: int, model: Any, tokenizer: Any, ids: list[int], position: int,
                 ablation: Ablation) -> None:
        try:
            content = (position, inspect_token(model, tokenizer, ids, position, ablation))
        except Exception as error:  # said in the panel, in its turn; a worker's error would reach no one
            content = (None, Text(f"could not inspect token {position}: {error_text(error)}", style="red"))
        self.post_message(self.Computed(serial, content))

    def on_inspect_panel_computed(self, message: Computed) -> None:
        message.stop()
        if message.serial == self.serial:
            self.position, content = message.content
            self.update(content)
