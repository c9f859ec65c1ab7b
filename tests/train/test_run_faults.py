"""Fault injection on a run directory with real processes: two writers, and kill -9 during setup.

Each case ends with what a user would do next (``runs list``, ``--resume``, ``--name``), run
in-process through the CLI, and checks that it works.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui_transformer.cli import main
from tui_transformer.train import checkpoint as ckpt
from tui_transformer.train.events import RunStarted
from tui_transformer.train.metrics import read_events

TINY = ["--preset", "tiny", "--tokenizer", "bpe-300", "--d-model", "32", "--n-layers", "2", "--n-heads", "2",
        "--d-ff", "64", "--seq-len", "16", "--batch-size", "8", "--eval-batches", "2", "--device", "cpu"]
FOREVER = ["--max-steps", "100000", "--eval-interval", "100000", "--checkpoint-interval", "100000"]


def runs_dir() -> Path:
    return Path(os.environ["TUI_TRANSFORMER_RUNS"])


def start_trainer(*args: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "tui_transformer", "train", "--no-ui", *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(condition, proc: subprocess.Popen, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"the trainer exited ({proc.returncode}) before {what}: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.001)


def kill_9(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)


def runs_list(capsys) -> list[dict]:
    capsys.readouterr()
    assert main(["runs", "list", "--json"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def sessions(run: Path) -> int:
    return sum(isinstance(event, RunStarted) for event in read_events(run / "metrics.jsonl"))


@pytest.mark.slow  # two trainers importing torch at once: ~15 s on 2 busy cores (in-process sample: test_trainer)
def test_two_writers_one_is_refused_at_once_and_a_killed_one_blocks_nothing(corpus, capsys):
    """`train --resume R & train --resume R`: both trained, logged steps twice and wrote latest.pt."""
    assert main(["train", "--no-ui", "--data", str(corpus), *TINY, "--name", "r", "--max-steps", "2", "--quiet"]) == 0
    run = runs_dir() / "r"
    pair = [start_trainer("--resume", "r", *FOREVER) for _ in range(2)]
    try:
        deadline = time.monotonic() + 120
        while all(proc.poll() is None for proc in pair) and time.monotonic() < deadline:
            time.sleep(0.01)
        (loser,) = [proc for proc in pair if proc.poll() is not None]
        (winner,) = [proc for proc in pair if proc is not loser]
        err = loser.communicate()[1]
        assert loser.returncode == 2, err
        assert err.startswith(f"error: run r is being trained right now by process {winner.pid}"), err
        assert "Traceback" not in err
        wait_for(lambda: sessions(run) == 2, winner, "the winner's RunStarted")
        (listed,) = runs_list(capsys)
        assert listed["state"] == "running"
        kill_9(winner)
    finally:
        for proc in pair:
            proc.kill()
            proc.communicate()
    assert sessions(run) == 2  # the original session and the winner's: the loser wrote nothing
    (listed,) = runs_list(capsys)
    assert listed["state"] == "interrupted"  # the killed writer's marker no longer counts
    assert main(["train", "--no-ui", "--resume", "r", "--max-steps", "4", "--quiet"]) == 0  # its lock is gone too
    assert ckpt.load(ckpt.find("r"))["step"] == 4 and sessions(run) == 3


# Moments of a new run's setup, each a file to wait for; the trainer is killed the instant it appears.
MOMENTS = {
    "folder": "z",
    "config": "z/config.toml",
    "metrics": "z/metrics.jsonl",  # written with RunStarted, the last thing setup does
}


@pytest.mark.slow  # trains or resumes a run in-process
@pytest.mark.parametrize("moment", MOMENTS)
def test_kill_9_during_setup_leaves_a_run_that_is_listed_and_resumed_or_a_free_name(moment, corpus, capsys):
    """It left metrics.jsonl, RUNNING and an empty checkpoints/ with no config.toml: `--name z` said
    "already exists", `--resume z` said "has no config.toml", and `runs list` said "no runs yet"."""
    proc = start_trainer("--data", str(corpus), *TINY, "--name", "z", *FOREVER)
    try:
        wait_for((runs_dir() / MOMENTS[moment]).exists, proc, MOMENTS[moment])
        kill_9(proc)
    finally:
        proc.kill()
        proc.communicate()
    run = runs_dir() / "z"
    new_again = ["train", "--no-ui", "--data", str(corpus), *TINY, "--name", "z", "--max-steps", "2", "--quiet"]
    if (run / "config.toml").is_file():
        (listed,) = runs_list(capsys)
        assert listed["name"] == "z" and listed["preset"] == "tiny" and listed["state"] in ("new", "interrupted")
        assert main(new_again) == 2
        assert "already exists; use --resume z" in capsys.readouterr().err
        assert main(["train", "--no-ui", "--resume", "z", "--max-steps", "2", "--quiet"]) == 0
    else:  # killed before config.toml: nothing to list, and the name is free again
        assert runs_list(capsys) == []
        assert main(new_again) == 0
    assert ckpt.load(ckpt.find("z"))["step"] == 2
    assert not (run / "RUNNING").exists()


@pytest.mark.slow  # trains or resumes a run in-process
def test_a_setup_leftover_of_an_older_version_is_reused_by_its_name(corpus, capsys):
    """metrics.jsonl, RUNNING (a dead pid) and an empty checkpoints/, no config.toml: the name is free."""
    run = runs_dir() / "z"
    (run / "checkpoints").mkdir(parents=True)
    (run / "metrics.jsonl").write_text('{"event": "LogMessage", "level": "info", "message": "opening data"}\n')
    (run / "RUNNING").write_text("999999999")
    assert runs_list(capsys) == []
    assert main(["train", "--no-ui", "--data", str(corpus), *TINY, "--name", "z", "--max-steps", "2", "--quiet"]) == 0
    assert ckpt.load(ckpt.find("z"))["step"] == 2 and sessions(run) == 1
    (listed,) = runs_list(capsys)
    assert listed["name"] == "z" and listed["state"] == "finished (max_steps)"


def test_a_folder_with_other_files_is_never_taken_over(corpus, capsys):
    run = runs_dir() / "z"
    run.mkdir(parents=True)
    (run / "notes.txt").write_text("mine")
    assert main(["train", "--no-ui", "--data", str(corpus), *TINY, "--name", "z", "--max-steps", "2", "--quiet"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert sorted(p.name for p in run.iterdir()) == ["notes.txt"]


@pytest.mark.slow  # three trainer processes killed in training, then one resumed to the end: about 20 s here
def test_kill_9_at_random_moments_of_training_always_leaves_a_resumable_run(corpus, capsys):
    import random

    rng = random.Random(7)
    every_step = ["--max-steps", "100000", "--eval-interval", "100000", "--checkpoint-interval", "3"]
    run = runs_dir() / "k"
    kills = []
    for attempt in range(3):
        first = ("--name", "k") if attempt == 0 else ("--resume", "k")
        proc = start_trainer("--data", str(corpus), *TINY, *first, *every_step) if attempt == 0 else \
            start_trainer(*first, *every_step)
        try:
            wait_for(lambda: (run / "checkpoints" / "latest.pt").is_file() and sessions(run) == attempt + 1, proc,
                     "a checkpoint of this session")
            time.sleep(rng.uniform(0.0, 1.5))  # then anywhere: mid-step, mid-save, mid-metrics line
            kill_9(proc)
        finally:
            proc.kill()
            proc.communicate()
        kills.append(ckpt.load(ckpt.find("k"))["step"])  # the checkpoint left behind loads, verified
        (listed,) = runs_list(capsys)
        assert listed["name"] == "k" and listed["state"] == "interrupted"
    assert main(["train", "--no-ui", "--resume", "k", "--max-steps", str(max(kills) + 3), "--quiet"]) == 0
    assert ckpt.load(ckpt.find("k"))["step"] == max(kills) + 3
    assert sessions(run) == 4
