"""Token streams on disk, so that the next run (and the next epoch) does not re-tokenize.

Tokenizing is the slow part of the data path (about a million tokens a second with tiktoken);
reading a ``.npy`` file back is a memory copy. A chunk's packed stream is stored under a key made
of everything it depends on (the chunk's content fingerprint, the split, the validation fraction
and the tokenizer's sha256), so a stale file can never be read for the wrong data.

**Verified on every read.** A flipped bit in a token file would train silently on wrong tokens, or
crash on an id past the vocabulary. So each file is the ``.npy`` bytes followed by a trailer holding
their sha256 (``\nsha256:<64 hex digits>``; NumPy reads the array by its header's shape and never
looks past it). :func:`load_stream` checks the digest and answers None for a file that is missing,
damaged or written before the digest existed, and its caller tokenizes again and overwrites it.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np

from tui_transformer.atomic import write_bytes_atomic
from tui_transformer.data.packing import compact, pack_documents
from tui_transformer.progress import report

TOKENIZING = "tokenizing the text"  # the stage its progress reports name
ENCODE_BATCH = 512  # documents a call


def tokenize_documents(tokenizer, texts: list[str]) -> np.ndarray:
    """The packed ``EOT d1 EOT d2 ...`` stream of ``texts`` (``uint16`` when the vocabulary allows).

    Encoded ``ENCODE_BATCH`` documents a call (tiktoken spreads each call over threads), so that the
    progress can be reported (:mod:`tui_transformer.progress`)."""
    encoded: list[list[int]] = []
    for start in range(0, len(texts), ENCODE_BATCH):
        report(TOKENIZING, start, len(texts), "documents")
        encoded.extend(tokenizer.encode_batch(texts[start:start + ENCODE_BATCH]))
    report(TOKENIZING, len(texts), len(texts), "documents")
    return compact(pack_documents(encoded, tokenizer.eot_id), tokenizer.vocab_size)


def cache_key(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


def load_or_tokenize(folder: Path, key: str, tokenizer, texts_fn) -> tuple[np.ndarray, bool]:
    """The stream stored under ``key``, or ``tokenize_documents(tokenizer, texts_fn())`` saved there.

    Returns ``(stream, was_cached)``. Writes are atomic (temp file then rename), so a reader never
    sees half a file even when two processes tokenize the same chunk at once. A write that fails
    (full disk, read-only folder) leaves nothing behind and is not an error.
    """
    path = folder / f"{key}.npy"
    stream = load_stream(path)
    if stream is not None:
        return stream, True
    stream = tokenize_documents(tokenizer, texts_fn())
    try:
        save_stream(path, stream)
    except OSError:
        pass  # a full disk or a read-only cache: the stream is only a shortcut, so train on without it
    return stream, False


_TRAILER = b"\nsha256:"
_TRAILER_LEN = len(_TRAILER) + 64


def save_stream(path: Path, array: np.ndarray) -> int:
    """Write ``array`` and its digest to ``path`` atomically; returns the bytes written."""
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    payload = buffer.getvalue()
    data = payload + _TRAILER + hashlib.sha256(payload).hexdigest().encode()
    write_bytes_atomic(path, data)
    return len(data)


def load_stream(path: Path) -> np.ndarray | None:
    """The array saved at ``path``, or None if the file is missing or its digest does not match."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    payload, trailer = data[:-_TRAILER_LEN], data[-_TRAILER_LEN:]
    if not trailer.startswith(_TRAILER) or hashlib.sha256(payload).hexdigest().encode() != trailer[len(_TRAILER):]:
        return None
    try:
        return np.load(io.BytesIO(payload), allow_pickle=False)
    except ValueError:  # a digest that matches a payload np.save never wrote: not our file
        return None
