"""The headless CLI end to end: train, generate, eval, runs list; Ctrl-C; bad input."""

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tui_transformer.cli import main
from tui_transformer.train import checkpoint as ckpt
from tui_transformer.train.events import EvalResult, StepMetrics
from tui_transformer.train.metrics import read_events

SMALL = ["--d-model", "32", "--n-layers", "2", "--n-heads", "2", "--d-ff", "64", "--seq-len", "32",
         "--batch-size", "8", "--eval-batches", "2", "--device", "cpu"]


@pytest.mark.slow  # builds the builtin corpus and trains its BPE once per session (~15 s on 2 busy cores)
def test_train_generate_eval_on_builtin(tmp_path, capsys):
    runs = Path(os.environ["TUI_TRANSFORMER_RUNS"])
    code = main(["train", "--no-ui", "--preset", "tiny", "--data", "builtin", "--tokenizer", "bpe-512",
                 "--max-steps", "30", "--eval-interval", "10", "--sample-interval", "30", "--name", "e2e", *SMALL])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "finished (max_steps) at step 30" in out and "eval step 10" in out and "sample step 30" in out
    events = list(read_events(runs / "e2e" / "metrics.jsonl"))
    losses = [e.loss for e in events if isinstance(e, StepMetrics)]
    assert len(losses) == 30 and sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 0.5  # clearly learning
    evals = [e for e in events if isinstance(e, EvalResult)]
    assert [e.step for e in evals] == [10, 20, 30]
    assert all(0 < e.val_bpb < e.val_loss for e in evals)  # bpe-512 tokens hold more than one byte each
    assert all(0 <= e.induction_score <= 1 and abs(e.in_context_learning) < 10 for e in evals)  # the probe ran
    assert "bits/byte" in out

    assert main(["generate", "--run", "e2e", "--prompt", "The", "--max-new-tokens", "12", "--seed", "1"]) == 0
    first = capsys.readouterr().out
    assert first.startswith("The") and len(first) > len("The\n")
    assert main(["generate", "--run", "e2e", "--prompt", "The", "--max-new-tokens", "12", "--seed", "1"]) == 0
    assert capsys.readouterr().out == first  # seeded: repeatable

    text = tmp_path / "probe.txt"
    text.write_text("Return the number of items in a container. " * 5)
    assert main(["eval", "--run", "e2e", "--text", str(text), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["tokens"] > 10 and 1 < result["perplexity"] < 512  # better than a uniform guess
    predicted = len(text.read_text().encode()) - len(text.read_text()[:1].encode())  # all but the first token's
    assert result["bytes"] <= predicted and result["bytes"] > result["tokens"]
    assert result["bpb"] == pytest.approx(result["loss"] * result["tokens"] / (result["bytes"] * math.log(2)))

    assert main(["runs", "list", "--json"]) == 0
    (listed,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert listed["name"] == "e2e" and listed["last_step"] == 30 and listed["state"] == "finished (max_steps)"
    assert listed["val_bpb"] == evals[-1].val_bpb


@pytest.mark.slow  # trains or resumes a run in-process
def test_json_events_and_resume_from_the_cli(corpus, capsys):
    args = ["train", "--no-ui", "--preset", "tiny", "--data", str(corpus), "--tokenizer", "bpe-300", "--name", "j",
            "--eval-interval", "3", *SMALL[:-4], "--seq-len", "16", "--device", "cpu"]
    assert main([*args, "--max-steps", "4", "--json-events"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    kinds = [line["event"] for line in lines if line["event"] != "LogMessage"]
    setup = kinds.index("RunStarted")  # the tokenizer's training reports its progress before the run starts
    assert set(kinds[:setup]) <= {"SetupProgress"} and kinds[-1] == "RunFinished"
    assert "SetupProgress" not in kinds[setup:]
    assert main(["train", "--no-ui", "--resume", "j", "--max-steps", "6", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "finished (max_steps) at step 6" in out and "eval" not in out  # quiet: the summary only
    assert ckpt.load(ckpt.find("j"))["step"] == 6


@pytest.mark.slow  # trains or resumes a run in-process
def test_resuming_a_finished_run_asks_for_a_larger_budget_and_leaves_the_run_alone(corpus, capsys):
    """It re-evaluated, logged a second RunFinished and exited 0, as if it had trained."""
    args = ["train", "--no-ui", "--preset", "tiny", "--data", str(corpus), "--tokenizer", "bpe-300", "--name", "done",
            *SMALL[:-4], "--seq-len", "16", "--device", "cpu", "--quiet"]
    assert main([*args, "--max-steps", "2"]) == 0
    metrics = Path(os.environ["TUI_TRANSFORMER_RUNS"]) / "done" / "metrics.jsonl"
    before = metrics.read_text()
    capsys.readouterr()
    for extra in ([], ["--max-steps", "1"]):
        assert main(["train", "--no-ui", "--resume", "done", *extra]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: run done has already reached its max steps budget (step 2)") and \
            "--max-steps" in err
    assert metrics.read_text() == before
    assert main(["train", "--no-ui", "--resume", "done", "--max-steps", "3", "--quiet"]) == 0
    assert ckpt.load(ckpt.find("done"))["step"] == 3


@pytest.mark.slow  # trains or resumes a run in-process
def test_a_full_disk_under_metrics_jsonl_stops_the_run_with_one_error_and_keeps_it(corpus, capsys):
    """Each write failed again (the failure event, then close), in a chain of tracebacks."""
    args = ["train", "--no-ui", "--preset", "tiny", "--data", str(corpus), "--tokenizer", "bpe-300", "--name", "full",
            *SMALL[:-4], "--seq-len", "16", "--device", "cpu", "--quiet"]
    assert main([*args, "--max-steps", "2"]) == 0
    run = Path(os.environ["TUI_TRANSFORMER_RUNS"]) / "full"
    kept = run / "kept.jsonl"
    (run / "metrics.jsonl").rename(kept)
    (run / "metrics.jsonl").symlink_to("/dev/full")  # every write fails with ENOSPC, as on a full disk
    capsys.readouterr()
    assert main(["train", "--no-ui", "--resume", "full", "--max-steps", "4", "--quiet"]) != 0
    out, err = capsys.readouterr()
    assert "is the disk full?" in out + err and "Traceback" not in out + err, (out, err)
    assert ckpt.load(ckpt.find("full"))["step"] == 2 and not (run / "RUNNING").exists()
    (run / "metrics.jsonl").unlink()
    kept.rename(run / "metrics.jsonl")
    assert main(["train", "--no-ui", "--resume", "full", "--max-steps", "4", "--quiet"]) == 0  # space again


@pytest.mark.parametrize("argv, message", [
    (["train", "--no-ui", "--preset", "huge"], "unknown preset 'huge'"),
    (["train", "--no-ui", "--batch-size", "0", "--preset", "tiny"], "batch_size must be a positive integer"),
    (["train", "--no-ui", "--resume", "nope"], "no run called 'nope'"),
    (["train", "--no-ui", "--preset", "tiny", "--device", "tpu"], "device must be auto, cpu, cuda, cuda:N or mps"),
    (["train", "--no-ui", "--preset", "tiny", "--optimizer", "sgd"], "optimizer must be one of adamw, muon"),
    (["train", "--no-ui", "--preset", "tiny", "--muon-lr", "-1"], "muon_lr must be a positive number"),
    (["train", "--no-ui", "--preset", "tiny", "--schedule", "step"], "schedule must be one of cosine, wsd"),
    (["train", "--no-ui", "--preset", "tiny", "--schedule", "wsd", "--warmdown-frac", "0.99"],
     "warmup_frac + warmdown_frac must be at most 1"),
    (["generate", "--run", "nope", "--prompt", "x"], "no run called 'nope'"),
    (["eval", "--checkpoint", "/nonexistent.pt", "--text", "/dev/null"], "checkpoint not found"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_asking_for_a_missing_gpu_is_a_clear_error(capsys):
    assert main(["train", "--no-ui", "--preset", "tiny", "--device", "cuda"]) == 2
    assert "CUDA is not available here (try --device cpu)" in capsys.readouterr().err


@pytest.mark.slow  # a subprocess that imports torch
def test_ctrl_c_saves_a_checkpoint_and_exits_130(corpus, tmp_path):
    runs = tmp_path / "runs"
    env = {**os.environ, "TUI_TRANSFORMER_RUNS": str(runs)}
    cmd = [sys.executable, "-m", "tui_transformer", "train", "--no-ui", "--preset", "tiny", "--data", str(corpus),
           "--tokenizer", "bpe-300", "--name", "sig", "--max-steps", "100000", "--eval-interval", "100000",
           *SMALL[:-4], "--seq-len", "16", "--device", "cpu"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # wait until it trains
            line = proc.stdout.readline()
            if line.startswith("step ") or not line:
                break
        assert line.startswith("step "), proc.stderr.read()
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "--resume sig" in err
    saved = ckpt.load(runs / "sig" / "checkpoints" / "latest.pt")
    assert saved["step"] >= 1
    last = list(read_events(runs / "sig" / "metrics.jsonl"))[-1]
    assert type(last).__name__ == "RunFinished" and last.reason == "stopped" and last.step == saved["step"]
    assert not (runs / "sig" / "RUNNING").exists()


def _catches_sigterm(pid: int) -> bool:
    """Whether process ``pid`` has a handler for SIGTERM (Linux: the SigCgt mask in /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signal.SIGTERM - 1) & 1)
    return False


@pytest.mark.slow  # a subprocess that imports torch
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the signal mask from /proc")
def test_a_sigterm_at_start_up_exits_cleanly_before_anything_is_written(corpus, tmp_path):
    # it used to arrive before the handler (installed after importing torch) and kill the process;
    # the exit is 143 (128 + SIGTERM), the shell's convention (it was 130, SIGINT's)
    runs = tmp_path / "runs"
    env = {**os.environ, "TUI_TRANSFORMER_RUNS": str(runs)}
    cmd = [sys.executable, "-m", "tui_transformer", "train", "--no-ui", "--preset", "tiny", "--data", str(corpus),
           "--tokenizer", "bpe-300", "--name", "early", "--max-steps", "5", "--device", "cpu"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not _catches_sigterm(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.005)
        proc.send_signal(signal.SIGTERM)  # the handler is in place; torch is (typically) still importing
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    assert "stopped before training started" in err or "--resume early" in err
    assert not (runs / "early").exists() or (runs / "early" / "config.toml").is_file()
