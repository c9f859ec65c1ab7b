"""The validation batches of a run: the same fixed batches for every evaluation, in training and after.

The trainer scores the model on the first ``eval_batches`` batches of the validation split, read
from the very start of the split every time (:meth:`~tui_transformer.data.loader.BatchLoader.fixed_batches`),
so two evaluations differ only because the model changed. ``tui-transformer eval --run R`` rebuilds
the same batches from the run's config (its data, validation fraction, seed, batch size and context
length) and its tokenizer, so its loss is the one the run's own evaluations report. Under DDP each
rank evaluates its own share; the command rebuilds rank 0's.
"""

from __future__ import annotations

from tui_transformer.data.loader import BatchLoader


def fixed_validation_batches(source, tokenizer, config, rank: int = 0, world_size: int = 1) -> list:
    """``config.eval_batches`` batches ``(x, y)`` of the validation split (fewer if it holds fewer)."""
    loader = BatchLoader(source, tokenizer, split="val", batch_size=config.batch_size,
                         seq_len=config.model.max_seq_len, rank=rank, world_size=world_size, seed=config.seed)
    try:
        return loader.fixed_batches(config.eval_batches)
    finally:
        loader.close()


def run_validation_batches(config, tokenizer) -> list:
    """The run's validation batches, from its data source opened afresh (and closed again)."""
    from tui_transformer.data import open_source

    named = {"text_column": config.text_column} if config.text_column else {}
    source = open_source(config.data, val_fraction=config.val_fraction, **named)
    try:
        return fixed_validation_batches(source, tokenizer, config)
    finally:
        source.close()
