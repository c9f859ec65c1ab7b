"""Data: tokenizers, sources (builtin, files, FineWeb), the shard cache, the split, packing, the loader.

The public API, which the trainer, the CLI and the TUI use::

    tok = get_tokenizer("cl100k_base" | "gpt2" | "o200k_base" | "bpe-8192" | "path/to/file.tiktoken", source=None)
    source = open_source("auto" | "builtin" | "fineweb" | PATH, val_fraction=0.1)
    loader = BatchLoader(source, tok, split="train", batch_size=8, seq_len=128, rank=0, world_size=1, seed=0)
    x, y = loader.next_batch()            # LongTensor [B, T] each; y is x shifted by one
    val = BatchLoader(source, tok, split="val", ...).fixed_batches(n)

Importing this package is cheap: each name above is imported from its module on first use
(:mod:`tui_transformer.lazy_exports`), so ``tui_transformer.data.sources`` does not bring numpy
and regex with it; torch is imported only when the first batch is made.
"""

from typing import TYPE_CHECKING

from tui_transformer.lazy_exports import lazy_exports

if TYPE_CHECKING:  # for readers, editors and type checkers: what each name is
    from tui_transformer.data.loader import BatchLoader
    from tui_transformer.data.source_factory import open_source
    from tui_transformer.data.sources import Source
    from tui_transformer.data.tokenizer import Tokenizer, get_tokenizer

HOMES = {  # exported name -> the module that defines it
    "BatchLoader": "loader",
    "open_source": "source_factory",
    "Source": "sources",
    "Tokenizer": "tokenizer",
    "get_tokenizer": "tokenizer",
}
__all__ = list(HOMES)
__getattr__, __dir__ = lazy_exports(__name__, HOMES)
