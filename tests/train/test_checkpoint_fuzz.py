"""Byte flips in a checkpoint: every one is refused with one line naming the file, none is a traceback.

The checkpoint is a real training payload (a tiny model after one AdamW step, RNG states, the
config, a tokenizer identity), so the pickle holds every kind of plain value that a resume reads.
Each case XORs one byte with a nonzero mask, loads, and puts the byte back. A flip is *refused*
(a one-line CheckpointError that names the file) or *harmless* (the loaded payload is equal to the
original in every value and every tensor byte); anything else fails the test.

Counts measured (docs/reliability.md): a seeded sample of 400 positions plus every byte of
``data.pkl`` in the default run, every byte of the file in the slow sweep; each is asserted below.
"""

from __future__ import annotations

import os
import random
import zipfile
from pathlib import Path

import pytest
import torch

from tui_transformer.model import DecoderTransformer
from tui_transformer.model.config import ModelConfig
from tui_transformer.train import checkpoint as ckpt
from tui_transformer.train.checkpoint import CheckpointError
from tui_transformer.train.config import TrainConfig
from tui_transformer.train.optimizer import build_optimizer

SAMPLE = 400


def tiny_training_payload() -> dict:
    """What the trainer saves after one step of a d8, one-layer model: about 60 KB on disk."""
    config = TrainConfig(model=ModelConfig(vocab_size=300, d_model=8, n_heads=2, n_layers=1, d_ff=16, max_seq_len=8),
                         device="cpu")
    torch.manual_seed(0)
    model = DecoderTransformer(config.model)
    optimizer = build_optimizer(model, config, "cpu")
    model(torch.randint(0, 300, (2, 8))).sum().backward()
    optimizer.step()
    ranks = [{"loader": {"epoch": 0, "position": 5, "order_seed": 3}, "rng": ckpt.capture_rng_state()}]
    identity = {"name": "bpe-300", "vocab_size": 300, "eot_id": 299, "sha256": "ab" * 32}
    return ckpt.training_payload(model, optimizer, None, ckpt.Progress(5, 80, 1.5, 5.25), ranks, config.to_dict(),
                                 identity)


def data_pkl_span(path: Path) -> range:
    """The byte positions of the pickle (``<archive>/data.pkl``: every plain value) inside the zip."""
    with zipfile.ZipFile(path) as archive:
        (info,) = [i for i in archive.infolist() if i.filename.endswith("/data.pkl")]
    with open(path, "rb") as file:
        file.seek(info.header_offset + 26)  # the local header's name and extra-field lengths
        name_len, extra_len = int.from_bytes(file.read(2), "little"), int.from_bytes(file.read(2), "little")
    start = info.header_offset + 30 + name_len + extra_len
    return range(start, start + info.compress_size)  # torch stores its members uncompressed


def same(a, b) -> bool:
    """Equal in every value, and bitwise in every tensor."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def flip_and_load(path: Path, fd: int, position: int, mask: int, original: dict) -> str:
    """One case: 'refused' or 'harmless'; anything else is an assertion error that names the case."""
    byte = os.pread(fd, 1, position)
    os.pwrite(fd, bytes([byte[0] ^ mask]), position)
    try:
        loaded = ckpt.load(path)
    except CheckpointError as error:
        message = str(error)
        assert "\n" not in message and str(path) in message, f"byte {position} ^ {mask:#x}: {message!r}"
        return "refused"
    except Exception as error:  # the defect this file guards against: a traceback from a damaged file
        raise AssertionError(f"byte {position} ^ {mask:#x} escaped as {type(error).__name__}: {error}") from error
    finally:
        os.pwrite(fd, byte, position)
    assert same(loaded, original), f"byte {position} ^ {mask:#x} loaded with changed values"
    return "harmless"


def fuzz(path: Path, positions, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    original = ckpt.load(path)
    counts = {"tried": 0, "refused": 0, "harmless": 0}
    fd = os.open(path, os.O_RDWR)
    try:
        for position in positions:
            counts[flip_and_load(path, fd, position, rng.choice([1 << rng.randrange(8), 0xFF, rng.randrange(1, 256)]),
                                 original)] += 1
            counts["tried"] += 1
    finally:
        os.close(fd)
    assert same(ckpt.load(path), original)  # every flip was put back
    return counts


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("fuzz") / "latest.pt"
    ckpt.save(tiny_training_payload(), path)
    return path


def test_every_byte_of_the_pickle_and_a_sample_of_the_rest_are_refused(saved):
    size = saved.stat().st_size
    pickle_bytes = data_pkl_span(saved)
    sample = random.Random(15).sample(range(size), SAMPLE)
    counts = fuzz(saved, [*pickle_bytes, *sample], seed=1)
    print(f"checkpoint of {size} bytes, data.pkl {len(pickle_bytes)} bytes: {counts}")
    assert counts == {"tried": len(pickle_bytes) + SAMPLE, "refused": len(pickle_bytes) + SAMPLE, "harmless": 0}


@pytest.mark.slow  # every byte of a 67 KB file: 67k loads, about 7 s on an idle core
def test_every_byte_of_the_file_is_refused(saved):
    size = saved.stat().st_size
    counts = fuzz(saved, range(size), seed=2)
    print(f"checkpoint of {size} bytes: {counts}")
    assert counts == {"tried": size, "refused": size, "harmless": 0}


def test_the_step_byte_that_changed_a_resume_is_refused(saved, tmp_path):
    """The review changed the pickled step from 5 to 9: --resume then refused "already reached its max
    steps budget (step 9)", and generate and eval ran on silently."""
    data, damaged = saved.read_bytes(), tmp_path / "latest.pt"
    for at in (i for i in data_pkl_span(saved) if data[i] == 5):  # the step's byte: the 5 whose 9 torch reads
        damaged.write_bytes(data[:at] + b"\x09" + data[at + 1:])
        try:
            if torch.load(damaged, weights_only=True)["step"] == 9:
                break
        except Exception:
            continue
    else:
        pytest.fail("no byte of data.pkl holds the step")
    with pytest.raises(CheckpointError, match="its bytes do not match the sha256 recorded at its end"):
        ckpt.load(damaged)


def test_a_checkpoint_is_a_plain_torch_zip_with_a_readable_trailer(saved):
    """`torch.load` reads it directly, and `head -c -89 | sha256sum` checks it by hand."""
    import hashlib

    data = saved.read_bytes()
    trailer = data[-ckpt.TRAILER_SIZE:]
    assert trailer == b"\ntui-transformer sha256 " + hashlib.sha256(data[:-89]).hexdigest().encode() + b"\n"
    assert torch.load(saved, weights_only=True)["step"] == 5


def test_a_cut_off_trailer_is_refused_and_a_version_1_file_still_loads(saved, tmp_path):
    cut = tmp_path / "cut.pt"
    cut.write_bytes(saved.read_bytes()[:-ckpt.TRAILER_SIZE])  # a complete zip, no trailer: looks like version 1
    with pytest.raises(CheckpointError, match="the sha256 trailer at its end is missing or altered"):
        ckpt.load(cut)
    old = tmp_path / "old.pt"  # what version 1 wrote: the tensors' digest inside, no trailer
    payload = {"format": ckpt.FORMAT, "version": 1, **tiny_training_payload()}
    torch.save(payload | {"digest": ckpt.digest(payload)}, old)
    assert ckpt.load(old)["step"] == 5
    next(iter(payload["model"].values())).add_(1)  # a changed weight under the old digest
    torch.save(payload | {"digest": "0" * 64}, old)
    with pytest.raises(CheckpointError, match="tensors do not match their recorded digest"):
        ckpt.load(old)


def test_version_1_files_never_escape_as_a_traceback(tmp_path):
    """Version 1 left the plain values unprotected: a flip there may load, but it never crashes the loader."""
    old = tmp_path / "old.pt"
    payload = {"format": ckpt.FORMAT, "version": 1, **tiny_training_payload()}
    torch.save(payload | {"digest": ckpt.digest(payload)}, old)
    original = ckpt.load(old)
    rng = random.Random(7)
    fd = os.open(old, os.O_RDWR)
    outcomes = {"refused": 0, "loaded": 0}
    try:
        for position in rng.sample(list(data_pkl_span(old)), 300):
            byte = os.pread(fd, 1, position)
            os.pwrite(fd, bytes([byte[0] ^ (1 << rng.randrange(8))]), position)
            try:
                ckpt.load(old)
                outcomes["loaded"] += 1
            except CheckpointError as error:
                assert "\n" not in str(error) and str(old) in str(error)
                outcomes["refused"] += 1
            finally:
                os.pwrite(fd, byte, position)
    finally:
        os.close(fd)
    print(f"version 1, 300 bit flips in data.pkl: {outcomes}")
    assert outcomes["refused"] > 0 and same(ckpt.load(old), original)
