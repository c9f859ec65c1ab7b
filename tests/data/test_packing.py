"""Packing: EOT between documents, contiguous windows, shifted targets, no document dropped."""

import numpy as np

from tui_transformer.data import BatchLoader
from tui_transformer.data.packing import gather_windows, pack_documents, window_count



EOT = 99


def test_eot_introduces_every_document():
    stream = pack_documents([[1, 2, 3], [4], [], [5, 6]], EOT)
    assert stream.tolist() == [EOT, 1, 2, 3, EOT, 4, EOT, EOT, 5, 6]


def test_windows_overlap_by_one_and_cover_every_token():
    stream = np.arange(23, dtype=np.uint32)
    n = window_count(len(stream), 5)
    windows = gather_windows(stream, np.arange(n), 5)
    assert n == 5 and windows.shape == (5, 6)
    for a, b in zip(windows, windows[1:]):
        assert a[-1] == b[0]  # contiguous: the next window starts where this one's targets end
        assert (np.diff(a) == 1).all()
    targets = windows[:, 1:].ravel().tolist()
    assert set(range(1, 23)) <= set(targets)  # every token after the first is a target
    assert windows[-1].tolist() == [20, 21, 22, 0, 1, 2]  # the tail wraps instead of being dropped


def test_a_stream_shorter_than_a_window_still_gives_one():
    assert window_count(3, 8) == 1
    assert gather_windows(np.array([7, 8, 9], dtype=np.uint32), np.array([0]), 4).tolist() == [[7, 8, 9, 7, 8]]


def test_loader_targets_are_inputs_shifted_and_short_documents_survive(cl100k, memory_source):
    texts = ["a"] + [f"sentence {i} of a longer document that spans several tokens." for i in range(60)] + ["b"]
    source = memory_source([texts], val_fraction=0.5)
    loader = BatchLoader(source, cl100k, split="val", batch_size=2, seq_len=16)
    chunk = source.chunk("val", 0, cl100k)
    n_windows = window_count(len(chunk.tokens), 16)
    batches = loader.fixed_batches(-(-n_windows // 2))
    xs = np.concatenate([x.numpy() for x, _ in batches])[:n_windows]
    ys = np.concatenate([y.numpy() for _, y in batches])[:n_windows]
    assert (xs[:, 1:] == ys[:, :-1]).all()
    # validation keeps stream order, so the windows' targets re-assemble the stream exactly
    rebuilt = np.concatenate([xs[:1, 0], ys.ravel()])[: len(chunk.tokens)]
    assert rebuilt.tolist() == chunk.tokens.tolist()
    eots = int((chunk.tokens == cl100k.eot_id).sum())
    val_texts = source.split_documents("val", source.groups[0])
    assert eots == len(val_texts)  # one EOT per document: none was dropped, however short
    decoded = cl100k.decode(chunk.tokens.tolist())
    assert all(text in decoded for text in val_texts)
