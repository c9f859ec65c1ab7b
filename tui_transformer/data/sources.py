"""Data sources: where documents come from, as numbered *chunks* of tokens per split.

Every source answers the same questions, so the loader does not care where text comes from:

* ``chunk(split, index, tokenizer)``: the packed token stream (``EOT d1 EOT d2 ...``) of the
  ``index``-th chunk of ``split``, or ``None`` past the last chunk (the loader then starts the
  next epoch at chunk 0). A chunk is the unit of memory: the loader holds one (and prefetches the
  next), never the whole dataset.
* ``training_texts(max_chars)``: raw training-split text, to train a BPE tokenizer on.
* ``status()``: a JSON-ready dict for the TUI's data panel and ``tui-transformer data status``.

The sources are ``builtin`` (below), a path (:mod:`.files`) and ``fineweb`` (:mod:`.fineweb`,
streamed through the shard cache). :func:`open_source` picks one from a spec string; ``auto`` means
FineWeb when the Hub answers quickly, else the builtin corpus, with a ``notice`` that says why.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from tui_transformer import paths
from tui_transformer.data import builtin_corpus
from tui_transformer.data.split import check_split, check_val_fraction, split_of
from tui_transformer.data.token_cache import cache_key, load_or_tokenize
from tui_transformer.errors import UserError


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


@dataclass(frozen=True)
class DocumentGroup:
    """Documents that are loaded and tokenized together; ``fingerprint`` changes when they do."""

    fingerprint: str
    label: str
    load: Callable[[], list[tuple[str, str]]]  # -> [(document id, text)]


class LocalSource(Source):
    """A source whose documents are on this machine; token streams are cached under ``<cache>/tokens``."""

    def __init__(self, groups: list[DocumentGroup], val_fraction: float = 0.1) -> None:
        super().__init__(val_fraction)
        self.groups = groups
        self.token_reads = {"cached": 0, "tokenized": 0}

    def split_documents(self, split: str, group: DocumentGroup) -> list[str]:
        return [text for doc_id, text in group.load() if split_of(doc_id, self.val_fraction) == split]

    def chunk(self, split: str, index: int, tokenizer) -> Chunk | None:
        check_split(split)
        if index >= len(self.groups):
            return None
        group = self.groups[index]
        key = cache_key(group.fingerprint, split, repr(self.val_fraction), tokenizer.sha256())
        tokens, cached = load_or_tokenize(
            paths.cache_dir() / "tokens", key, tokenizer, lambda: self.split_documents(split, group)
        )
        self.token_reads["cached" if cached else "tokenized"] += 1
        return Chunk(tokens=tokens, label=f"{group.label} ({split})")

    def status(self) -> dict:
        return {"source": self.name, "description": self.description, "chunks": len(self.groups),
                "token_reads": dict(self.token_reads)}

    def training_texts(self, max_chars: int) -> list[str]:
        texts, total = [], 0
        for group in self.groups:
            for text in self.split_documents("train", group):
                if total >= max_chars:
                    return texts
                texts.append(text[: max_chars - total])
                total += len(texts[-1])
        return texts


class BuiltinSource(LocalSource):
    """Python's own documentation: the language reference and the stdlib docstrings (offline)."""

    name = "builtin"
    description = builtin_corpus.DESCRIPTION

    def __init__(self, val_fraction: float = 0.1) -> None:
        path = builtin_corpus.corpus_path()
        group = DocumentGroup(fingerprint=f"builtin:{path.name}", label="builtin corpus",
                              load=builtin_corpus.load_builtin_documents)
        super().__init__([group], val_fraction)

    def status(self) -> dict:
        documents = builtin_corpus.load_builtin_documents()
        val = sum(split_of(doc_id, self.val_fraction) == "val" for doc_id, _ in documents)
        return {
            "source": self.name,
            "corpus": self.description,
            "cache_file": str(builtin_corpus.corpus_path()),
            "documents": len(documents),
            "train_documents": len(documents) - val,
            "val_documents": val,
            "bytes": sum(len(text.encode("utf-8")) for _, text in documents),
            "token_reads": dict(self.token_reads),
        }


def open_source(spec: str = "auto", val_fraction: float = 0.1, *, shard_cache=None, http=None,
                probe_timeout: float = 3.0) -> Source:
    """The data source named by ``spec``: ``"auto"``, ``"builtin"``, ``"fineweb"`` or a path.

    ``shard_cache`` (a :class:`~.shard_cache.ShardCache`) and ``http`` (an
    :class:`~.http.HttpPolicy`: timeouts, retries) configure FineWeb; the defaults suit real use.
    ``auto`` tries the Hub for at most ``probe_timeout`` seconds and otherwise falls back to
    ``builtin``, saying why in ``source.notice``. Bad specs raise :class:`UserError`.
    """
    spec = (spec or "auto").strip()
    if spec == "builtin":
        return BuiltinSource(val_fraction)
    if spec in ("fineweb", "auto"):
        from tui_transformer.data.fineweb import FinewebSource, hub_unreachable_reason

        if spec == "fineweb":
            return FinewebSource(val_fraction, cache=shard_cache, http=http)
        reason = hub_unreachable_reason(http=http, timeout=probe_timeout)
        if reason is None:
            return FinewebSource(val_fraction, cache=shard_cache, http=http)
        source = BuiltinSource(val_fraction)
        source.notice = f"FineWeb unreachable ({reason}): using {source.description}"
        return source
    from tui_transformer.data.files import PathSource

    path = os.path.expanduser(spec)
    if not os.path.exists(path):
        raise UserError(f"data source {spec!r} is not 'auto', 'builtin', 'fineweb' or an existing path")
    return PathSource(path, val_fraction)
