"""How fast the data path makes tokens, compared with how fast training eats them.

For each tokenizer, on the training split of a source (the builtin corpus by default):

* ``tokenize_tokens_per_s``: encode every document and pack the stream (a chunk's first read);
* ``cached_read_tokens_per_s``: load that stream back from its ``.npy`` file (every later read);
* ``loader_tokens_per_s``: ``BatchLoader.next_batch`` in a loop (windows gathered, shuffled, batched);
* ``margin_vs_tiny_preset``: the slowest of those three over the tiny CPU preset's training speed
  (about 4,900 tokens/s, measured in the engineering guide); the goal is at least 20x.

Also the first-run costs: building the offline corpus and training each ``bpe-N`` from scratch.
Numbers drift on a shared machine; compare the ratios within one run.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

TINY_PRESET_TOKENS_PER_S = 4900  # GUIDE.md section 4: d128, L4, vocab 8k, batch 8x128, 2 cores


def run_data_bench(data: str = "builtin", tokenizers=("cl100k_base", "bpe-8192"), batch_size: int = 8,
                   seq_len: int = 128, batches: int = 2000, on_progress=None, stop=None) -> dict:
    """Measure, return a dict (see the module docstring); never prints."""
    import torch

    from tui_transformer.data import BatchLoader, get_tokenizer, open_source
    from tui_transformer.data.bpe import train_bpe
    from tui_transformer.data.token_cache import tokenize_documents

    say = on_progress or (lambda message: None)
    result = {"bench": "data", "config": {"data": data, "tokenizers": list(tokenizers), "batch_size": batch_size,
                                          "seq_len": seq_len, "batches": batches},
              "torch": torch.__version__, "device": "cpu", "tiny_preset_tokens_per_s": TINY_PRESET_TOKENS_PER_S}
    if data == "builtin":
        from tui_transformer.data import builtin_corpus

        say("building the offline corpus from scratch")
        started = time.perf_counter()
        documents = builtin_corpus.collect_documents()
        result["corpus_build_seconds"] = round(time.perf_counter() - started, 3)
        result["corpus_documents"] = len(documents)
        result["corpus_bytes"] = sum(len(t.encode()) for _, t in documents)
    source = open_source(data)
    texts = source.training_texts(10**12) if data == "builtin" else source.training_texts(8_000_000)
    result["train_characters"] = sum(map(len, texts))
    rows = []
    for spec in tokenizers:
        if stop is not None and stop.is_set():
            break
        row = {"tokenizer": spec}
        if spec.startswith("bpe-"):
            say(f"training {spec} from scratch")
            started = time.perf_counter()
            train_bpe(texts[:], int(spec.removeprefix("bpe-")) - 1)
            row["bpe_train_seconds"] = round(time.perf_counter() - started, 3)
        tokenizer = get_tokenizer(spec, source)
        row["vocab_size"] = tokenizer.vocab_size
        say(f"{spec}: tokenizing")
        started = time.perf_counter()
        stream = tokenize_documents(tokenizer, texts)
        seconds = time.perf_counter() - started
        row["tokens"] = int(len(stream))
        row["tokenize_tokens_per_s"] = round(len(stream) / seconds)
        row["cached_read_tokens_per_s"] = round(len(stream) / _time_cached_read(stream))
        say(f"{spec}: {batches} batches from the loader")
        loader = BatchLoader(source, tokenizer, batch_size=batch_size, seq_len=seq_len)
        loader.next_batch()  # the thread starts and the chunk is read: not the steady state
        started = time.perf_counter()
        for _ in range(batches):
            loader.next_batch()
        seconds = time.perf_counter() - started
        loader.close()
        row["loader_tokens_per_s"] = round(batches * batch_size * seq_len / seconds)
        slowest = min(row["tokenize_tokens_per_s"], row["cached_read_tokens_per_s"], row["loader_tokens_per_s"])
        row["margin_vs_tiny_preset"] = round(slowest / TINY_PRESET_TOKENS_PER_S, 1)
        rows.append(row)
    source.close()
    result["results"] = rows
    return result


def _time_cached_read(stream: np.ndarray) -> float:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stream.npy"
        np.save(path, stream)
        started = time.perf_counter()
        loaded = np.load(path)
        seconds = time.perf_counter() - started
    assert len(loaded) == len(stream)
    return seconds
