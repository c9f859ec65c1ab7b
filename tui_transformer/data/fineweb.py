"""FineWeb, streamed: ``HuggingFaceFW/fineweb``, config ``sample-10BT``, through the shard cache.

FineWeb is ~10 billion tokens of cleaned web text in multi-GB parquet files under ``sample/10BT/``.
We never download a whole file. Instead:

1. the file list comes from ``HfApi.list_repo_tree`` at the commit ``main`` points to, so new or
   renamed files are picked up and every file of a run is read at one commit; list and commit are
   remembered in the cache metadata for offline use;
2. shard ``k`` is the ``k``-th row group counting across the files in order; each file's footer
   (which says how many row groups it has) is fetched once and remembered;
3. the row group is read with range requests (:mod:`.remote_parquet`, through the library's
   session and ``resolve`` URLs with our deadline and retries, :mod:`.http`) and saved as a local shard
   (:mod:`.shard_cache`); each document's split is the hash split of its FineWeb id.

Chunk ``k`` of either split is shard ``k`` filtered to that split. While the loader reads shard
``k``, a background thread fetches shard ``k + 1``, so the trainer does not wait for the network.

``HF_ENDPOINT``, ``HF_HUB_OFFLINE`` (cached shards only) and the token mean what they mean to
``huggingface_hub`` (:mod:`.hub`).
"""

from __future__ import annotations

import threading

import pyarrow as pa

from tui_transformer.data import hub
from tui_transformer.data.http import CLOSE_WAIT_S, HttpClient, HttpPolicy
from tui_transformer.data.remote_parquet import RemoteParquet
from tui_transformer.data.shard_cache import ShardCache, shard_name
from tui_transformer.data.sources import Chunk, Source
from tui_transformer.data.split import check_split, document_id, split_of
from tui_transformer.data.token_cache import tokenize_documents
from tui_transformer.errors import UserError

DATASET = "HuggingFaceFW/fineweb"
CONFIG = "sample-10BT"
FOLDER = "sample/10BT"


def hub_unreachable_reason(http: HttpPolicy | None = None, timeout: float = 3.0) -> str | None:
    """``None`` when the Hub answers for FineWeb within ``timeout`` seconds, else why not (one line)."""
    if hub.offline():
        return "HF_HUB_OFFLINE is set"
    try:
        hub.commit_of(DATASET, timeout=timeout)
    except UserError as error:
        return str(error)
    return None


class FinewebSource(Source):
    name = "fineweb"
    description = f"FineWeb {CONFIG} ({DATASET}), streamed"

    def __init__(self, val_fraction: float = 0.1, cache: ShardCache | None = None,
                 http: HttpPolicy | None = None) -> None:
        super().__init__(val_fraction)
        self.cache = cache or ShardCache.from_env()
        self.endpoint = hub.endpoint()
        self.offline = hub.offline()
        self.client = HttpClient(http)
        self._fetch_lock = threading.Lock()  # one download at a time in this process
        self._parquet: tuple[str, RemoteParquet] | None = None  # the last file's footer, reused
        self._prefetch: threading.Thread | None = None

    # -- the Source interface --------------------------------------------------------------------

    def chunk(self, split: str, index: int, tokenizer) -> Chunk | None:
        check_split(split)
        entry = self.ensure_shard(index, pin=True)
        if entry is None:
            return None
        name = entry["name"]
        try:
            tokens, _ = self.cache.tokens(name, split, self.val_fraction, tokenizer,
                                          lambda texts: tokenize_documents(tokenizer, texts))
        except BaseException:
            self.cache.unpin(name)
            raise
        self._prefetch_in_background(index + 1)
        return Chunk(tokens=tokens, label=f"{name} ({split})", release=lambda: self.cache.unpin(name))

    def training_texts(self, max_chars: int) -> list[str]:
        texts, total, index = [], 0, 0
        while total < max_chars:
            entry = self.ensure_shard(index)
            if entry is None:
                break
            for text in self.cache.read_texts(entry["name"], "train", self.val_fraction):
                texts.append(text[: max_chars - total])
                total += len(texts[-1])
                if total >= max_chars:
                    break
            index += 1
        return texts

    def status(self) -> dict:
        return {"source": self.name, "dataset": DATASET, "config": CONFIG, "endpoint": self.endpoint,
                "offline": self.offline, **self.cache.status()}

    def subscribe(self, listener) -> None:
        self.cache.subscribe(listener)

    def unsubscribe(self, listener) -> None:
        self.cache.unsubscribe(listener)

    def close(self) -> None:
        if self._prefetch is not None:
            self._prefetch.join(timeout=CLOSE_WAIT_S)  # a stalled download must not hold up stop and quit

    # -- shards ----------------------------------------------------------------------------------

    def ensure_shard(self, index: int, pin: bool = False) -> dict | None:
        """Shard ``index``'s cache entry, fetched if needed; ``None`` past the dataset's end."""
        name = shard_name(index)
        entry = self.cache.lookup(name, pin=pin)
        if entry is not None:
            self.cache.record_hit()
            return entry
        with self._fetch_lock, self.cache.shard_lock(name):
            entry = self.cache.lookup(name, pin=pin)  # another thread or process may have fetched it
            if entry is not None:
                self.cache.record_hit()
                return entry
            location = self._locate(index)
            if location is None:
                return None
            self.cache.record_miss()
            return self._download(name, index, *location, pin=pin)

    def _download(self, name: str, index: int, file: dict, row_group: int, pin: bool) -> dict:
        if self.offline:
            raise UserError(f"{name} is not cached and HF_HUB_OFFLINE is set: run without it, or use --data builtin")
        self.cache.download_started(name, file["path"], row_group)
        before = self.client.bytes_downloaded  # the footer counts too: it is read for this shard
        try:
            remote = self._remote_parquet(file)
            # total_byte_size is uncompressed: the progress is an estimate that may end early
            self.cache.download_sized(remote.parquet.metadata.row_group(row_group).total_byte_size)
            table = remote.read_row_group(row_group)
            self.cache.record_downloaded(self.client.bytes_downloaded - before)
        except (ValueError, pa.ArrowException) as error:
            raise UserError(f"{file['path']} of {DATASET}: not a readable parquet file ({error})") from error
        finally:
            self.cache.download_finished()
        table = _documents(table)
        val = sum(split_of(doc_id, self.val_fraction) == "val" for doc_id in table.column("id").to_pylist())
        splits = {"train": table.num_rows - val, "val": val}
        info = {"index": index, "source_file": file["path"], "row_groups": [row_group, row_group + 1],
                "rows": table.num_rows, "splits": splits, "val_fraction": self.val_fraction}
        return self.cache.add(name, table, info, pin=pin)

    def _remote_parquet(self, file: dict) -> RemoteParquet:
        if self._parquet is None or self._parquet[0] != file["path"]:
            url = hub.file_url(DATASET, file["path"], self._commit())
            self._parquet = (file["path"], RemoteParquet(self.client, url, file["size"], self.cache.download_progress))
        return self._parquet[1]

    def _locate(self, index: int) -> tuple[dict, int] | None:
        """(remote file, row group) of shard ``index``: row groups are numbered across files in order."""
        first = 0
        for position, file in enumerate(self._files()):
            if file.get("row_groups") is None:
                file["row_groups"] = self._remote_parquet(file).num_row_groups
                self._remember_files(position, file)
            if index < first + file["row_groups"]:
                return file, index - first
            first += file["row_groups"]
        return None

    def _files(self) -> list[dict]:
        remote = self.cache.read_metadata().get("remote", {})
        if remote.get("endpoint") == self.endpoint and remote.get("files"):
            return remote["files"]
        if self.offline:
            raise UserError("FineWeb's file list is not cached and HF_HUB_OFFLINE is set")
        commit = hub.commit_of(DATASET)
        files = hub.list_files(DATASET, FOLDER, commit)
        with self.cache.update() as metadata:
            metadata["remote"] = {"endpoint": self.endpoint, "dataset": DATASET, "config": CONFIG,
                                  "commit": commit, "files": files}
        return files

    def _commit(self) -> str:
        """The commit the cached file list was made at (``main`` for a list cached before commits were kept)."""
        return self.cache.read_metadata().get("remote", {}).get("commit") or "main"

    def _remember_files(self, position: int, file: dict) -> None:
        with self.cache.update() as metadata:
            files = metadata.get("remote", {}).get("files", [])
            if position < len(files) and files[position]["path"] == file["path"]:
                files[position]["row_groups"] = file["row_groups"]

    def _prefetch_in_background(self, index: int) -> None:
        if self._prefetch is not None and self._prefetch.is_alive():
            return

        def fetch() -> None:
            try:
                self.ensure_shard(index)
            except Exception as error:  # the loader meets the same error, with its message, when it gets there
                self.cache.notice(f"prefetch of shard {index} failed: {error}")

        self._prefetch = threading.Thread(target=fetch, name="fineweb-prefetch", daemon=True)
        self._prefetch.start()


def _documents(table: pa.Table) -> pa.Table:
    """The row group's non-empty documents as ``id`` (a content hash where missing) and ``text``."""
    texts = table.column("text").to_pylist()
    ids = table.column("id").to_pylist() if "id" in table.column_names else [None] * len(texts)
    keep = [i for i, text in enumerate(texts) if isinstance(text, str) and text]
    doc_ids = [document_id(texts[i], ids[i]) for i in keep]
    return pa.table({
        "id": pa.array(doc_ids, pa.string()),
        "text": pa.array([texts[i] for i in keep], pa.string()),
    })
