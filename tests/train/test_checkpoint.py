"""Checkpoint files: atomic, verified, and loud about damage."""

import errno
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from tui_transformer.train import checkpoint as ckpt
from tui_transformer.train.checkpoint import CheckpointError


def payload(scale: float = 1.0, size: int = 1000) -> dict:
    return {"model": {"w": torch.arange(size, dtype=torch.float32) * scale}, "step": 3, "note": "hi",
            "rng": ckpt.capture_rng_state(), "config": {"model": {"d_model": 8}}}


def test_round_trip_is_weights_only_loadable(tmp_path):
    path = tmp_path / "latest.pt"
    ckpt.save(payload(), path)
    raw = torch.load(path, weights_only=True)  # no code can run: plain data and tensors only
    assert raw["step"] == 3 and raw["format"] == ckpt.FORMAT
    loaded = ckpt.load(path)
    assert torch.equal(loaded["model"]["w"], payload()["model"]["w"])
    assert not [p for p in tmp_path.iterdir() if p.name != "latest.pt"]  # no temp file left behind


def test_rng_state_round_trip():
    state = ckpt.capture_rng_state()
    expected = (torch.rand(3), __import__("random").random())
    ckpt.restore_rng_state(state)
    assert torch.equal(torch.rand(3), expected[0]) and __import__("random").random() == expected[1]


def test_truncated_file_is_a_clear_error(tmp_path):
    path = tmp_path / "latest.pt"
    ckpt.save(payload(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        ckpt.load(path)


def test_flipped_byte_in_tensor_data_is_detected(tmp_path):
    path = tmp_path / "latest.pt"
    ckpt.save(payload(size=100_000), path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the tensor bytes: torch.load alone accepts this silently
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupt"):
        ckpt.load(path)


def test_garbage_and_foreign_files(tmp_path):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(os.urandom(4096))
    with pytest.raises(CheckpointError, match="corrupt"):
        ckpt.load(garbage)
    foreign = tmp_path / "foreign.pt"
    torch.save({"w": torch.zeros(2)}, foreign)
    with pytest.raises(CheckpointError, match="not a tui-transformer checkpoint"):
        ckpt.load(foreign)
    with pytest.raises(CheckpointError, match="not found"):
        ckpt.load(tmp_path / "missing.pt")


class Gadget:  # an arbitrary class: unpickling it would mean running our code
    pass


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": ckpt.FORMAT, "gadget": Gadget()}, path)
    with pytest.raises(CheckpointError, match="refusing to load"):
        ckpt.load(path)


def test_disk_full_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "latest.pt"
    ckpt.save(payload(1.0), path)

    def full_disk(obj, file):
        file.write(b"PK\x03\x04 half a checkpoint")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(CheckpointError, match="No space left on device; the previous latest.pt is intact"):
        ckpt.save(payload(2.0), path)
    with pytest.raises(CheckpointError, match=r"nothing was saved \(there was no best.pt before\)"):
        ckpt.save(payload(2.0), tmp_path / "best.pt")  # it used to promise an intact previous checkpoint here too
    monkeypatch.undo()
    assert torch.equal(ckpt.load(path)["model"]["w"], payload(1.0)["model"]["w"])
    assert [p.name for p in tmp_path.iterdir()] == ["latest.pt"]


FULL_DISK_SAVER = """
import resource, sys, torch
from pathlib import Path
from tui_transformer.train import checkpoint as ckpt
resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))  # files over 1 MB fail to grow, like a full disk
try:
    ckpt.save({"model": {"w": torch.ones(2_000_000)}, "step": 2}, Path(sys.argv[1]))
except ckpt.CheckpointError as error:
    print(error)
"""


@pytest.mark.slow  # a subprocess that imports torch
def test_a_real_failed_write_is_a_checkpoint_error_and_leaves_no_temp_file(tmp_path):
    """torch.save reports a failed write as a RuntimeError (not OSError): it escaped as a traceback."""
    path = tmp_path / "latest.pt"
    ckpt.save({"model": {"w": torch.zeros(10)}, "step": 1}, path)
    result = subprocess.run([sys.executable, "-c", FULL_DISK_SAVER, str(path)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert "is the disk full?" in result.stdout and "the previous latest.pt is intact" in result.stdout
    assert ckpt.load(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["latest.pt"]


SAVER = """
import sys, torch
from pathlib import Path
from tui_transformer.train import checkpoint as ckpt
path = Path(sys.argv[1])
i = 0
while True:
    i += 1
    print(i, flush=True)
    ckpt.save({"model": {"w": torch.full((2_000_000,), float(i))}, "step": i}, path)
"""


@pytest.mark.slow  # a subprocess that imports torch
def test_killed_during_save_leaves_a_loadable_checkpoint(tmp_path):
    path = tmp_path / "latest.pt"
    ckpt.save({"model": {"w": torch.full((2_000_000,), 0.0)}, "step": 0}, path)
    proc = subprocess.Popen([sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        for _ in range(2):  # let it start a few saves of an 8 MB checkpoint, then kill it mid-write
            proc.stdout.readline()
        time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    loaded = ckpt.load(path)
    step = loaded["step"]
    assert step >= 1 and torch.all(loaded["model"]["w"] == float(step))
    ckpt.save({"model": {}, "step": -1}, path)  # the next save sweeps the killed writer's temp file
    assert [p.name for p in tmp_path.iterdir()] == ["latest.pt"]
