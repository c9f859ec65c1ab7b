"""Data: tokenizers, sources (builtin, files, FineWeb), the shard cache, the split, packing, the loader.

The public API, which the trainer, the CLI and the TUI use::

    tok = get_tokenizer("cl100k_base" | "gpt2" | "o200k_base" | "bpe-8192" | "path/to/file.tiktoken", source=None)
    source = open_source("auto" | "builtin" | "fineweb" | PATH, val_fraction=0.1)
    loader = BatchLoader(source, tok, split="train", batch_size=8, seq_len=128, rank=0, world_size=1, seed=0)
    x, y = loader.next_batch()            # LongTensor [B, T] each; y is x shifted by one
    val = BatchLoader(source, tok, split="val", ...).fixed_batches(n)

Importing this package is cheap: torch is imported only when the first batch is made.
"""

from tui_transformer.data.loader import BatchLoader
from tui_transformer.data.source_factory import open_source
from tui_transformer.data.sources import Source
from tui_transformer.data.tokenizer import Tokenizer, get_tokenizer

__all__ = ["BatchLoader", "Source", "Tokenizer", "get_tokenizer", "open_source"]
