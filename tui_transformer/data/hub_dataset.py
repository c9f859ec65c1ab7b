"""Any Hugging Face dataset with a text column: ``--data hf:OWNER/NAME[:CONFIG]``, or ``hf:FOLDER``.

``datasets.load_dataset(name, config, streaming=True)`` reads a Hub dataset without downloading
it: it finds the data files and splits the way the Hub's dataset viewer does, and streams rows
through ``huggingface_hub`` (so ``HF_ENDPOINT``, ``HF_HUB_OFFLINE`` and the token mean what they
mean there). A local folder works the same way: one written by ``save_to_disk`` is opened with
``datasets.load_from_disk``, any other (parquet, JSON lines, CSV files) with ``load_dataset``.

**Which text.** The column named ``text``, ``content`` or ``story`` (the first present), or the one
given with ``--text-column``.

**Which split.** The dataset's own validation split (``validation``, ``valid``, ``val`` or ``dev``)
when it has one: then training reads its train split and validation that one. Otherwise the
same per-document hash split as every other source (:mod:`.split`) over its train split. The
source's ``notice`` (shown when a run starts) and ``status()["split"]`` say which.

**Cached as shards.** Shard ``k`` of a stream is its documents ``k * SHARD_DOCUMENTS`` onwards,
saved in a shard cache of its own (``<cache>/hf/<owner>--<name>[--<config>]/<column>``) with its
tokens; the dataset's layout (splits, columns, where each stream ends) is remembered there too.
So a second run reads no network, and an offline run (``HF_HUB_OFFLINE=1``) trains on what is
cached. The prefetch, pinning and locks are :mod:`.sharded_source`'s.

**Bad input** is one line, and nothing is written before the dataset is known to be readable:
an unknown repository, a gated one without a token, no text column (the columns are listed),
offline with nothing cached.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pyarrow as pa

from tui_transformer import paths
from tui_transformer.data import hub
from tui_transformer.data.http import NetworkError, retrying
from tui_transformer.data.shard_cache import ShardCache, limits_from_env
from tui_transformer.data.sharded_source import HASH_SPLIT, ShardedSource
from tui_transformer.data.sources import HUB_PREFIX, is_hub_dataset
from tui_transformer.data.split import document_id, split_of
from tui_transformer.errors import UserError

TEXT_COLUMNS = ("text", "content", "story")
VALIDATION_SPLITS = ("validation", "valid", "val", "dev")
SHARD_DOCUMENTS = 2000
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def parse_spec(spec: str) -> tuple[str, str | None, bool]:
    """``(name or folder, config, is_local)`` of ``hf:OWNER/NAME[:CONFIG]`` or ``hf:FOLDER``."""
    body = spec.strip()[len(HUB_PREFIX):].strip() if is_hub_dataset(spec) else spec.strip()
    folder = os.path.expanduser(body)
    if body and os.path.isdir(folder):
        return str(Path(folder).resolve()), None, True
    name, _, config = body.partition(":")
    if not _REPO_ID.match(name) or (config and not re.match(r"^[\w.-]+$", config)):
        raise UserError(f"{spec!r}: hf: wants OWNER/NAME[:CONFIG] (e.g. hf:roneneldan/TinyStories) "
                        "or a local dataset folder")
    return name, config or None, False


class HubDatasetSource(ShardedSource):
    """See the module docstring."""

    name = "hf"

    def __init__(self, spec: str, val_fraction: float = 0.1, text_column: str | None = None,
                 cache: ShardCache | None = None) -> None:
        self.spec = spec if is_hub_dataset(spec) else HUB_PREFIX + spec
        self.dataset, self.config, self.local = parse_spec(spec)
        # every shard is kept (re-streaming an evicted one would read the dataset from its start);
        # the byte limit of TUI_TRANSFORMER_MAX_CACHE_BYTES still applies
        root = _cache_root(self.dataset, self.config, self.local, text_column)
        super().__init__(val_fraction, cache or ShardCache(root, max_shards=None, max_bytes=limits_from_env()[1]))
        self.offline = hub.offline() and not self.local
        self._splits = None  # the datasets objects, opened on the first download
        self._streams_at: dict[str, tuple[object, int]] = {}  # stream -> (row iterator, next row)
        self.layout = self._layout(text_column)
        self.streams = ("train", "val") if self.layout["val_split"] else (HASH_SPLIT,)
        column = self.layout["text_column"]
        self.description = f"{self.dataset}{':' + self.config if self.config else ''}, column {column!r}"
        self.split_rule = self._split_rule()
        self.notice = f"{self.spec}: text column {column!r}, {self.split_rule}"

    def _split_rule(self) -> str:
        """Where validation comes from, in words (the run's log and the data panel show it)."""
        if self.layout["val_split"]:
            return f"validation: the dataset's own {self.layout['val_split']!r} split"
        return f"validation: the hash split of {self.layout['train_split']!r} ({self.val_fraction:.0%} held out)"

    def status(self) -> dict:
        named = {"dataset": self.dataset, **({"config": self.config} if self.config else {})}
        return {"source": self.name, **named, "text_column": self.layout["text_column"], "split": self.split_rule,
                "offline": self.offline, **self.cache.status()}

    # -- the layout: splits and text column, found once and remembered -----------------------------

    def _layout(self, text_column: str | None) -> dict:
        remembered = self.cache.read_metadata().get("remote", {})
        if remembered.get("kind") == "hf" and remembered.get("spec") == self.spec:
            return remembered
        if self.offline:
            raise UserError(f"{self.spec} is not cached and HF_HUB_OFFLINE is set: run once without it first")
        splits = self._open()
        train = "train" if "train" in splits else next(iter(splits))
        val = next((name for name in VALIDATION_SPLITS if name in splits), None)
        columns = _columns(splits[train])
        column = _text_column(self.spec, columns, text_column)
        layout = {"kind": "hf", "spec": self.spec, "dataset": self.dataset, "config": self.config,
                  "train_split": train, "val_split": val, "columns": columns, "text_column": column, "ends": {}}
        with self.cache.update() as metadata:  # only now: the dataset is known to be readable
            metadata["remote"] = layout
        return layout

    def _open(self):
        """The dataset's splits (``{name: dataset}``), streamed from the Hub or read from a folder."""
        if self._splits is not None:
            return self._splits
        import datasets

        def load():
            if self.local and _is_saved_dataset(Path(self.dataset)):
                return datasets.load_from_disk(self.dataset)
            return datasets.load_dataset(self.dataset, self.config, streaming=True)  # a folder too: no Arrow copy

        try:
            loaded = retrying(load, f"read {self.spec}")  # the card, the listing: the Hub's 5xx are retried
        except NetworkError:
            raise
        except Exception as error:
            raise _dataset_error(error, self.dataset) from None
        if not isinstance(loaded, dict):  # a single saved split
            loaded = {"train": loaded}
        if not loaded:
            raise UserError(f"{self.spec} has no splits")
        self._splits = dict(loaded)
        return self._splits

    # -- shards ----------------------------------------------------------------------------------

    def fetch(self, stream: str, index: int, name: str, pin: bool) -> dict | None:
        end = self.layout["ends"].get(stream)
        if end is not None and index >= end:
            return None
        if self.offline:
            raise UserError(f"{name} of {self.spec} is not cached and HF_HUB_OFFLINE is set: "
                            "run once without it first")
        split = self.layout["val_split"] if stream == "val" else self.layout["train_split"]
        self.cache.record_miss()
        self.cache.download_started(name, f"{split} split", index)
        try:
            texts = self._rows(stream, split, index * SHARD_DOCUMENTS, SHARD_DOCUMENTS)
        finally:
            self.cache.download_finished()
        if len(texts) < SHARD_DOCUMENTS:
            self._remember_end(stream, index + (1 if texts else 0))
        if not texts:
            return None
        ids = [document_id(text) for text in texts]
        if stream == HASH_SPLIT:
            val = sum(split_of(doc_id, self.val_fraction) == "val" for doc_id in ids)
        else:
            val = len(ids) if stream == "val" else 0
        info = {"index": index, "source_file": f"{self.dataset} {split} split",
                "row_groups": [index, index + 1], "rows": len(ids),
                "documents": [index * SHARD_DOCUMENTS, index * SHARD_DOCUMENTS + len(ids)],
                "splits": {"train": len(ids) - val, "val": val}, "val_fraction": self.val_fraction}
        if stream != HASH_SPLIT:
            info["split"] = stream
        table = pa.table({"id": pa.array(ids, pa.string()), "text": pa.array(texts, pa.string())})
        return self.cache.add(name, table, info, pin=pin)

    def _rows(self, stream: str, split: str, start: int, count: int) -> list[str]:
        """The non-empty texts of rows ``[start, start + count)`` of ``split``; a transient failure of
        the Hub mid-stream is retried from ``start`` (see data.http.retrying)."""
        try:
            return retrying(lambda: self._rows_once(stream, split, start, count), f"read {self.spec}")
        except NetworkError:
            raise
        except Exception as error:
            raise _dataset_error(error, self.dataset) from None

    def _rows_once(self, stream: str, split: str, start: int, count: int) -> list[str]:
        column = self.layout["text_column"]
        dataset = self._open()[split]
        if hasattr(dataset, "select"):  # a dataset on disk: rows are addressable
            rows = dataset.select(range(min(start, len(dataset)), min(start + count, len(dataset))))
            return [t for t in rows[column] if isinstance(t, str) and t]
        iterator, position = self._streams_at.get(stream, (None, -1))
        if iterator is None or position != start:  # a stream reads on from where it is, else restarts there
            iterator, position = iter(dataset.skip(start) if start else dataset), start
        texts = []
        try:
            for row in iterator:
                position += 1
                text = row.get(column)
                if isinstance(text, str) and text:
                    texts.append(text)
                if position >= start + count:
                    break
        except BaseException:
            self._streams_at.pop(stream, None)  # the next try starts the stream again at ``start``
            raise
        self._streams_at[stream] = (iterator, position)
        return texts

    def _remember_end(self, stream: str, shards: int) -> None:
        self.layout["ends"][stream] = shards
        with self.cache.update() as metadata:
            if metadata.get("remote", {}).get("spec") == self.spec:
                metadata["remote"].setdefault("ends", {})[stream] = shards


def cached_datasets() -> list[ShardCache]:
    """The shard caches of every ``hf:`` dataset read on this machine (for ``data status`` and ``clean``)."""
    root = paths.cache_dir() / "hf"
    if not root.is_dir():
        return []
    return [ShardCache(metadata.parent, max_shards=None) for metadata in sorted(root.glob("*/*/cache_metadata.json"))]


def _cache_root(dataset: str, config: str | None, local: bool, text_column: str | None) -> Path:
    slug = (f"local-{Path(dataset).name}-{hashlib.sha256(dataset.encode()).hexdigest()[:8]}" if local
            else dataset.replace("/", "--") + (f"--{config}" if config else ""))
    return paths.cache_dir() / "hf" / slug / (text_column or "auto")


def _is_saved_dataset(folder: Path) -> bool:
    """A folder written by ``save_to_disk`` (one split, or a DatasetDict)."""
    return (folder / "state.json").exists() or (folder / "dataset_dict.json").exists()


def _columns(dataset) -> list[str]:
    names = getattr(dataset, "column_names", None)
    if names:
        return list(names)
    try:  # a stream whose features are only known from its first row
        return list(next(iter(dataset)).keys())
    except StopIteration:
        return []


def _text_column(spec: str, columns: list[str], given: str | None) -> str:
    if given:
        if given not in columns:
            raise UserError(f"{spec} has no column {given!r} (its columns: {', '.join(columns) or 'none'})")
        return given
    found = next((c for c in TEXT_COLUMNS if c in columns), None)
    if found is None:
        raise UserError(f"{spec} has no text column ({', '.join(TEXT_COLUMNS)}); its columns: "
                        f"{', '.join(columns) or 'none'}: name one with --text-column")
    return found


def _dataset_error(error: BaseException, dataset: str) -> UserError:
    """One line for a failure of ``datasets`` (which often wraps the Hub's error in its own)."""
    from huggingface_hub import errors

    cause = error
    while cause is not None and not isinstance(cause, (errors.HfHubHTTPError, errors.OfflineModeIsEnabled)):
        cause = cause.__cause__ or cause.__context__
    if cause is not None:
        return hub.user_error(cause, dataset)
    name = type(error).__name__
    if name == "DatasetNotFoundError":
        message = hub.first_line(error)
        if "gated" in message.lower():
            return UserError(f"{dataset} is gated: accept its terms on the Hub, then set HF_TOKEN (or run `hf auth login`)")
        return UserError(f"no dataset {dataset} on {hub.endpoint()} (check the name; a private one needs HF_TOKEN)")
    if isinstance(error, UserError):
        return error
    return UserError(f"{dataset}: {name}: {hub.first_line(error)}")
