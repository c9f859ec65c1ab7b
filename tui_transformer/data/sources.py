"""Data sources: where documents come from, as numbered *chunks* of tokens per split.

This module is the interface only: what every source answers, so that the loader does not care
where text comes from.

* ``chunk(split, index, tokenizer)``: the packed token stream (``EOT d1 EOT d2 ...``) of the
  ``index``-th chunk of ``split``, or ``None`` past the last chunk (the loader then starts the
  next epoch at chunk 0). A chunk is the unit of memory: the loader holds one (and prefetches the
  next), never the whole dataset.
* ``training_texts(max_chars)``: raw training-split text, to train a BPE tokenizer on.
* ``status()``: a JSON-ready dict for the TUI's data panel and ``tui-transformer data status``.
* ``own_tokenizer``: None for text; the tokenizer's name for a source of ids (synthetic data),
  which a run on it then uses whatever ``--tokenizer`` says.

The sources themselves import this module, never the other way round: documents on this machine
(:mod:`.local_source`), with ``builtin`` (:mod:`.builtin_source`) and a path (:mod:`.files`) built
on them, ``fineweb`` (:mod:`.fineweb`, streamed through the shard cache) and generated ids
(:mod:`.synthetic`).
:func:`~.source_factory.open_source` picks one from a ``--data`` value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from tui_transformer.data.split import check_val_fraction

if TYPE_CHECKING:  # only an annotation: the config forms import this module and need no numpy
    import numpy as np

HUB_PREFIX = "hf:"  # --data hf:OWNER/NAME[:CONFIG] or hf:FOLDER: a dataset read through `datasets`
SYNTHETIC_PREFIX = "synthetic:"  # --data synthetic:repeats[:OPTIONS]: generated ids (see .synthetic)


def is_hub_dataset(spec: str) -> bool:
    """Whether a ``--data`` value names a Hugging Face dataset (one rule for the CLI, the form and the trainer)."""
    return spec.strip().startswith(HUB_PREFIX)


def is_synthetic(spec: str) -> bool:
    """Whether a ``--data`` value names generated data (:mod:`.synthetic`), which brings its own tokenizer."""
    return spec.strip().startswith(SYNTHETIC_PREFIX)


@dataclass
class Chunk:
    """One chunk's token stream. Call ``release()`` when done: a remote shard stays pinned till then."""

    tokens: np.ndarray
    label: str
    release: Callable[[], None] = field(default=lambda: None)


class Source:
    """The interface the loader reads from (see the module docstring)."""

    name = "source"
    description = ""
    own_tokenizer: str | None = None  # the tokenizer a source of ids (not text) is written in; None: any

    def __init__(self, val_fraction: float = 0.1) -> None:
        self.val_fraction = check_val_fraction(val_fraction)
        self.notice = ""

    def chunk(self, split: str, index: int, tokenizer) -> Chunk | None:
        raise NotImplementedError

    def training_texts(self, max_chars: int) -> list[str]:
        raise NotImplementedError

    def status(self) -> dict:
        raise NotImplementedError

    def subscribe(self, listener: Callable[[dict], None]) -> None:
        """Call ``listener(status())`` whenever the status changes (only remote sources change)."""

    def unsubscribe(self, listener: Callable[[dict], None]) -> None:
        """Stop calling ``listener``."""

    def close(self) -> None:
        """Wait (briefly) for background downloads; call it once every loader on this source is closed."""
