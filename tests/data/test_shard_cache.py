"""The shard cache on its own: LRU order and limits, in-use protection, rebuilds, concurrent writers."""

import json
import multiprocessing
import os
import subprocess
import sys
import time

import pyarrow as pa
import pytest

from tui_transformer.data.shard_cache import ShardCache, shard_name


def table(n, tag="x"):
    return pa.table({"id": [f"{tag}-{i}" for i in range(n)], "text": [f"document {tag} {i} " * 20 for i in range(n)]})


def add(cache, index, rows=5, pin=False):
    info = {"index": index, "source_file": "f.parquet", "row_groups": [index, index + 1], "rows": rows,
            "splits": {"train": rows, "val": 0}}
    return cache.add(shard_name(index), table(rows, str(index)), info, pin=pin)


def names(cache):
    return sorted(cache.read_metadata()["shards"])


def test_least_recently_used_shards_are_evicted_first(tmp_path):
    cache = ShardCache(tmp_path, max_shards=3)
    for index in range(3):
        add(cache, index)
        time.sleep(0.01)
    cache.lookup(shard_name(0))  # 0 is now the most recently used; 1 is the oldest
    add(cache, 3)
    assert names(cache) == [shard_name(i) for i in (0, 2, 3)]
    assert not cache.path(shard_name(1)).exists()
    order = [s["name"] for s in cache.status()["shards"]]
    assert order == [shard_name(2), shard_name(0), shard_name(3)]  # LRU order: next to evict first
    assert any("evicted shard_00001" in n for n in cache.status()["notices"])


def test_the_byte_limit_counts_shards_and_their_tokens(tmp_path):
    probe = ShardCache(tmp_path / "probe", max_shards=None)
    one = add(probe, 0)["bytes"]
    cache = ShardCache(tmp_path / "cache", max_shards=None, max_bytes=int(2.5 * one))
    for index in range(4):
        add(cache, index)
    assert names(cache) == [shard_name(2), shard_name(3)]
    assert cache.status()["total_bytes"] <= 2.5 * one


def test_a_shard_in_use_is_never_evicted(tmp_path):
    cache = ShardCache(tmp_path, max_shards=2)
    add(cache, 0, pin=True)
    for index in range(1, 4):
        add(cache, index)
    assert shard_name(0) in names(cache) and len(names(cache)) == 2
    assert next(s for s in cache.status()["shards"] if s["name"] == shard_name(0))["in_use"]
    cache.unpin(shard_name(0))
    add(cache, 4)
    assert shard_name(0) not in names(cache)


def test_readers_that_died_do_not_protect_a_shard(tmp_path):
    cache = ShardCache(tmp_path, max_shards=1)
    add(cache, 0)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with cache.update() as metadata:
        metadata["shards"][shard_name(0)]["readers"] = [int(dead.stdout)]
    add(cache, 1)
    assert names(cache) == [shard_name(1)]


@pytest.mark.parametrize("damage", [b"{not json", b"", b'{"version": 1}', b"\x00\xff" * 50])
def test_damaged_metadata_is_rebuilt_from_the_shards(tmp_path, damage):
    cache = ShardCache(tmp_path, max_shards=None)
    entries = [add(cache, i)["name"] for i in range(3)]
    before = cache.read_metadata()["shards"]
    cache.metadata_path.write_bytes(damage)
    fresh = ShardCache(tmp_path, max_shards=None)
    after = fresh.read_metadata()["shards"]
    assert sorted(after) == sorted(entries)
    for name in after:
        for key in ("sha256", "rows", "bytes", "source_file", "row_groups", "splits"):
            assert after[name][key] == before[name][key]
    assert fresh.stats["metadata_rebuilt"] == 1 and "rebuilt" in fresh.status()["notices"][0]
    assert json.loads(fresh.metadata_path.read_text())["shards"].keys() == after.keys()


@pytest.mark.parametrize("damage", [
    {"shards": {shard_name(0): {"bytes": "x"}}},  # `data status` crashed with KeyError: 'last_accessed'
    {"shards": {shard_name(0): 5}},
    {"shards": {shard_name(0): {"sha256": None}}},  # lookup crashed with KeyError
    {"shards": {}, "remote": None},  # the file list lookup crashed with AttributeError
    {"shards": {}, "remote": {"files": 5}},
    {"shards": {}, "remote": {"files": [{"path": "x.parquet", "row_groups": "a"}]}},  # TypeError
    [],
])
def test_metadata_that_parses_into_the_wrong_shape_is_rebuilt(tmp_path, damage):
    cache = ShardCache(tmp_path, max_shards=None)
    entries = [add(cache, i)["name"] for i in range(2)]
    cache.metadata_path.write_text(json.dumps(damage))
    fresh = ShardCache(tmp_path, max_shards=None)
    assert [row["name"] for row in fresh.status()["shards"]] == entries
    assert fresh.lookup(entries[0]) is not None and fresh.stats["metadata_rebuilt"] == 1


def test_a_damaged_token_file_does_not_stop_a_rebuild(tmp_path):
    cache = ShardCache(tmp_path)
    name = add(cache, 0)["name"]
    (tmp_path / "shard_00000.abc.train.npy").write_bytes(b"not numpy")
    (tmp_path / "shard_00000.stray.npy").write_bytes(b"")
    cache.metadata_path.write_bytes(b"{broken")
    assert names(ShardCache(tmp_path)) == [name]
    assert not list(tmp_path.glob("*.npy"))


def test_a_corrupt_shard_is_dropped_on_lookup(tmp_path):
    cache = ShardCache(tmp_path)
    entry = add(cache, 0)
    cache.path(entry["name"]).write_bytes(b"garbage")
    assert cache.lookup(entry["name"]) is None
    assert not cache.path(entry["name"]).exists() and names(cache) == []
    assert cache.stats["corrupt_refetched"] == 1


def test_temp_files_of_dead_writers_are_removed_and_never_listed(tmp_path):
    cache = ShardCache(tmp_path)
    add(cache, 0)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".tmp-{int(dead.stdout)}-abc"
    live = tmp_path / f".tmp-{os.getpid()}-def"
    stale.write_bytes(b"half a shard")
    live.write_bytes(b"being written")
    assert names(cache) == [shard_name(0)]  # a temp file is never mistaken for a shard
    cache.clean()
    assert not stale.exists() and live.exists()


def test_clean_keeps_shards_in_use(tmp_path):
    cache = ShardCache(tmp_path)
    add(cache, 0, pin=True)
    add(cache, 1)
    assert cache.clean() == 1
    assert names(cache) == [shard_name(0)]


def _writer(root, first, count):
    cache = ShardCache(root, max_shards=None)
    for index in range(first, first + count):
        add(cache, index)
        cache.lookup(shard_name(first))


@pytest.mark.slow  # a subprocess importing torch
def test_two_processes_writing_at_once_keep_the_metadata_valid(tmp_path):
    context = multiprocessing.get_context("fork")  # fast start; the cache holds no threads
    workers = [context.Process(target=_writer, args=(tmp_path, first, 12)) for first in (0, 100)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    metadata = json.loads((tmp_path / "cache_metadata.json").read_text())
    expected = {shard_name(i) for i in list(range(12)) + list(range(100, 112))}
    assert set(metadata["shards"]) == expected
    assert metadata["shards"][shard_name(0)]["access_count"] == 1 + 12  # written once, looked up 12 times
    assert {p.name for p in tmp_path.glob("shard_*.parquet")} == expected


def test_limits_come_from_the_environment(tmp_path, monkeypatch):
    from tui_transformer.errors import ConfigError

    monkeypatch.setenv("TUI_TRANSFORMER_MAX_SHARDS", "9")
    monkeypatch.setenv("TUI_TRANSFORMER_MAX_CACHE_BYTES", "1.5G")
    cache = ShardCache.from_env(tmp_path)
    assert (cache.max_shards, cache.max_bytes) == (9, 1_500_000_000)
    monkeypatch.setenv("TUI_TRANSFORMER_MAX_SHARDS", "none")
    assert ShardCache.from_env(tmp_path).max_shards is None
    monkeypatch.setenv("TUI_TRANSFORMER_MAX_CACHE_BYTES", "lots")
    with pytest.raises(ConfigError, match="TUI_TRANSFORMER_MAX_CACHE_BYTES"):
        ShardCache.from_env(tmp_path)


def test_the_cache_reports_hits_misses_and_downloaded_bytes_it_is_told_of(tmp_path):
    cache = ShardCache(tmp_path)
    cache.record_hit()
    cache.record_hit()
    cache.record_miss()
    cache.record_downloaded(1234)
    cache.record_downloaded(66)
    status = cache.status()
    assert (status["hits"], status["misses"], status["bytes_downloaded"]) == (2, 1, 1300)
    assert cache.stats == {"hits": 2, "misses": 1, "bytes_downloaded": 1300, "corrupt_refetched": 0,
                           "metadata_rebuilt": 0}
    cache.stats["hits"] = 99  # a copy: only the cache's own methods change its counters
    assert cache.status()["hits"] == 2


def test_a_download_is_reported_from_start_through_progress_to_its_end(tmp_path, monkeypatch):
    from tui_transformer.data import shard_cache

    monkeypatch.setattr(shard_cache, "PROGRESS_INTERVAL", 0.0)  # report every piece
    cache = ShardCache(tmp_path)
    seen = []
    cache.subscribe(lambda status: seen.append(status["download"]))
    cache.download_progress(10)  # a footer read, before any download: not progress
    assert seen == [] and cache.status()["download"] is None
    cache.download_started(shard_name(3), "001.parquet", 7)
    assert seen[-1] == {"name": shard_name(3), "source_file": "001.parquet", "row_group": 7,
                        "bytes_done": 0, "bytes_total": None, "progress": 0.0}
    cache.download_progress(50)  # no total yet: the bytes count, the fraction does not
    assert (seen[-1]["bytes_done"], seen[-1]["progress"]) == (50, 0.0)
    cache.download_sized(200)
    cache.download_progress(50)
    assert (seen[-1]["bytes_done"], seen[-1]["bytes_total"], seen[-1]["progress"]) == (100, 200, 0.5)
    cache.download_progress(500)  # the total is an estimate: the fraction stops at 1
    assert seen[-1]["progress"] == 1.0
    cache.download_finished()
    assert seen[-1] is None and cache.status()["download"] is None


def test_progress_reports_are_rate_limited_but_every_byte_is_counted(tmp_path):
    cache = ShardCache(tmp_path)
    seen = []
    cache.subscribe(seen.append)
    cache.download_started(shard_name(0), "001.parquet", 0)
    for _ in range(100):
        cache.download_progress(1)
    assert len(seen) <= 3  # the start, and at most two reports in this fraction of a second
    assert cache.status()["download"]["bytes_done"] == 100


def test_notices_are_kept_and_the_last_five_shown(tmp_path):
    cache = ShardCache(tmp_path)
    for i in range(7):
        cache.notice(f"note {i}")
    assert cache.status()["notices"] == [f"note {i}" for i in range(2, 7)]


def test_a_folder_where_a_cache_file_belongs_is_named_and_kept(tmp_path):
    from tui_transformer.errors import UserError

    cache = ShardCache(tmp_path)
    cache.metadata_path.mkdir()
    with pytest.raises(UserError, match="cache_metadata.json is a folder where the cache's metadata file belongs"):
        cache.read_metadata()
    assert cache.metadata_path.is_dir(), "the user's folder is never deleted"
    cache.metadata_path.rmdir()
    cache.path(shard_name(0)).mkdir()
    with pytest.raises(UserError, match="is a folder where shard shard_00000.parquet belongs"):
        add(cache, 0)
    assert cache.path(shard_name(0)).is_dir()
