"""FineWeb through a loopback Hub: range reads, faults, auto fallback, offline mode, tokens."""

import io
import time

import pyarrow.parquet as pq
import pytest
import torch

from tui_transformer.data import BatchLoader, open_source
from tui_transformer.data.fineweb import FinewebSource
from tui_transformer.data.http import HttpClient, HttpPolicy, NetworkError
from tui_transformer.data.shard_cache import ShardCache
from tui_transformer.data.split import split_of
from tui_transformer.errors import UserError

from tests.data.fake_hub import FINEWEB as REPO

FAST_HTTP = HttpPolicy(timeout=0.5, retries=3, backoff=0.01, max_backoff=0.02)

FIRST = "sample/10BT/000_00000.parquet"


@pytest.fixture()
def cache(tmp_path):
    return ShardCache(tmp_path / "fineweb", max_shards=5)


def remote_rows(hub, path, row_group):
    return pq.ParquetFile(io.BytesIO(hub.files[path])).read_row_group(row_group, columns=["id", "text"]).to_pylist()


def cdn_url(hub, path):
    """Where the Hub's redirect for ``path`` of FineWeb leads."""
    return f"{hub.cdn_url}/cdn/{hub.repos[REPO].sha}/{REPO}/{path}"


def no_partial_files(cache):
    return [p.name for p in cache.root.iterdir() if p.name.startswith(".tmp")] == []


def test_a_shard_is_one_row_group_read_with_range_requests(hub, cache):
    source = open_source("fineweb", shard_cache=cache, http=FAST_HTTP)
    entry = source.ensure_shard(5)  # the 2nd row group of the 2nd file, fetched without the ones before
    assert entry["source_file"] == "sample/10BT/001_00000.parquet" and entry["row_groups"] == [1, 2]
    table = pq.read_table(cache.path(entry["name"]))
    assert table.to_pylist() == remote_rows(hub, "sample/10BT/001_00000.parquet", 1)
    files = hub.file_requests()
    assert files and all(rng and rng.startswith("bytes=") for _, rng, _ in files)
    assert cache.stats["bytes_downloaded"] < len(hub.files["sample/10BT/001_00000.parquet"]) / 2
    # shard 0 costs about the same as shard 5: nothing before a row group is read
    before = cache.stats["bytes_downloaded"]
    source.ensure_shard(0)
    cost0 = cache.stats["bytes_downloaded"] - before
    assert 0.5 < cost0 / before < 2.0
    source.close()


@pytest.mark.slow  # a loopback hub and the CLI
def test_the_loader_reads_fineweb_and_resumes_exactly_across_shards(hub, cache, cl100k):
    source = open_source("fineweb", shard_cache=cache, http=FAST_HTTP)
    straight = BatchLoader(source, cl100k, batch_size=8, seq_len=512, seed=1)
    expected = [straight.next_batch() for _ in range(30)]
    assert straight.state_dict()["chunk"] >= 2  # crossed shard boundaries
    straight.close()
    first = BatchLoader(source, cl100k, batch_size=8, seq_len=512, seed=1)
    got = [first.next_batch() for _ in range(15)]
    state = first.state_dict()
    first.close()
    second = BatchLoader(source, cl100k, batch_size=8, seq_len=512, seed=1)
    second.load_state_dict(state)
    got += [second.next_batch() for _ in range(15)]
    second.close()
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(expected, got, strict=True))
    assert len(cache.read_metadata()["shards"]) <= 5
    source.close()


def test_an_epoch_ends_after_the_last_row_group_and_wraps(hub, cache, cl100k):
    source = FinewebSource(0.5, cache=ShardCache(cache.root, max_shards=None), http=FAST_HTTP)
    assert source.ensure_shard(6) is not None and source.ensure_shard(7) is None  # 4 + 3 row groups
    loader = BatchLoader(source, cl100k, split="val", batch_size=16, seq_len=512)
    while loader.epoch == 0:
        loader.next_batch()
    assert loader.state_dict()["chunk"] <= 1
    loader.close()
    source.close()


@pytest.mark.parametrize("faults", [["drop"], ["500", "500"], ["truncate"], ["drop", "500", "truncate"]])
def test_network_faults_are_retried_and_the_shard_is_intact(hub, cache, faults):
    source = open_source("fineweb", shard_cache=cache, http=FAST_HTTP)
    source.ensure_shard(0)  # footer and listing first, so the faults hit the row-group download
    hub.faults = list(faults)
    entry = source.ensure_shard(1)
    assert hub.faults == []
    assert pq.read_table(cache.path(entry["name"])).to_pylist() == remote_rows(hub, FIRST, 1)
    assert no_partial_files(cache)


def test_a_stalled_server_fails_with_a_clear_error_and_leaves_nothing(hub, cache):
    source = open_source("fineweb", shard_cache=cache, http=HttpPolicy(timeout=0.3, retries=1, backoff=0.01))
    source.ensure_shard(0)
    hub.faults = ["stall", "stall"]
    started = time.monotonic()
    with pytest.raises(NetworkError, match=r"could not fetch http://127\.0\.0\.1:\d+/.*000_00000\.parquet: no answer within 0\.3 s"):
        source.ensure_shard(1)
    assert time.monotonic() - started < 4  # our timeouts (2 x 0.3 s), not the server's 5 s stalls
    assert "shard_00001.parquet" not in cache.read_metadata()["shards"]
    assert not cache.path("shard_00001.parquet").exists() and no_partial_files(cache)


def test_a_server_that_keeps_failing_names_the_url_and_cause(hub, cache):
    source = open_source("fineweb", shard_cache=cache, http=FAST_HTTP)
    source.ensure_shard(0)
    hub.faults = ["500"] * 10
    with pytest.raises(NetworkError, match="HTTP 500.*after 4 attempts"):
        source.ensure_shard(1)
    assert no_partial_files(cache) and not cache.path("shard_00001.parquet").exists()


def test_a_single_try_is_counted_in_the_singular(hub):
    hub.faults = ["500"]
    with pytest.raises(NetworkError, match=r"HTTP 500.*\(after 1 attempt\)"):
        HttpClient(HttpPolicy(timeout=0.5, retries=0)).get_range(cdn_url(hub, FIRST), 0, 8)


@pytest.mark.slow  # waits out injected stalls and retries on a loopback hub
def test_a_trickling_server_is_cut_by_the_deadline_and_retried(hub):
    # 64 B every 0.05 s: no single read waits the 0.5 s timeout, but 1,280 B/s is far below min_rate
    url = cdn_url(hub, FIRST)
    expected = hub.files[FIRST][:4096]
    policy = HttpPolicy(timeout=0.5, retries=1, backoff=0.01, min_rate=20_000)  # deadline 0.5 + 4096/20000 s
    hub.faults = ["trickle", "trickle"]
    started = time.monotonic()
    with pytest.raises(NetworkError, match=r"too slow: \d+ of 4096 bytes.*after 2 attempts"):
        HttpClient(policy).get_range(url, 0, 4096)
    assert time.monotonic() - started < 2 * (0.71 + 0.5) + 0.5, "each try ends within timeout of its deadline"
    hub.faults = ["trickle"]
    assert HttpClient(policy).get_range(url, 0, 4096) == expected, "the retry after a trickle succeeds"


@pytest.mark.parametrize("variable, value, says", [
    ("TUI_TRANSFORMER_HTTP_TIMEOUT", "-1", "timeout must be a positive"),
    ("TUI_TRANSFORMER_HTTP_RETRIES", "-3", "retries must be a whole number >= 0"),
    ("TUI_TRANSFORMER_HTTP_MIN_RATE", "0", "minimum rate must be a positive"),
    ("TUI_TRANSFORMER_HTTP_BACKOFF", "nan", "backoff must be a number"),
])
def test_bad_http_settings_are_one_clear_error(monkeypatch, variable, value, says):
    monkeypatch.setenv(variable, value)
    with pytest.raises(UserError, match=says):
        HttpPolicy.from_env()


def test_auto_uses_fineweb_when_the_hub_answers(hub, cache):
    source = open_source("auto", shard_cache=cache, http=FAST_HTTP)
    assert source.name == "fineweb" and source.notice == ""


def test_auto_falls_back_to_builtin_quickly_when_the_connection_is_refused(hub_settings):
    hub_settings(HF_ENDPOINT="http://127.0.0.1:9")  # nothing listens there: refused
    started = time.monotonic()
    source = open_source("auto", probe_timeout=1.0)
    assert time.monotonic() - started < 3
    assert source.name == "builtin"
    assert source.notice.startswith("FineWeb unreachable (") and "Python's own documentation (offline)" in source.notice
    assert "Connection refused" in source.notice


def test_auto_respects_hf_hub_offline(hub, hub_settings):
    hub_settings(HF_HUB_OFFLINE="1")
    source = open_source("auto")
    assert source.name == "builtin" and "HF_HUB_OFFLINE" in source.notice
    assert hub.requests == []


def test_offline_mode_reads_cached_shards_and_refuses_missing_ones(hub, cache, hub_settings):
    open_source("fineweb", shard_cache=cache, http=FAST_HTTP).ensure_shard(0)
    hub_settings(HF_HUB_OFFLINE="1")
    hub.requests.clear()
    offline = open_source("fineweb", shard_cache=cache, http=FAST_HTTP)
    assert offline.ensure_shard(0) is not None
    with pytest.raises(UserError, match="not cached and HF_HUB_OFFLINE"):
        offline.ensure_shard(1)
    assert hub.requests == []


def test_hf_token_goes_to_the_hub_but_not_through_the_redirect(hub, cache, hub_settings):
    # the CDN listens on another port: another origin, which a token must not follow to
    hub_settings(HF_TOKEN="hf_secret")
    open_source("fineweb", shard_cache=cache, http=FAST_HTTP).ensure_shard(0)
    to_hub = [auth for path, _, auth in hub.requests if not path.startswith("/cdn/")]
    to_cdn = [auth for _, _, auth in hub.file_requests()]
    assert to_hub and set(to_hub) == {"Bearer hf_secret"}
    assert to_cdn and set(to_cdn) == {None}


def test_a_corrupt_shard_is_detected_reported_and_fetched_again(hub, cache):
    source = open_source("fineweb", shard_cache=cache, http=FAST_HTTP)
    entry = source.ensure_shard(2)
    path = cache.path(entry["name"])
    path.write_bytes(path.read_bytes()[: entry["bytes"] // 2])  # truncated on disk
    again = source.ensure_shard(2)
    assert again["sha256"] == entry["sha256"]
    assert cache.stats["corrupt_refetched"] == 1
    assert any("corrupt" in n for n in cache.status()["notices"])


def test_tokens_are_cached_next_to_the_shard(hub, cache, cl100k):
    source = open_source("fineweb", shard_cache=cache, http=FAST_HTTP)
    first = source.chunk("train", 0, cl100k)
    first.release()
    source._prefetch.join()  # the background prefetch of shard 1 is done: no request comes later
    hub.requests.clear()
    again = source.chunk("train", 0, cl100k)
    again.release()
    assert (first.tokens == again.tokens).all()
    status = cache.status()["shards"]
    shard0 = next(s for s in status if s["name"] == "shard_00000.parquet")
    assert list(shard0["tokens"].values()) == [len(first.tokens)]
    assert hub.file_requests() == []  # the second read touched neither the network nor the tokenizer
    source.close()


def test_training_texts_come_from_the_train_split_only(hub, cache):
    source = open_source("fineweb", shard_cache=cache, http=FAST_HTTP)
    texts = source.training_texts(20_000)
    rows = remote_rows(hub, FIRST, 0)
    val_texts = {r["text"] for r in rows if split_of(r["id"], 0.1) == "val"}
    assert val_texts and sum(map(len, texts)) == 20_000
    assert not set(texts) & val_texts
    assert texts[0] == next(r["text"] for r in rows if split_of(r["id"], 0.1) == "train")


def test_on_status_hears_downloads_and_the_cache(hub, cache, cl100k):
    source = open_source("fineweb", shard_cache=cache, http=FAST_HTTP)
    seen = []
    loader = BatchLoader(source, cl100k, batch_size=2, seq_len=64, on_status=seen.append)
    loader.next_batch()
    loader.close()
    source.close()
    assert seen[0]["source"] == "fineweb"
    downloads = [s["download"] for s in seen if s["download"]]
    assert downloads and downloads[0]["name"] == "shard_00000.parquet"
    assert any((d["bytes_total"] or 0) > 0 for d in downloads)
    assert any(s["shards"] and s["shards"][0]["name"] == "shard_00000.parquet" for s in seen)


KILLED_WRITER = """
import os, sys, time
from tui_transformer.data import shard_cache
from tui_transformer.data.fineweb import FinewebSource
from tui_transformer.data.http import HttpPolicy

real_replace = os.replace

def replace_then_hang(src, dst):
    if os.path.basename(str(dst)).startswith("shard_"):
        print("mid-write", flush=True)  # the shard is written and fsynced under its temp name: kill me now
        time.sleep(60)
    real_replace(src, dst)

shard_cache.os.replace = replace_then_hang
FinewebSource(cache=shard_cache.ShardCache(sys.argv[1]), http=HttpPolicy(timeout=5, retries=0)).ensure_shard(0)
print("done without a rename?", flush=True)
"""


@pytest.mark.slow  # a subprocess importing torch
def test_a_download_killed_midway_leaves_no_shard_and_the_next_run_refetches(hub, cache, tmp_path):
    import json
    import signal
    import subprocess
    import sys

    writer = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(cache.root)], stdout=subprocess.PIPE, text=True)
    said = writer.stdout.readline()  # blocks until the writer reaches the rename, or exits (then "")
    assert said == "mid-write\n", f"the writer never reached the rename (it said {said!r})"
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    writer.stdout.close()
    leftovers = [p.name for p in cache.root.iterdir() if p.name.startswith(".tmp-")]
    assert leftovers and not cache.path("shard_00000.parquet").exists()
    assert json.loads(cache.metadata_path.read_text())["shards"] == {}
    entry = FinewebSource(cache=cache, http=FAST_HTTP).ensure_shard(0)
    assert pq.read_table(cache.path(entry["name"])).to_pylist() == remote_rows(hub, FIRST, 0)
    assert no_partial_files(cache)  # the dead writer's temp file is gone too


@pytest.mark.slow  # waits out injected stalls and retries on a loopback hub
def test_closing_does_not_wait_out_a_stalled_background_download(hub, cache, cl100k):
    source = open_source("fineweb", shard_cache=cache, http=HttpPolicy(timeout=30, retries=0))
    source.ensure_shard(0)
    hub.faults = ["stall"]  # the background fetch of shard 1 gets no answer for 5 s
    source.chunk("train", 0, cl100k).release()  # the read of shard 0 starts that fetch
    prefetch = source._prefetch
    started = time.monotonic()
    source.close()
    assert time.monotonic() - started < 4, "close waited for the stalled download"
    prefetch.join(30)  # left alone, the download ends (here: fails) and leaves the cache whole
    assert not prefetch.is_alive() and no_partial_files(cache)


def test_files_are_listed_and_read_at_the_commit_main_points_to(hub, cache):
    source = open_source("fineweb", shard_cache=cache, http=FAST_HTTP)
    source.ensure_shard(0)
    commit = hub.repos[REPO].sha
    paths = [path for path, _, _ in hub.requests]
    assert f"/api/datasets/{REPO}/revision/main" in paths or f"/api/datasets/{REPO}" in paths
    assert any(p.startswith(f"/api/datasets/{REPO}/tree/{commit}/sample%2F10BT") for p in paths)
    assert any(p.startswith(f"/datasets/{REPO}/resolve/{commit}/{FIRST}") for p in paths)  # then the redirect
    assert cache.read_metadata()["remote"]["commit"] == commit


def test_the_bytes_served_for_a_shard_are_its_row_group_and_the_footer(hub, cache):
    from tui_transformer.data.remote_parquet import COLUMNS, FOOTER_READAHEAD

    metadata = pq.ParquetFile(io.BytesIO(hub.files[FIRST])).metadata
    size = len(hub.files[FIRST])

    def span(row_group):  # the id and text column chunks of the row group, as one range
        group = metadata.row_group(row_group)
        chunks = [group.column(c) for c in range(group.num_columns) if group.column(c).path_in_schema in COLUMNS]
        starts = [c.dictionary_page_offset if c.has_dictionary_page else c.data_page_offset for c in chunks]
        return max(s + c.total_compressed_size for s, c in zip(starts, chunks)) - min(starts)

    source = open_source("fineweb", shard_cache=cache, http=FAST_HTTP)
    source.ensure_shard(0)
    first = hub.served_bytes()
    assert first == min(FOOTER_READAHEAD, size) + span(0), "shard 0: the footer read, then its row group"
    source.ensure_shard(1)
    assert hub.served_bytes() - first == span(1), "shard 1 of the same file: its row group alone"
    assert span(1) < size / 3


@pytest.mark.slow  # waits out injected stalls and retries on a loopback hub
def test_a_429_is_retried_after_the_retry_after_it_names(hub, cache):
    source = open_source("fineweb", shard_cache=cache, http=FAST_HTTP)  # a backoff of 0.01 s
    source.ensure_shard(0)
    hub.faults = ["429"]  # Retry-After: 1
    started = time.monotonic()
    entry = source.ensure_shard(1)
    assert time.monotonic() - started >= 1.0, "the retry waited the server's Retry-After, not our backoff"
    assert hub.faults == []
    assert pq.read_table(cache.path(entry["name"])).to_pylist() == remote_rows(hub, FIRST, 1)


def test_a_gated_dataset_without_a_token_is_one_line_and_reads_with_one(hub, cache, hub_settings):
    hub.repos[REPO].gated = True
    with pytest.raises(NetworkError) as caught:
        open_source("fineweb", shard_cache=cache, http=FAST_HTTP).ensure_shard(0)
    message = str(caught.value)
    assert "\n" not in message and "is gated: accept its terms on the Hub, then set HF_TOKEN" in message
    assert no_partial_files(cache) and not cache.path("shard_00000.parquet").exists()
    hub_settings(HF_TOKEN="hf_secret")
    assert open_source("fineweb", shard_cache=cache, http=FAST_HTTP).ensure_shard(0) is not None
