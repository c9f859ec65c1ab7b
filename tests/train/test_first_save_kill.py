"""A kill -9 in the middle of a run's first checkpoint save.

The dead writer leaves ``checkpoints/.tmp-<pid>-...-latest.pt``. It is not a checkpoint: ``--resume``
must train the run from step 0, and the next resume or ``runs list`` deletes the leftover.
"""

import subprocess
import sys

import pytest

from tests.train.test_run_faults import FOREVER, TINY, kill_9, runs_dir, runs_list, start_trainer, wait_for
from tui_transformer.cli import main
from tui_transformer.train import checkpoint as ckpt

# A model whose checkpoint is ~20 MB: its save lasts long enough to be caught mid-write.
BIGGER = ["--d-model", "256", "--d-ff", "1024"]


def dead_writers_temp(checkpoints):
    """Write part of ``latest.pt`` through the real atomic writer in a process, then kill -9 it there."""
    script = ("import sys, time; from pathlib import Path; from tui_transformer.atomic import atomic_write\n"
              "with atomic_write(Path(sys.argv[1]) / 'latest.pt') as f:\n"
              "    f.write(b'PK' * 4096); f.flush(); print('writing', flush=True); time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", script, str(checkpoints)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "writing\n"
    kill_9(proc)
    (temp,) = checkpoints.glob(".tmp-*-latest.pt")
    return temp


@pytest.mark.slow  # trains a run in-process: seconds
def test_a_dead_writers_temp_file_is_no_checkpoint_and_is_cleaned_on_resume(corpus, capsys):
    assert main(["train", "--no-ui", "--data", str(corpus), *TINY, "--name", "w", "--max-steps", "1",
                 "--quiet"]) == 0
    checkpoints = runs_dir() / "w" / "checkpoints"
    for path in checkpoints.iterdir():
        path.unlink()  # the run as its first save found it
    temp = dead_writers_temp(checkpoints)
    capsys.readouterr()
    assert main(["train", "--no-ui", "--resume", "w", "--max-steps", "2"]) == 0
    assert "no checkpoint yet; training it from step 0" in "".join(capsys.readouterr())
    assert not temp.exists()
    assert ckpt.load(ckpt.find("w"))["step"] == 2


@pytest.mark.slow  # trains a run in-process: seconds
def test_runs_list_cleans_a_dead_writers_temp_file(corpus, capsys):
    assert main(["train", "--no-ui", "--data", str(corpus), *TINY, "--name", "w", "--max-steps", "1",
                 "--quiet"]) == 0
    temp = dead_writers_temp(runs_dir() / "w" / "checkpoints")
    (listed,) = runs_list(capsys)
    assert listed["name"] == "w" and not temp.exists()


@pytest.mark.slow  # a trainer process (torch import, setup, one step): ~8 s here
def test_kill_9_during_the_first_save_leaves_a_run_that_resumes(corpus, capsys):
    """It left checkpoints/.tmp-<pid>-...-latest.pt: `--resume w` said "no checkpoint yet (latest.pt does
    not exist)" and `--name w` said "already exists; use --resume w", each pointing to the other."""
    proc = start_trainer("--data", str(corpus), *TINY, *BIGGER, "--name", "w", *FOREVER[:2],
                         "--eval-interval", "100000", "--checkpoint-interval", "1")
    checkpoints = runs_dir() / "w" / "checkpoints"
    try:
        wait_for(lambda: any(checkpoints.glob(".tmp-*")), proc, "the first save's temp file", timeout=300)
        kill_9(proc)
    finally:
        proc.kill()
        proc.communicate()
    assert not (checkpoints / "latest.pt").exists(), "the save finished before the kill: no fault was injected"
    (listed,) = runs_list(capsys)
    assert listed["name"] == "w"
    assert not any(checkpoints.glob(".tmp-*"))  # the listing cleaned up the dead writer's file
    assert main(["train", "--no-ui", "--resume", "w", *BIGGER, "--max-steps", "1", "--quiet"]) == 0
    assert ckpt.load(ckpt.find("w"))["step"] == 1
