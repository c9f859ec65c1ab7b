"""Token streams on disk are verified on every read: a flipped byte is rebuilt, never trained on."""

import numpy as np
import pyarrow as pa
import pytest

from tui_transformer.data.shard_cache import ShardCache, shard_name
from tui_transformer.data.token_cache import load_or_tokenize, load_stream, save_stream


class CountingTokenizer:
    """Tokenizes each text into its character codes mod 200, and counts how often it was asked."""

    eot_id, vocab_size = 200, 201
    calls = 0

    def encode_batch(self, texts):
        CountingTokenizer.calls += 1
        return [[ord(c) % 200 for c in text] for text in texts]


TEXTS = ["the quick brown fox", "jumps over the lazy dog"]


def test_every_single_byte_flip_of_a_token_file_is_detected(tmp_path):
    path = tmp_path / "stream.npy"
    stream = np.arange(60, dtype=np.uint16)
    size = save_stream(path, stream)
    original = path.read_bytes()
    assert len(original) == size and np.array_equal(load_stream(path), stream)
    for position in range(size):
        damaged = bytearray(original)
        damaged[position] ^= 0x01
        path.write_bytes(bytes(damaged))
        assert load_stream(path) is None, f"a flip at byte {position} was read as valid"
    path.write_bytes(original[:-1])
    assert load_stream(path) is None, "a truncated file"
    path.write_bytes(original[: size // 2])
    assert load_stream(path) is None


@pytest.mark.parametrize("damage", ["ids past the vocabulary", "a zeroed region", "an old file without a digest"])
def test_a_damaged_token_cache_is_rebuilt_with_the_right_tokens(tmp_path, damage):
    tokenizer = CountingTokenizer()
    first, cached = load_or_tokenize(tmp_path, "key", tokenizer, lambda: TEXTS)
    assert not cached
    path = tmp_path / "key.npy"
    data = bytearray(path.read_bytes())
    header = len(data) - 72 - first.nbytes  # the .npy header; the tokens; the 72-byte digest trailer
    if damage == "ids past the vocabulary":  # crashed training with "index 65535 is out of bounds"
        data[header : header + 8] = b"\xff" * 8
    elif damage == "a zeroed region":  # trained silently on zeros
        data[header + 4 : header + 20] = bytes(16)
    else:
        np.save(path, first)
        data = bytearray(path.read_bytes())
    path.write_bytes(bytes(data))
    calls = CountingTokenizer.calls
    again, cached = load_or_tokenize(tmp_path, "key", tokenizer, lambda: TEXTS)
    assert not cached and CountingTokenizer.calls == calls + 1, "tokenized again"
    assert np.array_equal(again, first)
    assert load_or_tokenize(tmp_path, "key", tokenizer, lambda: TEXTS)[1], "and the rebuilt file is used next time"


def test_a_damaged_shard_token_file_is_rebuilt(tmp_path):
    cache = ShardCache(tmp_path)
    info = {"index": 0, "source_file": "f.parquet", "row_groups": [0], "rows": 2, "splits": {"train": 2, "val": 0}}
    name = cache.add(shard_name(0), pa.table({"id": ["a", "b"], "text": TEXTS}), info)["name"]
    tokenizer = CountingTokenizer()
    tokenizer.name = "counting"
    tokenizer.sha256 = lambda: "0" * 64

    def tokenize(texts):
        return np.array([c for text in texts for c in tokenizer.encode_batch([text])[0]], dtype=np.uint16)

    first, cached = cache.tokens(name, "train", 0.0, tokenizer, tokenize)
    assert not cached
    (path,) = tmp_path.glob(f"{shard_name(0).removesuffix('.parquet')}.*.train.npy")
    data = bytearray(path.read_bytes())
    data[len(data) - 80] ^= 0xFF  # a token near the end
    path.write_bytes(bytes(data))
    again, cached = cache.tokens(name, "train", 0.0, tokenizer, tokenize)
    assert not cached and np.array_equal(again, first)
    assert cache.tokens(name, "train", 0.0, tokenizer, tokenize)[1]
