"""The shard cache: remote data kept on local disk, bounded, safe to share and to interrupt.

A *shard* is one row group of a remote parquet file, saved as a local parquet file
``shard_00042.parquet`` with the columns ``id`` and ``text``. Each document's split is the hash
split of :mod:`.split`, computed from its id when it is read. Once a tokenizer has read a split of
the shard, its packed tokens are kept next to it (``shard_00042.<key>.<split>.npy``, the key made
of the tokenizer's sha256 and the validation fraction) so the next epoch does not tokenize again.

``cache_metadata.json`` records, per shard: the source file and row-group range; rows per split,
bytes, tokens per tokenizer and the file's sha256; created, last_accessed and access_count; and
the processes reading it right now. How the cache stays correct:

* **Bounded (LRU).** After each new shard, the least recently accessed shards are deleted until
  there are at most ``max_shards`` of them and at most ``max_bytes`` bytes (tokens included).
  A shard that a live process is reading (``readers``) is never evicted.
* **Atomic writes.** Files are written as ``.tmp-<pid>-...``, fsynced, then renamed: a download
  killed midway leaves no visible shard (stale temp files of dead processes are removed), and the
  next run fetches the shard again.
* **Verified.** A shard's sha256 is checked when it is opened; a corrupt or truncated file is
  reported, deleted and fetched again.
* **Self-healing metadata.** A metadata file that does not parse, or parses into the wrong shape,
  is rebuilt from the shards on disk: each shard carries its own description in its parquet
  key-value metadata, with ``content_sha256``, a digest of that description and of every id and
  text as downloaded. A rebuild adopts a shard only if its content still gives that digest;
  any other shard (damaged, edited, or written before digests were kept) is deleted and fetched
  again, never trusted.
* **Shared.** Two processes (a headless run and the TUI) may share the folder: every metadata
  update is a read-modify-write under a file lock, and a shard download takes a per-shard lock so
  the shard is fetched once.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from filelock import FileLock

from tui_transformer import paths
from tui_transformer.atomic import remove_stale_temps, write_bytes_atomic
from tui_transformer.digest import file_sha256
from tui_transformer.data.split import split_of
from tui_transformer.data.token_cache import load_stream, save_stream
from tui_transformer.errors import UserError
from tui_transformer.process import pid_alive
from tui_transformer.sizes import parse_size

METADATA_FILE = "cache_metadata.json"
SHARD_KEY = b"tui_transformer_shard"
DEFAULT_MAX_SHARDS = 5
PROGRESS_INTERVAL = 0.25  # seconds between download progress reports to the listeners


def shard_name(index: int) -> str:
    return f"shard_{index:05d}.parquet"


def limits_from_env() -> tuple[int | None, int | None]:
    """``(max_shards, max_bytes)`` from ``TUI_TRANSFORMER_MAX_SHARDS`` and ``TUI_TRANSFORMER_MAX_CACHE_BYTES``.

    Sizes accept a K, M or G suffix (powers of 1000, :mod:`tui_transformer.sizes`); ``0`` or ``none``
    means no limit of that kind.
    """
    from tui_transformer.errors import ConfigError

    def read(name: str, default: int | None) -> int | None:
        raw = os.environ.get(name, "").strip().lower()
        if not raw:
            return default
        if raw in ("0", "none"):
            return None
        try:
            return int(parse_size(raw))
        except ValueError:
            raise ConfigError(f"{name} must be a number (optionally with K, M or G), got {raw!r}") from None

    return read("TUI_TRANSFORMER_MAX_SHARDS", DEFAULT_MAX_SHARDS), read("TUI_TRANSFORMER_MAX_CACHE_BYTES", None)


class ShardCache:
    """A folder of shards and their metadata (see the module docstring).

    ``root`` defaults to ``<cache>/fineweb``; ``max_shards`` and ``max_bytes`` are the LRU limits
    (``None`` means no limit of that kind). :meth:`from_env` reads them from the environment.
    """

    @classmethod
    def from_env(cls, root: Path | str | None = None) -> ShardCache:
        max_shards, max_bytes = limits_from_env()
        return cls(root, max_shards=max_shards, max_bytes=max_bytes)


    def __init__(self, root: Path | str | None = None, max_shards: int | None = DEFAULT_MAX_SHARDS,
                 max_bytes: int | None = None) -> None:
        self.root = Path(root) if root is not None else paths.cache_dir() / "fineweb"
        if self.root.exists() and not self.root.is_dir():
            raise UserError(f"the shard cache {self.root} is not a folder; name a folder (it is created if absent)")
        self.max_shards, self.max_bytes = max_shards, max_bytes
        # This process's activity, shown by status(); written only through the methods below.
        self._stats = {"hits": 0, "misses": 0, "bytes_downloaded": 0, "corrupt_refetched": 0, "metadata_rebuilt": 0}
        self._download: dict | None = None  # the download in progress: shard, bytes, total
        self._notices: list[str] = []
        self._last_progress_report = 0.0
        self._listeners: list = []
        self._guard = threading.Lock()  # the activity is written by the loader and the prefetch thread

    # -- metadata --------------------------------------------------------------------------------

    @property
    def metadata_path(self) -> Path:
        return self.root / METADATA_FILE

    def _lock(self) -> FileLock:
        self.root.mkdir(parents=True, exist_ok=True)
        _refuse_folder(self.metadata_path, "the cache's metadata file")
        return FileLock(str(self.root / ".metadata.lock"))

    def read_metadata(self) -> dict:
        """The metadata as it is now (rebuilt from the shards if the file is damaged)."""
        if not self.root.exists():  # a fresh machine: report an empty cache without creating it
            return _empty_metadata()
        with self.update() as metadata:
            return json.loads(json.dumps(metadata))

    @contextmanager
    def update(self):
        """``with cache.update() as metadata:`` change it; it is written atomically on exit, under the lock."""
        with self._lock():
            metadata, rebuilt = self._load_or_rebuild()
            before = json.dumps(metadata, sort_keys=True)
            yield metadata
            if rebuilt or json.dumps(metadata, sort_keys=True) != before:
                write_bytes_atomic(self.metadata_path, json.dumps(metadata, indent=1, sort_keys=True).encode())

    def _load_or_rebuild(self) -> tuple[dict, bool]:
        """``(metadata, rebuilt)``."""
        if not self.metadata_path.exists():
            if any(self.root.glob("shard_*.parquet")):
                return self._rebuild(), True
            return _empty_metadata(), False
        try:
            metadata = json.loads(self.metadata_path.read_text())
            _check_metadata(metadata)
            return metadata, False
        except (ValueError, OSError) as error:
            self.notice(f"cache metadata was damaged ({type(error).__name__}); rebuilt it from the shards on disk")
            self._count("metadata_rebuilt")
            return self._rebuild(), True

    def _rebuild(self) -> dict:
        metadata = _empty_metadata()
        remove_stale_temps(self.root)
        for path in sorted(self.root.glob("shard_*.parquet")):
            try:
                info = json.loads(pq.read_schema(path).metadata[SHARD_KEY])
                if info.get("content_sha256") != _content_sha256(pq.read_table(path, columns=["id", "text"]), info):
                    raise ValueError("not the content that was downloaded")
                mtime = path.stat().st_mtime
                entry = {**info, "bytes": path.stat().st_size, "sha256": file_sha256(path), "tokens": {},
                         "readers": [], "access_count": 0, "created": mtime, "last_accessed": mtime}
            except (OSError, ValueError, KeyError, TypeError, pa.ArrowException):
                self.notice(f"{path.name} is not what was downloaded (or cannot be checked): fetching it again")
                path.unlink(missing_ok=True)
                continue
            for tokens in sorted(self.root.glob(f"{path.stem}.*.npy")):
                try:
                    _, key, split, _ = tokens.name.split(".")
                    count = int(np.load(tokens, mmap_mode="r").shape[0])
                except (OSError, ValueError, IndexError):
                    tokens.unlink(missing_ok=True)  # a damaged token file: the next read tokenizes again
                    continue
                entry["tokens"][f"{key}.{split}"] = {"count": count, "bytes": tokens.stat().st_size}
            metadata["shards"][path.name] = entry
        return metadata

    # -- shards ----------------------------------------------------------------------------------

    def path(self, name: str) -> Path:
        return self.root / name

    def shard_lock(self, name: str) -> FileLock:
        """Held while a shard is fetched, so that two processes do not fetch the same one."""
        self.root.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.root / f".{name}.lock"))

    def lookup(self, name: str, pin: bool = False) -> dict | None:
        """The shard's entry if the file is present and intact; a corrupt one is deleted and reported.

        With ``pin``, this process is recorded as a reader in the same atomic update (see :meth:`unpin`).
        """
        with self.update() as metadata:
            entry = metadata["shards"].get(name)
            if entry is None:
                return None
            path = self.path(name)
            _refuse_folder(path, f"shard {name}")
            if not path.exists() or file_sha256(path) != entry["sha256"]:
                what = "missing" if not path.exists() else "corrupt (sha256 mismatch)"
                self.notice(f"{name} was {what}: fetching it again")
                self._count("corrupt_refetched")
                self._delete(metadata, name)
                return None
            entry["last_accessed"] = time.time()
            entry["access_count"] += 1
            if pin:
                entry["readers"].append(os.getpid())
            return dict(entry)

    def add(self, name: str, table: pa.Table, info: dict, pin: bool = False) -> dict:
        """Write ``table`` as shard ``name`` (atomically), register it, then apply the LRU limits."""
        info = {**info, "name": name}
        info["content_sha256"] = _content_sha256(table, info)
        table = table.replace_schema_metadata({SHARD_KEY: json.dumps(info).encode()})
        path = self.path(name)
        _refuse_folder(path, f"shard {name}")
        write_bytes_atomic(path, _parquet_bytes(table))
        now = time.time()
        entry = {**info, "bytes": path.stat().st_size, "sha256": file_sha256(path), "tokens": {},
                 "readers": [os.getpid()] if pin else [], "created": now, "last_accessed": now, "access_count": 1}
        with self.update() as metadata:
            metadata["shards"][name] = entry
            self._evict(metadata, protect={name})
            remove_stale_temps(self.root)
        self.changed()
        return entry

    def read_texts(self, name: str, split: str, val_fraction: float) -> list[str]:
        """The texts of the shard's documents in ``split``, in order.

        A shard of a dataset's own split says so in its description (``"split": "val"``): all its
        documents are of that split. Otherwise each document's split is the hash split of its id.
        """
        own_split = self._shard_info(name).get("split")
        table = pq.read_table(self.path(name), columns=["id", "text"])
        ids, texts = table.column("id").to_pylist(), table.column("text").to_pylist()
        if own_split is not None:
            return texts if own_split == split else []
        return [text for doc_id, text in zip(ids, texts) if split_of(doc_id, val_fraction) == split]

    def _shard_info(self, name: str) -> dict:
        """The description a shard carries in its parquet key-value metadata (see :meth:`add`)."""
        metadata = pq.read_schema(self.path(name)).metadata or {}
        return json.loads(metadata.get(SHARD_KEY, b"{}"))

    def tokens(self, name: str, split: str, val_fraction: float, tokenizer, tokenize) -> tuple[np.ndarray, bool]:
        """The shard's packed tokens for ``tokenizer`` and ``split``: ``(stream, was_cached)``.

        ``tokenize(texts)`` makes the stream the first time; it is then saved next to the shard.
        """
        key = hashlib.sha256(f"{tokenizer.sha256()}:{val_fraction!r}".encode()).hexdigest()[:16]
        path = self.root / f"{Path(name).stem}.{key}.{split}.npy"
        cached = load_stream(path)
        if cached is not None:
            return cached, True
        stream = tokenize(self.read_texts(name, split, val_fraction))  # none yet, or damaged: overwrite
        written = save_stream(path, stream)
        with self.update() as metadata:
            entry = metadata["shards"].get(name)
            if entry is None:  # evicted meanwhile by another process: do not leave an orphan
                path.unlink(missing_ok=True)
            else:
                entry["tokens"][f"{key}.{split}"] = {"tokenizer": tokenizer.name, "count": int(len(stream)),
                                                     "bytes": written}
                self._evict(metadata, protect={name})
        return stream, False

    # -- readers (in-use protection) -------------------------------------------------------------

    def unpin(self, name: str) -> None:
        with self.update() as metadata:
            entry = metadata["shards"].get(name)
            if entry and os.getpid() in entry["readers"]:
                entry["readers"].remove(os.getpid())

    # -- eviction and cleaning -------------------------------------------------------------------

    def _evict(self, metadata: dict, protect: set[str]) -> None:
        shards = metadata["shards"]
        by_age = sorted(shards, key=lambda n: shards[n]["last_accessed"])
        for name in by_age:
            if not self._over_limits(shards):
                return
            if name in protect or _live_readers(shards[name]):
                continue
            self.notice(f"evicted {name} (least recently used)")
            self._delete(metadata, name)

    def _over_limits(self, shards: dict) -> bool:
        too_many = self.max_shards is not None and len(shards) > self.max_shards
        too_big = self.max_bytes is not None and sum(_entry_bytes(e) for e in shards.values()) > self.max_bytes
        return too_many or too_big

    def _delete(self, metadata: dict, name: str) -> None:
        metadata["shards"].pop(name, None)
        self.path(name).unlink(missing_ok=True)
        for tokens in self.root.glob(f"{Path(name).stem}.*.npy"):
            tokens.unlink(missing_ok=True)

    def clean(self) -> int:
        """Delete every shard that no live process is reading; returns how many were deleted."""
        with self.update() as metadata:
            names = [n for n, e in metadata["shards"].items() if not _live_readers(e)]
            for name in names:
                self._delete(metadata, name)
            remove_stale_temps(self.root)
        self.changed()
        return len(names)

    # -- status ----------------------------------------------------------------------------------

    def subscribe(self, listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def changed(self) -> None:
        """Tell the listeners (e.g. the TUI's shard panel) that the status changed."""
        if self._listeners:
            status = self.status()
            for listener in list(self._listeners):
                listener(status)

    def status(self) -> dict:
        """The cache as data, JSON-ready, for the TUI's shard panel and ``data status``.

        ``shards``: in LRU order, next to evict first, each with name, source_file, row_groups, rows,
        splits (rows per split), bytes, token_bytes, tokens (count per tokenizer key and split),
        sha256, created, last_accessed, access_count, in_use and lru_rank. Also the limits
        (``max_shards``, ``max_bytes``), ``total_bytes``, this process's counters (hits, misses,
        bytes_downloaded, corrupt_refetched, metadata_rebuilt), ``download`` (None, or name,
        source_file, row_group, bytes_done, bytes_total, progress) and the last ``notices``.
        """
        metadata = self.read_metadata()
        shards = sorted(metadata["shards"].values(), key=lambda e: e["last_accessed"])
        rows = [{**{k: e.get(k) for k in ("name", "source_file", "row_groups", "rows", "splits", "bytes",
                                          "sha256", "created", "last_accessed", "access_count")},
                 "token_bytes": sum(t["bytes"] for t in e["tokens"].values()),
                 "tokens": {k: t["count"] for k, t in e["tokens"].items()},
                 "in_use": bool(_live_readers(e)), "lru_rank": rank}
                for rank, e in enumerate(shards)]
        with self._guard:
            download = dict(self._download) if self._download else None
            notices = list(self._notices[-5:])
        return {"cache_dir": str(self.root), "max_shards": self.max_shards, "max_bytes": self.max_bytes,
                "shards": rows, "total_bytes": sum(_entry_bytes(e) for e in shards), **self.stats,
                "download": download, "notices": notices}

    # -- activity: what this process did, as the shard panel shows it ----------------------------

    @property
    def stats(self) -> dict:
        """This process's counters: hits, misses, bytes_downloaded, corrupt_refetched, metadata_rebuilt."""
        with self._guard:
            return dict(self._stats)

    def record_hit(self) -> None:
        """A shard that was asked for was already here."""
        self._count("hits")

    def record_miss(self) -> None:
        """A shard that was asked for has to be downloaded."""
        self._count("misses")

    def record_downloaded(self, n_bytes: int) -> None:
        """``n_bytes`` more came over the network (counted once a shard's download succeeds)."""
        self._count("bytes_downloaded", n_bytes)

    def _count(self, counter: str, n: int = 1) -> None:
        with self._guard:
            self._stats[counter] += n

    def download_started(self, name: str, source_file: str, row_group: int) -> None:
        """Shard ``name`` (``row_group`` of the remote ``source_file``) is being downloaded; its size is not known yet."""
        self._set_download({"name": name, "source_file": source_file, "row_group": row_group,
                            "bytes_done": 0, "bytes_total": None, "progress": 0.0})

    def download_sized(self, bytes_total: int) -> None:
        """The download in progress is expected to take about ``bytes_total`` bytes."""
        with self._guard:
            if self._download is not None:
                self._download["bytes_total"] = bytes_total
        self.changed()

    def download_progress(self, n_bytes: int) -> None:
        """``n_bytes`` more of the download arrived; listeners hear of it at most every ``PROGRESS_INTERVAL`` s.

        ``progress = bytes_done / bytes_total``, capped at 1: the total is an estimate. Bytes read
        while no download is in progress (a file's footer, say) are not a shard's progress.
        """
        with self._guard:
            download = self._download
            if download is None:
                return
            download["bytes_done"] += n_bytes
            if download["bytes_total"]:
                download["progress"] = min(1.0, download["bytes_done"] / download["bytes_total"])
            report = time.monotonic() - self._last_progress_report >= PROGRESS_INTERVAL
            if report:
                self._last_progress_report = time.monotonic()
        if report:
            self.changed()

    def download_finished(self) -> None:
        """The download in progress ended, done or failed."""
        self._set_download(None)

    def _set_download(self, download: dict | None) -> None:
        with self._guard:
            self._download = download
        self.changed()

    def notice(self, message: str) -> None:
        """Something worth a line in the shard panel (an eviction, a refetch, a failed prefetch)."""
        with self._guard:
            self._notices.append(message)


# The fields every reader of an entry relies on, and their JSON kinds (bool is not a number here).
_ENTRY_FIELDS = {"name": str, "bytes": int, "sha256": str, "last_accessed": (int, float), "access_count": int,
                 "readers": list, "tokens": dict}


def _check_metadata(metadata) -> None:
    """Raise ValueError unless ``metadata`` has the shape this module reads.

    Valid JSON is not enough: a hand edit, another version or a damaged file can still parse and
    then fail deep inside a lookup or ``data status`` with a KeyError. Such a file is rebuilt too.
    """
    if not isinstance(metadata, dict) or not isinstance(metadata.get("shards"), dict):
        raise ValueError("no 'shards' table")
    remote = metadata.get("remote", {})
    files = remote.get("files", []) if isinstance(remote, dict) else None
    if not isinstance(files, list) or not all(_is_remote_file(f) for f in files):
        raise ValueError("'remote' is not a table of files")
    for name, entry in metadata["shards"].items():
        kinds_ok = isinstance(entry, dict) and all(
            isinstance(entry.get(key), kind) and not isinstance(entry.get(key), bool)
            for key, kind in _ENTRY_FIELDS.items())
        if not kinds_ok or entry["name"] != name or not all(isinstance(pid, int) for pid in entry["readers"]):
            raise ValueError(f"entry {name!r} is malformed")
        for tokens in entry["tokens"].values():
            if not (isinstance(tokens, dict) and isinstance(tokens.get("bytes"), int)
                    and isinstance(tokens.get("count"), int)):
                raise ValueError(f"entry {name!r} has malformed token counts")


def _is_remote_file(file) -> bool:
    """A remembered remote file: its path, and its row-group count once known."""
    row_groups = file.get("row_groups") if isinstance(file, dict) else None
    return (isinstance(file, dict) and isinstance(file.get("path"), str)
            and (row_groups is None or (isinstance(row_groups, int) and not isinstance(row_groups, bool))))


def _empty_metadata() -> dict:
    return {"version": 1, "shards": {}, "remote": {}}


def _entry_bytes(entry: dict) -> int:
    return entry["bytes"] + sum(t["bytes"] for t in entry["tokens"].values())


def _live_readers(entry: dict) -> list[int]:
    return [pid for pid in entry.get("readers", []) if pid_alive(pid)]


def _content_sha256(table: pa.Table, info: dict) -> str:
    """sha256 of a shard's description (``info`` less this digest) and of its ids and texts, in order.

    Each string is length-prefixed, so no two different contents hash alike by shifting a boundary.
    """
    digest = hashlib.sha256(json.dumps({k: v for k, v in info.items() if k != "content_sha256"},
                                       sort_keys=True).encode())
    for column in ("id", "text"):
        for value in table.column(column).to_pylist():
            data = (value or "").encode("utf-8")
            digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def _refuse_folder(path: Path, what: str) -> None:
    """A folder where one of the cache's files belongs is the user's, never deleted: name it."""
    if path.is_dir():
        raise UserError(f"{path} is a folder where {what} belongs; move or remove it (the cache never deletes folders)")
