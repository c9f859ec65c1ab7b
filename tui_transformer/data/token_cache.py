"""Token streams on disk, so that the next run (and the next epoch) does not re-tokenize.

Tokenizing is the slow part of the data path (about a million tokens a second with tiktoken);
reading a ``.npy`` file back is a memory copy. A chunk's packed stream is stored under a key made
of everything it depends on (the chunk's content fingerprint, the split, the validation fraction
and the tokenizer's sha256), so a stale file can never be read for the wrong data.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from tui_transformer.atomic import atomic_write
from tui_transformer.data.packing import compact, pack_documents


def tokenize_documents(tokenizer, texts: list[str]) -> np.ndarray:
    """The packed ``EOT d1 EOT d2 ...`` stream of ``texts`` (``uint16`` when the vocabulary allows)."""
    return compact(pack_documents(tokenizer.encode_batch(texts) if texts else [], tokenizer.eot_id),
                   tokenizer.vocab_size)


def cache_key(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


def load_or_tokenize(folder: Path, key: str, tokenizer, texts_fn) -> tuple[np.ndarray, bool]:
    """The stream stored under ``key``, or ``tokenize_documents(tokenizer, texts_fn())`` saved there.

    Returns ``(stream, was_cached)``. Writes are atomic (temp file then rename), so a reader never
    sees half a file even when two processes tokenize the same chunk at once. A write that fails
    (full disk, read-only folder) leaves nothing behind and is not an error.
    """
    path = folder / f"{key}.npy"
    if path.exists():
        try:
            return np.load(path, allow_pickle=False), True
        except (OSError, ValueError):
            pass  # damaged: tokenize again and overwrite
    stream = tokenize_documents(tokenizer, texts_fn())
    try:
        save_atomic(path, stream)
    except OSError:
        pass  # a full disk or a read-only cache: the stream is only a shortcut, so train on without it
    return stream, False


def save_atomic(path: Path, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` as ``.npy``, atomically (:func:`tui_transformer.atomic.atomic_write`)."""
    with atomic_write(path) as file:
        np.save(file, array, allow_pickle=False)
