"""The validation batches of a run: the same fixed batches for every evaluation, in training and after.

The trainer scores the model on the first ``eval_batches`` batches of the validation split, read
from the very start of the split every time (:meth:`~tui_transformer.data.loader.BatchLoader.fixed_batches`),
so two evaluations differ only because the model changed. ``tui-transformer eval --run R`` rebuilds
the same batches from the run's config (its data, validation fraction, seed, batch size and context
length) and its tokenizer, so its loss is the one the run's own evaluations report. Under DDP each
rank evaluates its own share; the command rebuilds rank 0's.

A run trained on ``--data auto`` used FineWeb or, without the network, the builtin corpus; which one
is read from its ``metrics.jsonl`` (the source of its data events), never probed again.
"""

from __future__ import annotations

from pathlib import Path

from tui_transformer.data.loader import BatchLoader
from tui_transformer.errors import UserError
from tui_transformer.train.events import ShardStatus
from tui_transformer.train.metrics import METRICS_FILE, read_events


def fixed_validation_batches(source, tokenizer, config, rank: int = 0, world_size: int = 1) -> list:
    """``config.eval_batches`` batches ``(x, y)`` of the validation split (fewer if it holds fewer)."""
    loader = BatchLoader(source, tokenizer, split="val", batch_size=config.batch_size,
                         seq_len=config.model.max_seq_len, rank=rank, world_size=world_size, seed=config.seed)
    try:
        return loader.fixed_batches(config.eval_batches)
    finally:
        loader.close()


def run_validation_batches(config, tokenizer, run_dir: Path | None) -> tuple[str, list]:
    """``(data, batches)``: the run's data source (``auto`` resolved) and its validation batches,
    from that source opened afresh (and closed again)."""
    from tui_transformer.data import open_source

    data = resolved_data(config.data, run_dir)
    named = {"text_column": config.text_column} if config.text_column else {}
    source = open_source(data, val_fraction=config.val_fraction, **named)
    try:
        return data, fixed_validation_batches(source, tokenizer, config)
    finally:
        source.close()


def resolved_data(data: str, run_dir: Path | None) -> str:
    """``data``, or for ``auto`` the source the run's data events name (``builtin`` or ``fineweb``)."""
    if data != "auto":
        return data
    metrics = None if run_dir is None else Path(run_dir) / METRICS_FILE
    if metrics is not None and metrics.is_file():
        for event in read_events(metrics):
            if isinstance(event, ShardStatus) and event.source in ("builtin", "fineweb"):
                return event.source
    raise UserError("this model was trained on --data auto, and no metrics.jsonl beside it says which source that "
                    "was; give --text FILE")
