"""The loader: deterministic, exactly resumable, disjoint across ranks, wrapping epochs."""

import numpy as np
import pytest
import torch

from tui_transformer.data import BatchLoader
from tui_transformer.errors import ConfigError, UserError

TEXTS = [[f"chunk {g} document {i}: " + " ".join(f"w{g}_{i}_{k}" for k in range(i % 17 + 1)) for i in range(80)]
         for g in range(3)]


@pytest.fixture()
def source(memory_source):
    return memory_source(TEXTS)


def take(loader, n):
    return [loader.next_batch() for _ in range(n)]


def test_batches_have_the_contract_shapes(source, cl100k):
    with BatchLoader(source, cl100k, batch_size=4, seq_len=32) as loader:
        x, y = loader.next_batch()
        assert x.shape == y.shape == (4, 32) and x.dtype == y.dtype == torch.long
        assert torch.equal(x[:, 1:], y[:, :-1])
        assert loader.tokens_consumed == 4 * 32


def test_same_seed_same_batches_other_seed_other_batches(source, cl100k):
    runs = []
    for seed in (0, 0, 1):
        with BatchLoader(source, cl100k, batch_size=4, seq_len=32, seed=seed) as loader:
            runs.append(torch.cat([x for x, _ in take(loader, 10)]))
    assert torch.equal(runs[0], runs[1])
    assert not torch.equal(runs[0], runs[2])


def test_exact_resume_is_bitwise(source, cl100k):
    straight = BatchLoader(source, cl100k, batch_size=8, seq_len=64, seed=5)
    expected = take(straight, 40)  # long enough to cross chunks and an epoch boundary
    assert straight.epoch >= 1
    straight.close()

    first = BatchLoader(source, cl100k, batch_size=8, seq_len=64, seed=5)
    got = take(first, 20)
    state = first.state_dict()  # the prefetch thread is ahead by now; the state must not be
    first.close()
    assert all(isinstance(v, (int, str)) for v in state.values())
    second = BatchLoader(source, cl100k, batch_size=8, seq_len=64, seed=5)
    second.load_state_dict(state)
    got += take(second, 20)
    second.close()
    for (ex, ey), (gx, gy) in zip(expected, got, strict=True):
        assert torch.equal(ex, gx) and torch.equal(ey, gy)
    assert second.tokens_consumed == 40 * 8 * 64


def test_resume_with_a_different_layout_is_refused(source, cl100k):
    with BatchLoader(source, cl100k, batch_size=2, seq_len=16) as loader:
        loader.next_batch()
        state = loader.state_dict()
    with pytest.raises(ConfigError, match="seq_len"):
        BatchLoader(source, cl100k, batch_size=2, seq_len=8).load_state_dict(state)


def test_ranks_get_disjoint_windows_that_cover_the_epoch(source, cl100k):
    def epoch_windows(rank, world):
        loader = BatchLoader(source, cl100k, batch_size=1, seq_len=16, rank=rank, world_size=world, seed=3)
        rows = []
        while loader.epoch == 0:
            x, y = loader.next_batch()
            rows.append(tuple(x[0].tolist()) + (y[0, -1].item(),))
        loader.close()
        return rows[:-1]  # the last one belongs to epoch 1

    alone = epoch_windows(0, 1)
    rank0, rank1 = epoch_windows(0, 2), epoch_windows(1, 2)
    assert not set(rank0) & set(rank1)
    assert sorted(rank0 + rank1) == sorted(alone)


def test_epochs_wrap_and_reshuffle(source, cl100k):
    with BatchLoader(source, cl100k, batch_size=1, seq_len=16, seed=0) as loader:
        first_epoch = []
        while loader.epoch == 0:
            first_epoch.append(loader.next_batch()[0])
        second_epoch = [first_epoch.pop()]  # it was the first batch of epoch 1
        while loader.epoch == 1:
            second_epoch.append(loader.next_batch()[0])
        second_epoch.pop()
    assert len(first_epoch) == len(second_epoch)
    as_set = lambda batches: sorted(tuple(b[0].tolist()) for b in batches)  # noqa: E731
    assert as_set(first_epoch) == as_set(second_epoch)  # same windows ...
    assert [b.tolist() for b in first_epoch] != [b.tolist() for b in second_epoch]  # ... in a new order


def test_fixed_batches_are_the_same_on_every_call(source, cl100k):
    loader = BatchLoader(source, cl100k, split="val", batch_size=2, seq_len=16)
    first = loader.fixed_batches(3)
    other = BatchLoader(source, cl100k, split="val", batch_size=2, seq_len=16).fixed_batches(3)
    loader.next_batch()
    again = loader.fixed_batches(3)
    for (a, _), (b, _), (c, _) in zip(first, other, again, strict=True):
        assert torch.equal(a, b) and torch.equal(a, c)


def test_train_and_val_batches_share_no_document_text(source, cl100k):
    train_text = "".join(cl100k.decode(x.ravel().tolist()) for x, _ in BatchLoader(
        source, cl100k, split="train", batch_size=8, seq_len=64).fixed_batches(40))
    val_docs = [t for g in source.groups for t in source.split_documents("val", g)]
    assert val_docs and not any(doc in train_text for doc in val_docs)


def test_an_empty_split_is_a_clear_error(cl100k, memory_source):
    source = memory_source([["only one short document"]], val_fraction=0.01)
    loader = BatchLoader(source, cl100k, split="val", batch_size=1, seq_len=8)
    with pytest.raises(UserError, match="val split"):
        loader.next_batch()
    loader.close()


def test_bad_arguments_are_config_errors(source, cl100k):
    with pytest.raises(ConfigError):
        BatchLoader(source, cl100k, rank=2, world_size=2)
    with pytest.raises(ConfigError):
        BatchLoader(source, cl100k, split="test")


def test_token_streams_are_cached_between_loaders(source, cl100k, memory_source):
    BatchLoader(source, cl100k, batch_size=2, seq_len=16).fixed_batches(1)
    fresh = memory_source(TEXTS)
    BatchLoader(fresh, cl100k, batch_size=2, seq_len=16).fixed_batches(1)
    assert fresh.token_reads == {"cached": 1, "tokenized": 0}
    assert np.array_equal(fresh.chunk("train", 0, cl100k).tokens, source.chunk("train", 0, cl100k).tokens)


def test_on_status_reports_the_source(source, cl100k):
    seen = []
    with BatchLoader(source, cl100k, batch_size=2, seq_len=16, on_status=seen.append) as loader:
        loader.next_batch()
    assert seen[0]["source"] == "memory" and seen[0]["chunks"] == 3


@pytest.mark.slow  # reads three file formats through pyarrow
def test_path_sources_read_text_jsonl_and_parquet(tmp_path, cl100k):
    import json as jsonlib

    import pyarrow as pa
    import pyarrow.parquet as pq

    from tui_transformer.data import open_source

    folder = tmp_path / "corpus"
    (folder / "sub").mkdir(parents=True)
    (folder / "book.txt").write_text("\n\n".join(f"Paragraph {i} of the book. " * 40 for i in range(60)))
    (folder / "sub" / "notes.jsonl").write_text("\n".join(jsonlib.dumps({"id": f"n{i}", "text": f"note {i}"}) for i in range(50)))
    pq.write_table(pa.table({"text": [f"row {i} text" for i in range(50)]}), folder / "rows.parquet")
    (folder / "ignored.csv").write_text("a,b\n")
    source = open_source(str(folder), val_fraction=0.2)
    assert source.name == "path" and source.status()["files"] == 3
    docs = source.groups[0].load()
    assert sum(doc_id.startswith("n") for doc_id, _ in docs) == 50
    assert sum(text.startswith("Paragraph") for _, text in docs) > 10  # the book is cut into documents
    val = [t for t in source.split_documents("val", source.groups[0])]
    assert any(t.startswith("Paragraph") for t in val)  # so even a single book has a validation split
    x, y = BatchLoader(source, cl100k, batch_size=2, seq_len=32).fixed_batches(1)[0]
    assert x.shape == (2, 32)


@pytest.mark.parametrize("content, message", [("{not json", "expected a JSON object"), ('{"body": "x"}', "'text' field")])
def test_bad_jsonl_is_a_user_error_naming_the_line(tmp_path, cl100k, content, message):
    from tui_transformer.data import open_source

    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "fine"}\n' + content + "\n")
    with pytest.raises(UserError, match=rf"bad.jsonl:2: .*{message}"):
        BatchLoader(open_source(str(path)), cl100k, batch_size=1, seq_len=4).fixed_batches(1)


def test_unsupported_or_missing_paths_are_user_errors(tmp_path):
    from tui_transformer.data import open_source

    (tmp_path / "data.csv").write_text("a,b")
    with pytest.raises(UserError, match="unsupported data file"):
        open_source(str(tmp_path / "data.csv"))
    with pytest.raises(UserError, match="no .txt, .md, .jsonl, .parquet files"):
        open_source(str(tmp_path))


@pytest.mark.slow  # waits out injected stalls and retries on a loopback hub
def test_closing_does_not_wait_for_a_chunk_that_never_arrives(cl100k):
    """A stalled download held stop and quit for minutes: close() joined the prefetch thread without a limit."""
    import threading
    import time

    from tui_transformer.data.http import CLOSE_WAIT_S
    from tui_transformer.data.local_source import DocumentGroup, LocalSource

    entered, release = threading.Event(), threading.Event()

    def stalled() -> list[tuple[str, str]]:  # stands in for a download that gets no answer
        entered.set()
        release.wait(60)
        return [(f"late{i}", f"late document {i} " * 10) for i in range(20)]

    fast = [(f"fast{i}", f"document number {i} " * 10) for i in range(20)]
    source = LocalSource([DocumentGroup("fast", "fast", lambda: fast), DocumentGroup("stalled", "stalled", stalled)])
    loader = BatchLoader(source, cl100k, batch_size=2, seq_len=16, prefetch=256)
    loader.next_batch()
    assert entered.wait(30), "the prefetch thread never reached the second chunk"
    thread = loader._thread
    started = time.monotonic()
    loader.close()
    assert time.monotonic() - started < CLOSE_WAIT_S + 1.5
    release.set()
    thread.join(30)
    assert not thread.is_alive(), "the abandoned thread stopped once its download returned"
