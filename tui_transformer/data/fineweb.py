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

Chunk ``k`` of either split is shard ``k`` filtered to that split; the prefetch of shard ``k + 1``,
the pinning and the locks are :mod:`.sharded_source`'s.

``HF_ENDPOINT``, ``HF_HUB_OFFLINE`` (cached shards only) and the token mean what they mean to
``huggingface_hub`` (:mod:`.hub`).
"""

from __future__ import annotations

import pyarrow as pa

from tui_transformer.data import hub
from tui_transformer.data.http import HttpClient, HttpPolicy, Retryable, retrying, say_retry
from tui_transformer.data.remote_parquet import RemoteParquet
from tui_transformer.data.shard_cache import ShardCache
from tui_transformer.data.sharded_source import ShardedSource
from tui_transformer.data.split import document_id, split_of
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


class FinewebSource(ShardedSource):
    name = "fineweb"
    description = f"FineWeb {CONFIG} ({DATASET}), streamed"

    def __init__(self, val_fraction: float = 0.1, cache: ShardCache | None = None,
                 http: HttpPolicy | None = None) -> None:
        super().__init__(val_fraction, cache or ShardCache.from_env())
        self.endpoint = hub.endpoint()
        self.offline = hub.offline()
        self.client = HttpClient(http, on_retry=self._say_retry)
        self._parquet: tuple[str, RemoteParquet] | None = None  # the last file's footer, reused

    def status(self) -> dict:
        return {"source": self.name, "dataset": DATASET, "config": CONFIG, "endpoint": self.endpoint,
                "offline": self.offline, **self.cache.status()}

    # -- shards ----------------------------------------------------------------------------------

    def fetch(self, stream: str, index: int, name: str, pin: bool) -> dict | None:
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
            table = retrying(lambda: self._read_row_group(file, row_group), f"read {file['path']} of {DATASET}",
                             self.client.policy, self._say_retry)
            self.cache.record_downloaded(self.client.bytes_downloaded - before)
        finally:
            self.cache.download_finished()
        val = sum(split_of(doc_id, self.val_fraction) == "val" for doc_id in table.column("id").to_pylist())
        splits = {"train": table.num_rows - val, "val": val}
        info = {"index": index, "source_file": file["path"], "row_groups": [row_group, row_group + 1],
                "rows": table.num_rows, "splits": splits, "val_fraction": self.val_fraction}
        return self.cache.add(name, table, info, pin=pin)

    def _read_row_group(self, file: dict, row_group: int) -> pa.Table:
        """One try at a row group's documents. Bytes that arrive whole but do not decode (a flipped byte:
        "Corrupt snappy compressed data", or text that is not UTF-8) are retried like a dropped body,
        footer included. Page checksums are verified where the file has them (see RemoteParquet)."""
        try:
            remote = self._remote_parquet(file)
            # total_byte_size is uncompressed: the progress is an estimate that may end early
            self.cache.download_sized(remote.parquet.metadata.row_group(row_group).total_byte_size)
            return _documents(remote.read_row_group(row_group))  # decoded here: a bad byte may show only now
        except (OSError, ValueError, pa.ArrowException) as error:
            self._parquet = None  # the footer may be what was damaged: read it again too
            raise Retryable(f"the bytes received do not decode as parquet ({str(error)[:120]})") from None

    def _say_retry(self, message: str) -> None:
        """A retry is one line on stderr and a notice in the shard panel."""
        self.cache.notice(message)
        say_retry(message)

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
