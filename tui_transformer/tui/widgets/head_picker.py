"""Pick attention heads to ablate, with the keyboard: the Playground's ablation controls.

A grid of the model's layers (rows) and heads (columns). The arrows move a cursor, ``space``
switches the head under it off or on again, ``m`` chooses how it is switched off, ``backspace``
clears every choice. Each change posts :class:`HeadPicker.Changed` with an :class:`Ablation`, the
choice as a value that the screen's workers apply to their forward passes.

How a head is switched off is :func:`tui_transformer.interpret.ablation.ablate_heads`:

* **zero**: the head's output ``z`` becomes 0, it writes nothing into the residual stream;
* **mean**: ``z`` becomes its average over the positions of a reference text (here the prompt
  itself), so only what the head says *about this particular token* is removed.

Heads are numbered from 1 on screen (``L2 H1``), as on the Learn pages; ``Ablation.heads`` holds
the core's 0-based ``(layer, head)`` pairs.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static

MODES = ("zero", "mean")  # interpret.ablation.ABLATIONS, kept here so the widget loads without torch
MAX_ROWS = 4  # layers shown at once (fewer if the CSS max-height says so); a deeper model scrolls with the cursor


@dataclass(frozen=True)
class Ablation:
    """Which heads are switched off, and how: ``heads`` are 0-based ``(layer, head)`` pairs."""

    heads: tuple[tuple[int, int], ...] = ()
    mode: str = "zero"

    def applied(self, model: Any, reference_ids: list[int]) -> AbstractContextManager:
        """A context in which this thread's forward passes of ``model`` run with the heads ablated.

        ``reference_ids`` (the prompt) is what mean ablation averages each head's output over.
        """
        if not self.heads:
            return nullcontext()
        import torch

        from tui_transformer.interpret.ablation import ablate_heads

        reference = torch.tensor([reference_ids[-model.config.max_seq_len:]]) if self.mode == "mean" else None
        return ablate_heads(model, self.heads, self.mode, reference=reference)

    def label(self) -> str:
        """``"L1 H2, L2 H1 (zero)"``, or ``""`` when no head is ablated."""
        if not self.heads:
            return ""
        return ", ".join(f"L{layer + 1} H{head + 1}" for layer, head in self.heads) + f" ({self.mode})"


class HeadPicker(Static, can_focus=True):
    """``set_shape(layers, heads)`` for a model, then the keys pick; :attr:`ablation` is the choice."""

    DEFAULT_CSS = """
    HeadPicker { height: auto; padding: 0 1; background: $boost; }
    HeadPicker:focus { background: $accent 20%; }
    """

    BINDINGS = [
        Binding("left", "move(0, -1)", "Head ←", show=False),
        Binding("right", "move(0, 1)", "Head →", show=False),
        Binding("up", "move(-1, 0)", "Layer ↑", show=False),
        Binding("down", "move(1, 0)", "Layer ↓", show=False),
        Binding("space", "toggle", "Ablate"),
        Binding("m", "next_mode", "Zero/mean"),
        Binding("backspace,delete", "clear", "Clear"),
    ]

    @dataclass
    class Changed(Message):
        """The heads to ablate changed (an empty ``ablation.heads``: the model as trained)."""

        picker: HeadPicker
        ablation: Ablation

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.n_layers = self.n_heads = 0
        self.cursor = (0, 0)
        self.ablation = Ablation()

    def on_mount(self) -> None:
        self._draw()

    def on_focus(self) -> None:
        self._draw()  # the cursor shows only while the picker has the focus

    def on_blur(self) -> None:
        self._draw()

    def on_resize(self) -> None:
        self._draw()  # a new max-height (the 80-column layout) may change how many layers fit

    def rows(self) -> int:
        """How many layer rows under the title: ``MAX_ROWS``, or fewer under a CSS ``max-height``
        (0 at ``max-height: 1``: one line holds a short title and the cursor's layer)."""
        limit = self.styles.max_height
        return MAX_ROWS if limit is None or not limit.is_cells else max(int(limit.value) - 1, 0)

    def set_shape(self, layers: int, heads: int) -> None:
        """A new model: its grid, nothing ablated (the old choice may not exist in it)."""
        self.n_layers, self.n_heads, self.cursor = layers, heads, (0, 0)
        self._set(Ablation(mode=self.ablation.mode))

    # ---- the keys ------------------------------------------------------------------------------

    def action_move(self, layers: int, heads: int) -> None:
        if self.n_layers:
            layer, head = self.cursor
            self.cursor = ((layer + layers) % self.n_layers, (head + heads) % self.n_heads)
            self._draw()

    def action_toggle(self) -> None:
        if not self.n_layers:
            return
        chosen = set(self.ablation.heads) ^ {self.cursor}
        self._set(Ablation(tuple(sorted(chosen)), self.ablation.mode))

    def action_next_mode(self) -> None:
        mode = MODES[(MODES.index(self.ablation.mode) + 1) % len(MODES)]
        self._set(Ablation(self.ablation.heads, mode), post=bool(self.ablation.heads))

    def action_clear(self) -> None:
        self._set(Ablation(mode=self.ablation.mode), post=bool(self.ablation.heads))

    def _set(self, ablation: Ablation, post: bool = True) -> None:
        self.ablation = ablation
        self._draw()
        if post:
            self.post_message(self.Changed(self, ablation))

    # ---- drawing -------------------------------------------------------------------------------

    def _draw(self) -> None:
        if not self.n_layers:
            self.update(Text("ablate heads: load a model first", style="dim"))
            return
        rows = self.rows()
        if rows == 0:  # one line: the cursor's layer after a short title (the 80x24 layout)
            self.update(Text.assemble(("ablate ", "bold"), f"{self.ablation.mode} ", self._layer_row(self.cursor[0])))
            return
        first = min(max(self.cursor[0] - rows + 1, 0), max(self.n_layers - rows, 0))
        shown_layers = range(first, min(first + rows, self.n_layers))
        title = Text.assemble(("ablate heads", "bold"), f" · {self.ablation.mode}", (" · ctrl+b, arrows, space", "dim"))
        if len(shown_layers) < self.n_layers:
            title.append(f" · layers {first + 1}-{shown_layers[-1] + 1} of {self.n_layers}", "dim")
        self.update(Text("\n").join([title, *(self._layer_row(layer) for layer in shown_layers)]))

    def _layer_row(self, layer: int) -> Text:
        """``L2  h1 ✗h2``: the layer's heads, the ablated ones in red, the cursor reversed while focused."""
        line = Text(f"L{layer + 1:<2}", style="dim")
        for head in range(self.n_heads):
            off = (layer, head) in self.ablation.heads
            style = "bold red" if off else ""
            if self.has_focus and (layer, head) == self.cursor:
                style += " reverse"
            line.append(" ")
            line.append(f"{'✗' if off else ' '}h{head + 1:<2}", style)
        return line
