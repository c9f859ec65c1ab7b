"""A shard-metadata rebuild never adopts a damaged shard: it checks each shard against the digest of
its content recorded when it was downloaded, and fetches again what differs.

It trusted whatever was on disk: with both shards flipped and ``cache_metadata.json`` deleted,
``data prefetch 2`` said "nothing downloaded; 2 already cached", and the texts differed from the source.
"""

import io

import pyarrow as pa
import pyarrow.parquet as pq

from tests.data.conftest import REPO
from tui_transformer.cli import main
from tui_transformer.data.shard_cache import ShardCache


def texts_of(path):
    return pq.read_table(path, columns=["text"]).column("text").to_pylist()


def source_texts(hub, row_group):
    table = pq.ParquetFile(io.BytesIO(hub.repos[REPO].files["sample/10BT/000_00000.parquet"]))
    return [t for t in table.read_row_group(row_group, columns=["text"]).column("text").to_pylist() if t]


def test_a_rebuild_fetches_again_the_shards_that_differ_from_what_was_downloaded(hub, tmp_path, capsys):
    cache = tmp_path / "shards"
    assert main(["data", "prefetch", "2", "--cache-dir", str(cache)]) == 0
    first, second = cache / "shard_00000.parquet", cache / "shard_00001.parquet"
    # shard 0: a text edited inside a well-formed file that keeps the shard's own description
    table = pq.read_table(first)
    texts = table.column("text").to_pylist()
    texts[3] = texts[3].replace("a", "b")
    pq.write_table(table.set_column(1, "text", pa.array(texts)), first, compression="zstd")
    # shard 1: a real byte flipped in the middle of its data pages
    data = bytearray(second.read_bytes())
    data[len(data) // 3] ^= 0x01
    second.write_bytes(bytes(data))
    (cache / "cache_metadata.json").unlink()
    capsys.readouterr()
    assert main(["data", "prefetch", "2", "--cache-dir", str(cache)]) == 0
    out = capsys.readouterr().out
    assert "nothing downloaded" not in out and "0 already cached" in out, out
    assert texts_of(first) == source_texts(hub, 0) and texts_of(second) == source_texts(hub, 1)
    assert ShardCache(cache).lookup("shard_00000.parquet") is not None


def test_an_intact_shard_is_kept_by_a_rebuild(hub, tmp_path, capsys):
    cache = tmp_path / "shards"
    assert main(["data", "prefetch", "2", "--cache-dir", str(cache)]) == 0
    (cache / "cache_metadata.json").unlink()
    capsys.readouterr()
    assert main(["data", "prefetch", "2", "--cache-dir", str(cache)]) == 0
    assert "nothing downloaded; 2 already cached" in capsys.readouterr().out
