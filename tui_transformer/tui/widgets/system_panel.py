"""What the machine spends on the run: one line, from the trainer's newest system sample.

The trainer samples the machine every few seconds (:mod:`tui_transformer.train.system`) and writes
each :class:`~tui_transformer.train.events.SystemSample` to ``metrics.jsonl``, so a live run and a
replayed one show the same line:

* **cpu**: this process's CPU time over wall time; every busy core adds 100 %, so two cores read 200 %;
* **rss**: the memory the process holds in RAM;
* **cuda**: what torch's allocator has handed out / what it keeps from the driver (``nvidia-smi``
  shows the second), and **gpu** the utilisation the driver reports (CUDA runs only);
* **MFU** and **tok/s**: MFU is the share of the device's peak FLOP/s that the model's own arithmetic uses.
  Small models on a CPU reach a few percent: most of the time goes to moving memory and Python.

The line must fit beside the form at 80 columns (about 48 cells) as well as at 120: the fields are
listed most telling first, and those that do not fit are left out whole, never cut in the middle.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget

from tui_transformer.train.events import SystemSample
from tui_transformer.tui.widgets.line_chart import format_number
from tui_transformer.tui.widgets.shard_panel import format_bytes

LABEL = "system"
SEPARATOR = "  "


def system_fields(sample: SystemSample) -> list[tuple[str, str]]:
    """``(label, value)`` pairs, most telling first (see the module docstring)."""
    fields = [("cpu", f"{sample.cpu_percent:.0f}%"), ("rss", format_bytes(sample.rss_bytes))]
    if sample.cuda_allocated is not None and sample.cuda_reserved is not None:
        fields.append(("cuda", f"{format_bytes(sample.cuda_allocated)} / {format_bytes(sample.cuda_reserved)}"))
    if sample.gpu_util is not None:
        fields.append(("gpu", f"{sample.gpu_util:.0f}%"))
    fields.append(("MFU", f"{sample.mfu:.2%}" if sample.mfu < 0.1 else f"{sample.mfu:.1%}"))
    fields.append(("tok/s", format_number(sample.tokens_per_sec)))  # the stats line has it too: last
    return fields


def system_text(sample: SystemSample | None, width: int) -> Text:
    """The panel's line, at most ``width`` cells: as many whole fields as fit."""
    text = Text(LABEL, style="dim")
    if sample is None:
        text.append("  –  sampled every few seconds while a run trains", style="dim")
        text.truncate(width, overflow="ellipsis")
        return text
    for label, value in system_fields(sample):
        field = Text(SEPARATOR).append(f"{label} ", style="dim").append(value, style="bold")
        if text.cell_len + field.cell_len > width:
            break  # this field and the less telling ones after it
        text.append_text(field)
    return text


class SystemPanel(Widget):
    """One line: :func:`system_text` of the sample given to :meth:`show`, fitted to the widget's width."""

    DEFAULT_CSS = "SystemPanel { height: 1; padding: 0 1; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.sample: SystemSample | None = None

    def show(self, sample: SystemSample | None) -> None:
        if sample is not self.sample:
            self.sample = sample
            self.refresh()  # one line, fixed height: no layout pass

    def render(self) -> RenderableType:
        return system_text(self.sample, self.content_size.width)
