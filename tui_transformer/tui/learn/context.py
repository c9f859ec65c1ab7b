"""What a live panel is computed from: the learner's model, tokenizer, prompt and choices.

A :class:`LiveContext` is built on the UI thread and handed to a worker thread, which calls one
page's ``live(ctx)``. It holds references only (the model is not copied); the one forward pass
most pages need, :attr:`inspection`, is computed on first use and shared by whatever asks.

A request can go stale while it computes (the learner moved on to another page or prompt). A
thread cannot be stopped from outside, so a page's slow parts call :meth:`LiveContext.check`
between their steps: it raises :class:`Superseded` once ``superseded()`` says a newer request
is waiting, and the worker drops the panel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

from tui_transformer.model.sampling import SamplingConfig

# The sampling page's default turns every processor on, so each one's effect is visible.
TEACHING_SAMPLER = SamplingConfig(temperature=0.8, top_k=40, top_p=0.9, min_p=0.05, repetition_penalty=1.3)


class Superseded(Exception):
    """A newer request replaced the one being computed: its panel would never be shown."""


@dataclass
class LiveContext:
    model: Any  # a DecoderTransformer
    tokenizer: Any  # data.Tokenizer: encode / decode / name / vocab_size
    prompt: str
    run_dir: Path | None = None  # None for the fresh untrained model
    layer: int = 0  # the attention pages' selected layer and head
    head: int = 0
    sampling: SamplingConfig = field(default_factory=lambda: TEACHING_SAMPLER)
    superseded: Callable[[], bool] = lambda: False  # read from the worker thread

    def check(self) -> None:
        """Stop here (raise :class:`Superseded`) if a newer request is waiting."""
        if self.superseded():
            raise Superseded

    @cached_property
    def ids(self) -> list[int]:
        """The prompt's token ids, cut to the model's context (the last ``max_seq_len``)."""
        return self.tokenizer.encode(self.prompt)[-self.model.config.max_seq_len:]

    @cached_property
    def pieces(self) -> list[str]:
        return [self.tokenizer.decode([i]) for i in self.ids]

    @cached_property
    def inspection(self):
        from tui_transformer.model.tools.inspection import inspect

        self.check()
        return inspect(self.model, self.ids)

    @property
    def config(self):
        return self.model.config
