"""Real DDP: two CPU processes under torchrun (gloo), and a resume of the same run."""

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tui_transformer.train import checkpoint as ckpt


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def torchrun(args: list[str], env: dict) -> list[dict]:
    launcher = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    cmd = [launcher] if launcher else [sys.executable, "-m", "torch.distributed.run"]
    cmd += ["--nproc_per_node=2", f"--master_port={free_port()}", "-m", "tui_transformer", "train", "--no-ui", "--json-events", *args]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


@pytest.mark.slow  # two torch processes per launch, two launches: ~25 s on 2 cores
def test_torchrun_two_ranks_stay_identical_and_resume(corpus, tmp_path):
    runs = tmp_path / "runs"
    env = {**os.environ, "TUI_TRANSFORMER_RUNS": str(runs), "OMP_NUM_THREADS": "1"}
    common = ["--preset", "tiny", "--data", str(corpus), "--tokenizer", "bpe-300", "--device", "cpu",
              "--d-model", "32", "--n-layers", "2", "--n-heads", "2", "--d-ff", "64", "--seq-len", "16",
              "--batch-size", "4", "--eval-interval", "2", "--eval-batches", "2"]
    events = torchrun([*common, "--name", "ddp", "--max-steps", "3"], env)
    # only rank 0 reports: one RunStarted, one StepMetrics per step
    assert [e["event"] for e in events].count("RunStarted") == 1
    steps = [e for e in events if e["event"] == "StepMetrics"]
    assert [s["step"] for s in steps] == [1, 2, 3]
    assert steps[0]["tokens_seen"] == 2 * 4 * 16  # both ranks' micro-batches count
    logs = [e["message"] for e in events if e["event"] == "LogMessage"]
    assert any("2 replicas hold identical weights" in m for m in logs), logs
    saved = ckpt.load(runs / "ddp" / "checkpoints" / "latest.pt")
    assert saved["world_size"] == 2 and len(saved["ranks"]) == 2
    assert saved["ranks"][0]["loader"]["rank"] == 0 and saved["ranks"][1]["loader"]["rank"] == 1

    events = torchrun(["--resume", "ddp", "--max-steps", "5"], env)
    (started,) = [e for e in events if e["event"] == "RunStarted"]
    assert started["resumed_from_step"] == 3
    assert [e["step"] for e in events if e["event"] == "StepMetrics"] == [4, 5]
    assert any("identical weights" in e.get("message", "") for e in events)
    assert ckpt.load(runs / "ddp" / "checkpoints" / "latest.pt")["step"] == 5
