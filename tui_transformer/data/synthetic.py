"""Synthetic data for circuits: ``--data synthetic:repeats``, random segments each repeated once.

An induction head (see :mod:`tui_transformer.interpret.induction`) is easy to see form when the
data rewards nothing else. Each document of this source is a sequence of random *segments*, each
followed by itself::

    segment  = L ids drawn uniformly from 0 .. ids-1, with L uniform in min .. max
    document = s1 s1 s2 s2 s3 s3 ...          (``len`` ids, 64 by default; the last pair cut)

The first copy of a segment cannot be predicted (its ids are random); the second can, perfectly,
by finding the previous occurrence of the current id and copying what followed it. The segment
lengths vary, so no head looking back a fixed distance solves the task: only an induction head
does. On the recipe of the ``induction`` lesson (32 ids, d_model 64, 2 layers, attention only) the
loss falls in a phase change a few hundred steps in. The options are read by :mod:`.synthetic_spec`.

**Windows are sequences.** The documents are packed with no end-of-text between them (they are
all of one kind), so with ``--seq-len`` equal to ``len`` every training window is one whole
sequence from its first segment (the loader's windows overlap by one token: the last target of a
window is the first id of the next sequence, one unpredictable target in ``len``). It matters:
measured here on the induction recipe, windows cut at random places in long documents, or led by
an end-of-text token, formed no induction head in 1,500 steps, where whole sequences formed one
by step 300-400 in most seeds.

**The split** is the one of every source (:mod:`.split`): document ``k``'s id
``synthetic:repeats:ids=..:min=..:max=..:seed=..#k`` is hashed, so a document goes whole to train or
to val, and its content is drawn from a generator seeded by ``(seed, k)``: the same on every
machine, offline, with no file. The stream has no end (``CHUNK_DOCUMENTS`` documents a chunk, as
many chunks as are read), so a run never sees a training document twice and no epoch ends: end a
run by steps, tokens or time.

**The tokenizer** is ``letters-<ids>`` (:func:`~.tokenizer.letters_tokenizer`): id ``i`` is the
``i``-th of ``A..Z a..z 0..9``, so a document reads as text (``QRKQRKwMbwMb...``) in ``generate`` and
the dashboard, and the vocabulary is the ids and end-of-text, nothing unused. A run on this source
always uses it.
"""

from __future__ import annotations

import numpy as np

from tui_transformer.data.sources import Chunk, Source
from tui_transformer.data.split import check_split, split_of
from tui_transformer.data.synthetic_spec import LETTERS, RepeatsSpec, parse_synthetic
from tui_transformer.errors import ConfigError

CHUNK_DOCUMENTS = 1024  # 64 Ki tokens a chunk at len 64: generated in milliseconds, so never cached


def repeated_segments(repeats: RepeatsSpec, rng: np.random.Generator, length: int) -> np.ndarray:
    """``length`` ids: random segments of ``min..max`` ids, each followed by itself (the last pair cut)."""
    n_segments = length // (2 * repeats.min) + 1  # enough even if every segment is the shortest
    lengths = rng.integers(repeats.min, repeats.max + 1, n_segments)
    ids = rng.integers(0, repeats.ids, int(lengths.sum()))
    starts = np.cumsum(lengths) - lengths  # where each segment begins in ``ids``
    doubled = np.repeat(lengths, 2)  # each segment's length, once per copy
    offset_in_copy = np.arange(int(doubled.sum())) - np.repeat(np.cumsum(doubled) - doubled, doubled)
    return ids[np.repeat(np.repeat(starts, 2), doubled) + offset_in_copy][:length]


class SyntheticSource(Source):
    """``synthetic:repeats``: an endless, deterministic stream of repeated random segments."""

    name = "synthetic"

    def __init__(self, spec: str, val_fraction: float = 0.1) -> None:
        super().__init__(val_fraction)
        self.repeats = r = parse_synthetic(spec)
        self.own_tokenizer = r.tokenizer
        self.description = (f"synthetic repeats: segments of {r.min}-{r.max} of {r.ids} ids, each repeated once "
                            f"(seed {r.seed})")

    def document(self, index: int) -> np.ndarray:
        """Document ``index``'s ids: the same on every call and machine."""
        rng = np.random.default_rng([self.repeats.seed, index])
        return repeated_segments(self.repeats, rng, self.repeats.len)

    def document_indices(self, split: str, chunk: int) -> list[int]:
        """The documents of ``chunk`` that belong to ``split``."""
        first = chunk * CHUNK_DOCUMENTS
        return [k for k in range(first, first + CHUNK_DOCUMENTS)
                if split_of(f"{self.repeats}#{k}", self.val_fraction) == split]

    def chunk(self, split: str, index: int, tokenizer) -> Chunk:
        check_split(split)
        if tokenizer.name != self.own_tokenizer:
            raise ConfigError(f"{self.repeats} is written in the {self.own_tokenizer!r} tokenizer's ids, "
                              f"not {tokenizer.name!r}")
        documents = [self.document(k) for k in self.document_indices(split, index)]
        tokens = np.concatenate(documents).astype(np.uint32)  # no end-of-text: see "Windows are sequences"
        return Chunk(tokens=tokens, label=f"synthetic chunk {index} ({split})")

    def training_texts(self, max_chars: int) -> list[str]:
        """Training documents as letters (``ABAB...``), up to ``max_chars`` in all."""
        texts, total, chunk = [], 0, 0
        while total < max_chars:
            for k in self.document_indices("train", chunk):
                texts.append("".join(LETTERS[i] for i in self.document(k))[: max_chars - total])
                total += len(texts[-1])
                if total >= max_chars:
                    break
            chunk += 1
        return texts

    def status(self) -> dict:
        r = self.repeats
        return {"source": self.name, "description": self.description, "spec": str(r), "ids": r.ids,
                "min": r.min, "max": r.max, "len": r.len, "seed": r.seed,
                "chunk_documents": CHUNK_DOCUMENTS}
