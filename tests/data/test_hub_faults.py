"""The Hub's own failures, on a loopback Hub (tests/data/fake_hub.py): corrupt bytes, a Retry-After
beyond what we wait, a retry that says so, and the ``hf:`` path's transient errors."""

import time

import pyarrow.parquet as pq
import pytest

from tests.data.test_fineweb import FAST_HTTP, FIRST, no_partial_files, remote_rows
from tests.data.test_hub_dataset import WEB, datasets_hub  # noqa: F401  the fixture
from tui_transformer.data import open_source
from tui_transformer.data.http import HttpPolicy, NetworkError
from tui_transformer.data.shard_cache import ShardCache
from tui_transformer.errors import UserError


@pytest.fixture()
def cache(tmp_path):
    return ShardCache(tmp_path / "fineweb", max_shards=5)


def test_corrupt_bytes_from_the_hub_are_retried_like_a_dropped_body(hub, cache):
    """A flipped byte gave `OSError: Corrupt snappy compressed data` from remote_parquet."""
    source = open_source("fineweb", shard_cache=cache, http=FAST_HTTP)
    source.ensure_shard(0)
    hub.faults = ["corrupt"]
    entry = source.ensure_shard(1)
    assert hub.faults == []
    assert pq.read_table(cache.path(entry["name"])).to_pylist() == remote_rows(hub, FIRST, 1)


def test_bytes_that_stay_corrupt_are_refused_in_one_line_with_no_shard_left(hub, cache):
    source = open_source("fineweb", shard_cache=cache, http=FAST_HTTP)
    source.ensure_shard(0)
    hub.faults = ["corrupt"] * 20
    with pytest.raises(UserError, match=r"000_00000\.parquet.*(do not decode|after 4 attempts)") as raised:
        source.ensure_shard(1)
    assert "\n" not in str(raised.value)
    assert not cache.path("shard_00001.parquet").exists() and no_partial_files(cache)


def test_a_retry_after_beyond_what_we_wait_fails_at_once_and_says_why(hub, cache):
    """`Retry-After: 99999` waited 120 s in silence, though the docstring says it "is treated as failing"."""
    source = open_source("fineweb", shard_cache=cache, http=FAST_HTTP)
    source.ensure_shard(0)
    hub.faults = ["429-long"]
    started = time.monotonic()
    with pytest.raises(NetworkError, match=r"Retry-After.*99999 s.*120 s"):
        source.ensure_shard(1)
    assert time.monotonic() - started < 5


def test_every_retry_prints_one_line(hub, cache, capsys):
    # FAST_HTTP's 0.5 s timeout can expire on a loaded machine and add a third, honest retry line
    patient = HttpPolicy(timeout=10.0, retries=3, backoff=0.01, max_backoff=0.02)
    source = open_source("fineweb", shard_cache=cache, http=patient)
    source.ensure_shard(0)
    capsys.readouterr()
    hub.faults = ["500", "drop"]
    source.ensure_shard(1)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2, lines
    assert "HTTP 500" in lines[0] and "attempt 1 of 4" in lines[0] and "retrying in" in lines[0]
    assert "connection dropped" in lines[1] and "attempt 2 of 4" in lines[1]


@pytest.mark.parametrize("faults", [["500", "500"], ["429"], ["drop", "500"]])
@pytest.mark.slow  # streams a dataset through datasets three times: seconds
def test_the_hf_path_retries_the_hubs_transient_errors(datasets_hub, monkeypatch, faults, capsys):
    """A loopback Hub answering its first two GETs with HTTP 500 failed the hf: path at once:
    `Server error '500 Internal Server Error' for url .../resolve/main/README.md`."""
    monkeypatch.setenv("TUI_TRANSFORMER_HTTP_BACKOFF", "0.01")
    datasets_hub.hub_faults = list(faults)
    source = open_source("hf:plain/web")
    texts = []
    index = 0
    while (entry := source.ensure_shard(index)) is not None:
        texts += pq.read_table(source.cache.path(entry["name"])).column("text").to_pylist()
        index += 1
    assert datasets_hub.hub_faults == []
    assert sorted(texts) == sorted(r["text"] for r in WEB)
    assert "retrying in" in capsys.readouterr().err


def test_the_hf_path_gives_up_in_one_line(datasets_hub, monkeypatch):
    monkeypatch.setenv("TUI_TRANSFORMER_HTTP_BACKOFF", "0.01")
    monkeypatch.setenv("TUI_TRANSFORMER_HTTP_RETRIES", "2")
    datasets_hub.hub_faults = ["500"] * 1000
    started = time.monotonic()
    with pytest.raises(UserError, match=r"plain/web.*HTTP 500.*after 3 attempts") as raised:
        open_source("hf:plain/web")
    assert "\n" not in str(raised.value) and time.monotonic() - started < 30
