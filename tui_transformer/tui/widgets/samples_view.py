"""Text the model wrote during training, newest first: the most direct way to see it learn.

Early samples are noise, then word shapes appear, then grammar. Reading them next to the loss
curve shows what a loss of 5 versus 3 *means*.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tui_transformer.tui.run_history import RunHistory


def waiting_text(history: RunHistory) -> str:
    """What the empty tab says: how often the run writes a sample, and at which step the first comes."""
    interval = history.started.config.get("sample_interval") if history.started is not None else None
    if not interval:
        return "no samples yet: once a run starts, it writes a sample every few hundred steps (sample_interval)"
    # the trainer samples when step % sample_interval == 0, counting from where the run (re)started
    first = (history.started.resumed_from_step // interval + 1) * interval
    return f"no samples yet: this run writes one every {interval:,} steps; the first at step {first:,}"


def samples_text(history: RunHistory, limit: int = 10) -> Text:
    if not history.samples:
        return Text(waiting_text(history), style="dim")
    parts = []
    for sample in list(history.samples)[:limit]:
        line = Text()
        line.append(f"step {sample.step:>6,} ", style="dim")
        line.append(sample.prompt, style="bold")
        line.append(sample.text.replace("\n", "⏎ "))
        parts.append(line)
    return Text("\n").join(parts)


class SamplesView(Static):
    DEFAULT_CSS = "SamplesView { height: auto; }"

    def show(self, history: RunHistory) -> None:
        self.update(samples_text(history))
