"""Packing: documents become one token stream, the stream becomes training windows.

A causal language model learns to predict token ``t+1`` from tokens ``0..t``. We feed it
fixed-size windows cut from one long stream in which documents follow each other, each one
introduced by the end-of-text token (EOT)::

    stream   = EOT d1 d1 d1 EOT d2 EOT d3 d3 d3 d3 EOT d4 ...
    window i = stream[i*T : i*T + T + 1]            (T + 1 tokens)
    x        = window[:-1]      y = window[1:]     (each [T]: the targets are the inputs shifted by one)

Consecutive windows overlap by one token, so every token of the stream is a target exactly once.
Short documents are never dropped (the seed dropped documents shorter than T + 2): they simply
share a window with their neighbours, and EOT tells the model where one ends. The last window
wraps around to the start of the stream, so the tail is not dropped either.

The stream is kept as a flat ``uint32`` numpy array (4 bytes a token); windows are gathered with
one fancy-indexing call, so cutting a batch costs microseconds.
"""

from __future__ import annotations

import numpy as np


def pack_documents(token_lists: list[list[int]], eot_id: int) -> np.ndarray:
    """``EOT d1 EOT d2 ...`` as one ``uint32`` array."""
    total = sum(len(t) for t in token_lists) + len(token_lists)
    stream = np.empty(total, dtype=np.uint32)
    position = 0
    for tokens in token_lists:
        stream[position] = eot_id
        stream[position + 1 : position + 1 + len(tokens)] = tokens
        position += 1 + len(tokens)
    return stream


def compact(stream: np.ndarray, vocab_size: int) -> np.ndarray:
    """The stream as ``uint16`` when every id fits (half the bytes on disk and in memory)."""
    return stream.astype(np.uint16) if vocab_size <= 2**16 else stream


def window_count(stream_length: int, seq_len: int) -> int:
    """How many windows of ``seq_len + 1`` tokens (stride ``seq_len``) cover a stream."""
    if stream_length < 2:
        return 0
    return -(-(stream_length - 1) // seq_len)  # ceil((L - 1) / T): the last window may wrap


def gather_windows(stream: np.ndarray, window_indices: np.ndarray, seq_len: int) -> np.ndarray:
    """Windows ``[len(window_indices), seq_len + 1]`` (int64), wrapping past the end of ``stream``."""
    offsets = np.asarray(window_indices, dtype=np.int64)[:, None] * seq_len + np.arange(seq_len + 1)
    return stream[offsets % len(stream)].astype(np.int64)
