"""A remote source read through the shard cache: shard ``k`` fetched when first needed, ``k + 1``
fetched in the background meanwhile, every shard kept on disk for the next epoch and the next run.

What differs between remote sources is only *how one shard is fetched* (FineWeb: one parquet row
group by range requests; a Hub dataset: the next documents of a ``datasets`` stream). They
subclass :class:`ShardedSource` and write :meth:`fetch`; this class does the rest, once:

* ``chunk(split, k)`` is shard ``k`` of the split's *stream*, its documents of that split, tokenized
  once and cached next to the shard. A source has one stream, ``"all"``, whose documents go to
  train or val by the hash split (:mod:`.split`); or, when the dataset has its own validation
  split, two streams, ``"train"`` and ``"val"``, each wholly of its split;
* a shard being read is pinned (never evicted); one download runs at a time in this process, and
  a per-shard file lock makes two processes fetch a shard once;
* while the loader reads shard ``k``, a thread fetches shard ``k + 1``; ``close()`` waits for it
  only briefly (a stalled download must not hold up stop and quit).
"""

from __future__ import annotations

import threading

from tui_transformer.data.http import CLOSE_WAIT_S
from tui_transformer.data.shard_cache import ShardCache, shard_name
from tui_transformer.data.sources import Chunk, Source
from tui_transformer.data.split import check_split
from tui_transformer.data.token_cache import tokenize_documents

HASH_SPLIT = "all"  # the one stream of a source whose documents are split by the hash of their id


class ShardedSource(Source):
    """See the module docstring. Subclasses set ``self.streams`` and write :meth:`fetch`."""

    def __init__(self, val_fraction: float, cache: ShardCache) -> None:
        super().__init__(val_fraction)
        self.cache = cache
        self.streams: tuple[str, ...] = (HASH_SPLIT,)
        self._fetch_lock = threading.Lock()  # one download at a time in this process
        self._prefetch: threading.Thread | None = None

    # -- what a subclass writes ------------------------------------------------------------------

    def fetch(self, stream: str, index: int, name: str, pin: bool) -> dict | None:
        """Download shard ``index`` of ``stream`` and ``self.cache.add`` it as ``name``; None past the end."""
        raise NotImplementedError

    # -- streams and shards ----------------------------------------------------------------------

    def stream_of(self, split: str) -> str:
        return HASH_SPLIT if self.streams == (HASH_SPLIT,) else split

    @staticmethod
    def shard_name(stream: str, index: int) -> str:
        """``shard_00042.parquet`` (the hash-split or train stream), ``shard_val_00042.parquet``."""
        name = shard_name(index)
        return name if stream in (HASH_SPLIT, "train") else name.replace("shard_", f"shard_{stream}_", 1)

    def ensure_shard(self, index: int, pin: bool = False, stream: str | None = None) -> dict | None:
        """Shard ``index``'s cache entry, fetched if needed; ``None`` past the stream's end."""
        stream = stream or self.streams[0]
        name = self.shard_name(stream, index)
        entry = self.cache.lookup(name, pin=pin)
        if entry is not None:
            self.cache.record_hit()
            return entry
        with self._fetch_lock, self.cache.shard_lock(name):
            entry = self.cache.lookup(name, pin=pin)  # another thread or process may have fetched it
            if entry is not None:
                self.cache.record_hit()
                return entry
            return self.fetch(stream, index, name, pin)

    # -- the Source interface --------------------------------------------------------------------

    def chunk(self, split: str, index: int, tokenizer) -> Chunk | None:
        check_split(split)
        stream = self.stream_of(split)
        entry = self.ensure_shard(index, pin=True, stream=stream)
        if entry is None:
            return None
        name = entry["name"]
        try:
            tokens, _ = self.cache.tokens(name, split, self.val_fraction, tokenizer,
                                          lambda texts: tokenize_documents(tokenizer, texts))
        except BaseException:
            self.cache.unpin(name)
            raise
        self._prefetch_in_background(stream, index + 1)
        return Chunk(tokens=tokens, label=f"{name} ({split})", release=lambda: self.cache.unpin(name))

    def training_texts(self, max_chars: int) -> list[str]:
        texts, total, index = [], 0, 0
        stream = self.stream_of("train")
        while total < max_chars:
            entry = self.ensure_shard(index, stream=stream)
            if entry is None:
                break
            for text in self.cache.read_texts(entry["name"], "train", self.val_fraction):
                texts.append(text[: max_chars - total])
                total += len(texts[-1])
                if total >= max_chars:
                    break
            index += 1
        return texts

    def subscribe(self, listener) -> None:
        self.cache.subscribe(listener)

    def unsubscribe(self, listener) -> None:
        self.cache.unsubscribe(listener)

    def close(self) -> None:
        if self._prefetch is not None:
            self._prefetch.join(timeout=CLOSE_WAIT_S)  # a stalled download must not hold up stop and quit

    def _prefetch_in_background(self, stream: str, index: int) -> None:
        if self._prefetch is not None and self._prefetch.is_alive():
            return

        def fetch() -> None:
            try:
                self.ensure_shard(index, stream=stream)
            except Exception as error:  # the loader meets the same error, with its message, when it gets there
                self.cache.notice(f"prefetch of shard {index} failed: {error}")

        self._prefetch = threading.Thread(target=fetch, name=f"{self.name}-prefetch", daemon=True)
        self._prefetch.start()
