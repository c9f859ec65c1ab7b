"""The batch loader: a source's chunks, cut into windows, shuffled, split across ranks, batched.

For each chunk (see :mod:`.sources`) of the split, in order, epoch after epoch, forever::

    stream      = the chunk's packed tokens                      EOT d1 EOT d2 ...
    n           = ceil((len(stream) - 1) / T) windows of T+1     (see :mod:`.packing`)
    order       = a permutation of range(n), seeded by (seed, epoch, chunk)   (train only;
                  validation keeps the stream order)
    this rank's = order[rank::world_size]                        (ranks never share a window)
    batches     = consecutive groups of batch_size of those windows, x = w[:, :-1], y = w[:, 1:]

Everything is a pure function of ``(seed, epoch, chunk, window)``, so the position after the last
batch handed out, the *cursor*, is the whole state. ``state_dict()`` returns it as plain ints; a
new loader given it with ``load_state_dict`` produces exactly the batches the old one would have.

A background thread prepares the next batches (and so the next chunk) while the trainer computes.
It runs ahead, but each prepared batch carries the cursor *after* it, and ``state_dict()`` reports
the cursor of the last batch actually returned by ``next_batch()``: prefetching never shows in the
saved state. Memory holds one chunk's tokens plus ``prefetch`` batches.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import asdict, dataclass

import numpy as np

from tui_transformer.data.http import CLOSE_WAIT_S
from tui_transformer.data.packing import gather_windows, window_count
from tui_transformer.data.split import check_split
from tui_transformer.errors import ConfigError, UserError

STATE_VERSION = 1
STOP_POLL_S = 0.1  # how often a wait for the next batch looks at the caller's stop event


@dataclass(frozen=True)
class Cursor:
    """Where the next batch starts: ``window`` counts this rank's windows already used in ``chunk``."""

    epoch: int = 0
    chunk: int = 0
    window: int = 0
    batches: int = 0


class _Stop(Exception):
    pass


class StopRequested(Exception):
    """``next_batch(stop)`` gave up waiting because ``stop`` was set."""


class BatchLoader:
    """Deterministic, resumable batches ``(x, y)``, each a CPU ``LongTensor [batch_size, seq_len]``.

    ``on_status(dict)`` is called once when batches start, then whenever the source's status
    changes (e.g. a shard download progresses); the dict is ``source.status()``. It runs on a
    background thread (the loader's or the shard prefetcher's), so it must be quick and thread-safe.
    Closing the loader does not close the source: train and val loaders share it.
    """

    def __init__(self, source, tokenizer, split: str = "train", batch_size: int = 8, seq_len: int = 128,
                 rank: int = 0, world_size: int = 1, seed: int = 0, on_status=None, prefetch: int = 4) -> None:
        check_split(split)
        if batch_size < 1 or seq_len < 1:
            raise ConfigError(f"batch_size and seq_len must be positive, got {batch_size} and {seq_len}")
        if not 0 <= rank < world_size:
            raise ConfigError(f"rank must be in [0, world_size), got rank {rank} of {world_size}")
        self.source, self.tokenizer, self.split = source, tokenizer, split
        self.batch_size, self.seq_len, self.rank, self.world_size, self.seed = batch_size, seq_len, rank, world_size, seed
        self.prefetch = max(1, prefetch)
        self.on_status = on_status
        if on_status is not None:
            source.subscribe(on_status)
        self._cursor = Cursor()
        self._thread: threading.Thread | None = None
        self._queue: queue.Queue | None = None
        self._stop: threading.Event | None = None  # the running thread's; see _start_thread
        self._fixed: list | None = None

    # -- the public state ------------------------------------------------------------------------

    @property
    def epoch(self) -> int:
        """Completed passes over the split (by this rank), as of the last batch returned."""
        return self._cursor.epoch

    @property
    def tokens_consumed(self) -> int:
        """Target tokens in the batches returned so far (``batches * batch_size * seq_len``)."""
        return self._cursor.batches * self.batch_size * self.seq_len

    def state_dict(self) -> dict:
        """Plain ints and strings: the cursor after the last batch returned, plus what it depends on."""
        return {"version": STATE_VERSION, "source": self.source.name, "split": self.split, "seed": self.seed,
                "rank": self.rank, "world_size": self.world_size, "seq_len": self.seq_len,
                "batch_size": self.batch_size, "tokens_consumed": self.tokens_consumed, **asdict(self._cursor)}

    def load_state_dict(self, state: dict) -> None:
        """Continue exactly where the loader that produced ``state`` stopped."""
        for key in ("split", "seed", "rank", "world_size", "seq_len"):
            if state.get(key) != getattr(self, key):
                raise ConfigError(f"cannot resume the data loader: {key} was {state.get(key)!r}, now {getattr(self, key)!r}")
        tokens_per_batch = self.batch_size * self.seq_len
        batches = int(state.get("tokens_consumed", 0)) // tokens_per_batch
        self.rewind(Cursor(epoch=int(state["epoch"]), chunk=int(state["chunk"]), window=int(state["window"]),
                           batches=batches))

    # -- batches ---------------------------------------------------------------------------------

    def next_batch(self, stop: threading.Event | None = None):
        """The next ``(x, y)``; epochs wrap around forever (the trainer decides when to stop).

        If ``stop`` is set while the batch is still being prepared (its shard is downloading), the
        wait ends with :class:`StopRequested` and the loader's position is unchanged.
        """
        if self._thread is None:
            self._start_thread()
        item = self._wait_for_item(stop)
        if isinstance(item, BaseException):
            self._thread = None
            raise item
        x, y, self._cursor = item
        return x, y

    def _wait_for_item(self, stop: threading.Event | None):
        while True:
            try:
                return self._queue.get(timeout=None if stop is None else STOP_POLL_S)
            except queue.Empty:
                if stop.is_set():
                    raise StopRequested from None

    @property
    def position(self) -> Cursor:
        """Where the next batch starts (the cursor after the last batch returned)."""
        return self._cursor

    def rewind(self, position: Cursor) -> None:
        """Go back to an earlier :attr:`position`: the batches handed out since then come again."""
        self._stop_thread()
        self._cursor = position

    def fixed_batches(self, n: int) -> list:
        """The first ``n`` batches of the split from the very start: the same ones on every call.

        A split that holds fewer gives all it holds, each window once (at least one batch), instead
        of wrapping around: ``n`` = 100,000 costs what the split holds, not minutes of repeats.
        """
        if self._fixed is None or len(self._fixed) < n:
            batches = self._batches(Cursor())
            self._fixed = []
            try:
                for x, y, after in batches:
                    if after.epoch > 0 and self._fixed:  # wrapped around: the split is used up
                        break
                    self._fixed.append((x, y))
                    if len(self._fixed) == n:
                        break
            finally:
                batches.close()
        return self._fixed[:n]

    def close(self) -> None:
        """Stop the prefetch thread and release the source's pins. Idempotent."""
        self._stop_thread()
        if self.on_status is not None:
            self.source.unsubscribe(self.on_status)
            self.on_status = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the producer ----------------------------------------------------------------------------

    def _batches(self, cursor: Cursor):
        """Yield ``(x, y, cursor after this batch)`` forever, starting at ``cursor``."""
        import torch

        epoch, chunk_index, window, batches = cursor.epoch, cursor.chunk, cursor.window, cursor.batches
        rows: list[np.ndarray] = []
        windows_this_epoch = 0
        whole_epoch = chunk_index == 0 and window == 0  # an empty pass only proves "no data" if complete
        while True:
            chunk = self.source.chunk(self.split, chunk_index, self.tokenizer)
            if chunk is None:
                if whole_epoch and windows_this_epoch == 0:
                    raise UserError(self._no_data_message())
                epoch, chunk_index, window, windows_this_epoch, whole_epoch = epoch + 1, 0, 0, 0, True
                continue
            try:
                mine = self._rank_windows(len(chunk.tokens), epoch, chunk_index)
                while window < len(mine):
                    take = min(self.batch_size - sum(len(r) for r in rows), len(mine) - window)
                    rows.append(gather_windows(chunk.tokens, mine[window : window + take], self.seq_len))
                    window += take
                    windows_this_epoch += take
                    if sum(len(r) for r in rows) == self.batch_size:
                        full = torch.from_numpy(np.concatenate(rows))
                        rows, batches = [], batches + 1
                        yield full[:, :-1].contiguous(), full[:, 1:].contiguous(), Cursor(epoch, chunk_index, window, batches)
            finally:
                chunk.release()
            chunk_index, window = chunk_index + 1, 0

    def _rank_windows(self, stream_length: int, epoch: int, chunk_index: int) -> np.ndarray:
        n = window_count(stream_length, self.seq_len)
        if self.split == "train":
            order = np.random.default_rng([self.seed, epoch, chunk_index]).permutation(n)
        else:
            order = np.arange(n)
        return order[self.rank :: self.world_size]

    def _no_data_message(self) -> str:
        what = getattr(self.source, "description", "") or repr(self.source.name)
        ranks = f" for rank {self.rank} of {self.world_size}" if self.world_size > 1 else ""
        fewer = ", fewer processes" if self.world_size > 1 else ""
        # the split is per document (see .split): a source of one or two documents can leave a split empty
        return (f"the {self.split} split of {what} has no windows of {self.seq_len + 1} tokens{ranks}; "
                f"each document goes whole to train or val, so give it more documents (or text){fewer}, "
                f"or a shorter context (--seq-len)")

    # -- the prefetch thread ---------------------------------------------------------------------

    def _start_thread(self) -> None:
        self._stop = threading.Event()  # its own: an abandoned thread (see _stop_thread) must stay stopped
        self._queue = queue.Queue(maxsize=self.prefetch)
        self._thread = threading.Thread(target=self._fill, args=(self._cursor, self._queue, self._stop),
                                        name=f"batch-loader-{self.split}", daemon=True)
        self._thread.start()

    def _fill(self, cursor: Cursor, out: queue.Queue, stop: threading.Event) -> None:
        batches = self._batches(cursor)
        try:
            if self.on_status is not None:
                self.on_status(self.source.status())  # the first picture; later ones come on changes
            for item in batches:
                self._put(out, item, stop)
        except _Stop:
            pass
        except BaseException as error:  # handed to the trainer's thread by next_batch
            try:
                self._put(out, error, stop)
            except _Stop:
                pass
        finally:
            batches.close()

    @staticmethod
    def _put(out: queue.Queue, item, stop: threading.Event) -> None:
        while True:
            if stop.is_set():
                raise _Stop
            try:
                out.put(item, timeout=0.05)
                return
            except queue.Full:
                continue

    def _stop_thread(self) -> None:
        if self._thread is not None:
            self._stop.set()
            # a thread inside a stalled download sees the stop only when the download returns (HTTP
            # timeouts and retries: minutes); stopping must not wait that long (see CLOSE_WAIT_S)
            self._thread.join(timeout=CLOSE_WAIT_S)
            self._thread = None
            self._queue = None

