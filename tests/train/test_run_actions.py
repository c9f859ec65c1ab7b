"""``runs rename|note|delete``, and what ``runs list`` adds: alerts, best evals and the note.

The runs are real: trained by ``run_training`` on the tiny config, then copied per test. A running
run is one whose lock is held the way the trainer holds it.
"""

from __future__ import annotations

import hashlib
import json
import os
import pty
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui_transformer.cli import main
from tui_transformer.train import run_training
from tui_transformer.train.events import Alert, EvalResult, RunStarted, StepMetrics
from tui_transformer.train.metrics import MetricsWriter, read_events
from tui_transformer.train.run_compare import metric_history, summary
from tui_transformer.train.run_scan import scan_metrics
from tui_transformer.train.run_state import RunState
from tui_transformer.train.runs import RunDirectory, list_runs, run_info


@pytest.fixture(scope="module")
def trained(tmp_path_factory, corpus, session_cache):
    """One real finished run (with checkpoints and evals), trained once for the module (the tiny_config of conftest)."""
    from tui_transformer.model.config import ModelConfig
    from tui_transformer.train.config import TrainConfig

    folder = tmp_path_factory.mktemp("trained")
    config = TrainConfig(
        preset="tiny", model=ModelConfig(vocab_size=300, d_model=32, n_heads=2, n_layers=2, d_ff=64, max_seq_len=16,
                                         dropout=0.0, attention="explicit"),
        data=str(corpus), tokenizer="bpe-300", device="cpu", seed=3, batch_size=4, accumulation_steps=1, lr=3e-3,
        max_steps=6, eval_interval=2, eval_batches=2, sample_interval=1000, sample_tokens=8, checkpoint_interval=1000,
        run_dir=str(folder), run_name="first")
    with pytest.MonkeyPatch.context() as patch:  # the per-test folders of tests/conftest.py are not set up yet
        patch.setenv("TUI_TRANSFORMER_CACHE", str(session_cache))
        return Path(run_training(config).run_dir)


@pytest.fixture
def runs(trained, tmp_path) -> Path:
    """The runs folder (TUI_TRANSFORMER_RUNS, see tests/conftest.py) holding a copy of the trained run as ``first``."""
    root = tmp_path / "runs"
    shutil.copytree(trained, root / "first")
    return root


def digests(folder: Path) -> dict[str, str]:
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file() and path.name not in ("config.toml", "run.lock")}


def listed(capsys) -> dict[str, dict]:
    assert main(["runs", "list", "--json"]) == 0
    return {row["name"]: row for row in map(json.loads, capsys.readouterr().out.splitlines())}


@pytest.fixture
def trainer_lock(runs):
    """The run ``first`` held the way a trainer holds it (``RunDirectory.resume``: its RunLock, and the RUNNING marker).

    A flock belongs to an open file, not to a process, so this lock refuses the actions exactly as a
    trainer in another process would (starting one would cost seconds of torch import per test).
    """
    run = RunDirectory.resume(runs / "first")
    (runs / "first" / "RUNNING").write_text(str(os.getppid()))  # the marker names the trainer: another process
    yield run
    run.close()


@pytest.mark.slow  # trains or resumes a run in-process
def test_rename_keeps_every_file_and_the_run_lists_under_its_new_name(runs, capsys):
    before = digests(runs / "first")
    assert main(["runs", "rename", "first", "rope-try"]) == 0
    assert "renamed to rope-try" in capsys.readouterr().out
    assert not (runs / "first").exists()
    assert digests(runs / "rope-try") == before, "checkpoints, metrics and samples are all kept, byte for byte"
    assert 'run_name = "rope-try"' in (runs / "rope-try" / "config.toml").read_text()
    rows = listed(capsys)
    assert list(rows) == ["rope-try"] and rows["rope-try"]["last_step"] == 6
    assert not (runs / "rope-try" / "RUNNING").exists(), "the rename's own lock leaves no marker behind"


@pytest.mark.parametrize("args, message", [
    (["rename", "first", "second"], "second already exists; pick another name"),
    (["rename", "first", "a b"], "may only use letters, digits"),
    (["rename", "first", ".sweeps"], "may not start with '.'"),
    (["rename", "nope", "x"], "no run called 'nope'"),
    (["note", "nope", "x"], "no run called 'nope'"),
    (["note", "first", "two\nlines"], "a note is one line"),
    (["delete", "nope", "--yes"], "no run called 'nope'"),
])
def test_bad_input_is_one_line_and_loses_nothing(runs, capsys, args, message):
    shutil.copytree(runs / "first", runs / "second")
    before = {name: digests(runs / name) for name in ("first", "second")}
    assert main(["runs", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1
    assert {name: digests(runs / name) for name in ("first", "second")} == before


def test_a_running_run_is_neither_renamed_nor_deleted(runs, capsys, trainer_lock):
    before = digests(runs / "first")
    for args in (["rename", "first", "other"], ["delete", "first", "--yes"]):
        assert main(["runs", *args]) == 2
        err = capsys.readouterr().err
        assert f"run first is being trained right now by process {os.getppid()};" in err
    assert digests(runs / "first") == before and not (runs / "other").exists()
    assert listed(capsys)["first"]["state"] == "running"
    assert main(["runs", "note", "first", "a note while it trains"]) == 0, "a note never touches the trainer's files"


def test_the_refusal_says_when_the_trainer_is_this_very_process(runs):
    # A dashboard that trains a run and is asked to rename it named "another process".
    from tui_transformer.errors import UserError
    from tui_transformer.train.run_actions import rename_run

    run = RunDirectory.resume(runs / "first")  # this process trains it
    try:
        with pytest.raises(UserError, match=rf"by this process \(pid {os.getpid()}: it is training here\); stop it first"):
            rename_run(runs / "first", "other")
    finally:
        run.close()


def test_a_new_run_reads_running_from_its_first_moment(runs, capsys):
    # A new run read "interrupted" in runs list, the Runs screen and the pickers while it trained: taking the
    # lock wrote RUNNING, and clearing the folder for the new run deleted it at once.
    from tui_transformer.data import get_tokenizer
    from tui_transformer.presets import PRESETS

    run = RunDirectory.create(PRESETS["tiny"].with_overrides(run_name="fresh"), get_tokenizer("cl100k_base"))
    try:
        assert run_info(run.path).state is RunState.RUNNING
        assert listed(capsys)["fresh"]["state"] == "running"
    finally:
        run.close()
    assert not run.path.exists(), "a setup that never started leaves nothing, its marker and lock included"


def test_delete_yes_removes_the_run_and_nothing_else(runs, capsys):
    shutil.copytree(runs / "first", runs / "second")
    assert main(["runs", "delete", "first", "--yes"]) == 0
    assert "deleted first" in capsys.readouterr().out
    assert sorted(path.name for path in runs.iterdir()) == ["second"]
    assert list(listed(capsys)) == ["second"]


def test_delete_refuses_a_run_outside_the_runs_folder(runs, tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(runs / "first", elsewhere)
    assert main(["runs", "delete", str(elsewhere), "--yes"]) == 2
    assert "is not a run in the runs folder" in capsys.readouterr().err
    assert (elsewhere / "config.toml").is_file()


def test_delete_without_yes_and_without_a_terminal_refuses(runs, capsys):
    # pytest's stdin is not a terminal: nobody could answer
    assert main(["runs", "delete", "first"]) == 2
    assert "no terminal to confirm on; add --yes" in capsys.readouterr().err
    assert (runs / "first" / "config.toml").is_file()


@pytest.mark.slow  # the CLI in a subprocess on a pseudo-terminal
@pytest.mark.parametrize("answer, kept", [(b"n\n", True), (b"y\n", False)])
def test_delete_asks_on_a_terminal(runs, answer, kept):
    """A real pseudo-terminal as the command's stdin: it asks, and does what the answer says."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "tui_transformer.cli", "runs", "delete", "first"],
                               stdin=follower, stdout=follower, stderr=follower, env=os.environ.copy())
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 60
    while b"[y/N]" not in seen and time.monotonic() < deadline:
        seen += os.read(leader, 4096)
    assert b"delete run first (finished (max_steps), step 6) with its checkpoints? [y/N]" in seen
    os.write(leader, answer)
    assert process.wait(timeout=60) == (1 if kept else 0)
    os.close(leader)
    assert (runs / "first").exists() == kept


def test_a_note_shows_in_runs_list_and_an_empty_one_removes_it(runs, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # the table's width: a note is not wrapped mid-word
    assert main(["runs", "note", "first", "  rope, lr 3e-3: best so far  "]) == 0
    capsys.readouterr()
    assert listed(capsys)["first"]["note"] == "rope, lr 3e-3: best so far"
    assert main(["runs", "note", "first", "rope wins"]) == 0
    assert main(["runs", "list"]) == 0
    assert "rope wins" in capsys.readouterr().out
    assert main(["runs", "note", "first", ""]) == 0
    capsys.readouterr()
    assert listed(capsys)["first"]["note"] == "" and not (runs / "first" / "note.txt").exists()


def test_runs_list_counts_the_doctor_alerts_and_the_best_evals(runs, capsys):
    events = list(read_events(runs / "first" / "metrics.jsonl"))
    evals = [e for e in events if isinstance(e, EvalResult)]
    writer = MetricsWriter(runs / "first")
    for step in (7, 8):
        writer.write(Alert(step=step, rule="loss spike", message="the train loss jumped", learn="Model and training"))
    writer.close()
    row = listed(capsys)["first"]
    assert row["alerts"] == 2
    assert row["best_val_loss"] == min(e.val_loss for e in evals) and row["best_val_bpb"] == min(e.val_bpb for e in evals)
    assert main(["runs", "list"]) == 0
    header = next(line for line in capsys.readouterr().out.splitlines() if "alerts" in line)
    assert "val bpb" in header and "note" in header


def step(n: int, loss: float = 3.0) -> StepMetrics:
    return StepMetrics(n, 100, 1, loss, 20.0, 1e-3, 0.5, 1000.0, 64 * n, 0.1 * n, None)


def test_the_scan_agrees_with_the_full_history_across_a_resume(tmp_path):
    """A resume from step 4 redoes steps 5..: the first session's eval at 6 and alert at 5 no longer count."""
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    (run_dir / "config.toml").write_text('preset = "tiny"\n')
    writer = MetricsWriter(run_dir)
    start = RunStarted(str(run_dir), "r", {"data": "builtin", "tokenizer": "bpe-300", "sweep": "pos"}, "cpu", "tiny",
                       "", 1000)
    for event in [start, step(1), step(2), EvalResult(2, 3.0, 20.0, 3.1, "", 1.5), step(3), step(4),
                  Alert(5, "loss spike", "m", "l"), step(5), step(6), EvalResult(6, 1.0, 2.7, 3.1, "", 0.5),
                  RunStarted(str(run_dir), "r", {}, "cpu", "tiny", "", 1000, resumed_from_step=4),
                  step(5), step(6), EvalResult(6, 2.5, 12.0, 3.0, "", 1.25), Alert(6, "plateau", "m", "l")]:
        writer.write(event)
    writer.close()
    scan = scan_metrics(run_dir / "metrics.jsonl")
    best = summary(metric_history(run_dir))
    assert (scan.best_val_loss, scan.best_val_bpb, scan.alerts) == (2.5, 1.25, 1)
    assert (scan.best_val_loss, scan.best_val_bpb) == (best["best_val_loss"], best["best_val_bpb"])
    info = run_info(run_dir)
    assert (info.sweep, info.data, info.tokenizer, info.tokens_seen, info.n_params) == ("pos", "builtin", "bpe-300",
                                                                                        384, 1000)


def test_hidden_folders_are_not_runs(runs):
    shutil.copytree(runs / "first", runs / ".deleting-old-1")
    assert [info.name for info in list_runs(runs)] == ["first"]


def test_a_second_scan_reads_only_the_appended_lines_and_agrees_with_a_fresh_one(tmp_path):
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    writer = MetricsWriter(run_dir)
    writer.write(RunStarted(str(run_dir), "r", {}, "cpu", "tiny", "", 1000))
    for n in range(1, 11):
        writer.write(step(n))
    writer.write(EvalResult(10, 3.0, 20.0, 3.1, "", 1.5))
    first = scan_metrics(run_dir / "metrics.jsonl")
    assert (first.last_step, first.best_val_loss, first.alerts) == (10, 3.0, 0)
    for n in range(11, 21):
        writer.write(step(n))
    writer.write(EvalResult(20, 2.0, 7.4, 2.5, "", 1.0))
    writer.write(Alert(20, "plateau", "m", "l"))
    (run_dir / "metrics.jsonl").open("a").write('{"event": "StepMetrics", "step": 2')  # a line being written
    writer.close()
    grown = scan_metrics(run_dir / "metrics.jsonl")
    from tui_transformer.train import run_scan

    torn = len('{"event": "StepMetrics", "step": 2')
    assert run_scan._CACHE[str((run_dir / "metrics.jsonl").resolve())][2] == (run_dir / "metrics.jsonl").stat().st_size - torn
    assert (grown.last_step, grown.best_val_loss, grown.best_val_bpb, grown.alerts) == (20, 2.0, 1.0, 1)
    run_scan._CACHE.clear()
    from tui_transformer.train import run_scan

    run_scan._CACHE.clear()
    fresh = scan_metrics(run_dir / "metrics.jsonl")
    assert (fresh.last_step, fresh.best_val_loss, fresh.best_val_bpb, fresh.alerts, fresh.state) == (
        grown.last_step, grown.best_val_loss, grown.best_val_bpb, grown.alerts, grown.state)
    (run_dir / "metrics.jsonl").write_text("")  # replaced by a shorter file: scanned afresh
    assert scan_metrics(run_dir / "metrics.jsonl").last_step == 0
