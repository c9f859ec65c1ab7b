"""The training loop, in-process, on a tiny model and corpus."""

import math
import os
import threading
import time
from pathlib import Path

import pytest
import torch

from tui_transformer.errors import UserError
from tui_transformer.train import checkpoint as ckpt
from tui_transformer.train import run_training
from tui_transformer.train.events import CheckpointSaved, EvalResult, RunFailed, RunFinished, RunStarted, StepMetrics
from tui_transformer.train.metrics import read_events
from tui_transformer.train.run_lock import RunBusy, RunLock
from tui_transformer.train.runs import list_runs


@pytest.mark.slow  # trains or resumes a run in-process
def test_exact_resume_is_bitwise_with_dropout_and_data_position(tiny_config):
    """20 straight steps == 10 steps, a stop, then 10 resumed steps (weights, optimizer, data position)."""
    config = tiny_config(max_steps=20, eval_interval=4, accumulation_steps=2, checkpoint_interval=7,
                         model_dropout=0.1, warmup_frac=0.2)
    straight = run_training(config.with_overrides(run_name="straight"))
    assert straight.reason == "max_steps" and straight.step == 20

    stop = threading.Event()

    def stop_at_ten(event):
        if isinstance(event, StepMetrics) and event.step == 10:
            stop.set()

    first = run_training(config.with_overrides(run_name="split"), on_event=stop_at_ten, stop=stop)
    assert first.reason == "stopped" and first.step == 10
    resumed_events = []
    second = run_training(config, on_event=resumed_events.append, resume=first.run_dir)
    assert second.step == 20 and second.run_dir == first.run_dir
    started = [e for e in resumed_events if isinstance(e, RunStarted)]
    assert len(started) == 1 and started[0].resumed_from_step == 10

    a = ckpt.load(ckpt.find(straight.run_dir))
    b = ckpt.load(ckpt.find(second.run_dir))
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name
    for state_a, state_b in zip(a["optimizer"]["adamw"]["state"].values(), b["optimizer"]["adamw"]["state"].values()):
        assert torch.equal(state_a["exp_avg"], state_b["exp_avg"]) and torch.equal(state_a["exp_avg_sq"], state_b["exp_avg_sq"])
    assert a["ranks"][0]["loader"] == b["ranks"][0]["loader"]
    assert a["tokens_seen"] == b["tokens_seen"] == 20 * 2 * 4 * 16


@pytest.mark.slow  # trains or resumes a run in-process
def test_events_metrics_file_and_run_listing(tiny_config):
    events = []
    summary = run_training(tiny_config(max_steps=12, eval_interval=5, sample_interval=6, checkpoint_interval=6),
                           on_event=events.append)
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "LogMessage" and "opening data" in events[0].message  # before the slow part
    assert kinds[1] == "RunStarted" and kinds[-1] == "RunFinished" and "ShardStatus" in kinds
    steps = [e for e in events if isinstance(e, StepMetrics)]
    assert [s.step for s in steps] == list(range(1, 13))
    assert steps[-1].loss < steps[0].loss  # it learns
    assert all(s.tokens_per_sec > 0 and math.isfinite(s.grad_norm) and s.max_steps == 12 for s in steps)
    evals = [e for e in events if isinstance(e, EvalResult)]
    assert [e.step for e in evals] == [5, 10, 12]  # every 5 steps and at the end
    assert kinds.count("Sample") == 2
    saved = [(e.kind, e.step) for e in events if isinstance(e, CheckpointSaved)]
    assert ("latest", 6) in saved and ("latest", 12) in saved and ("best", 5) in saved

    on_disk = list(read_events(f"{summary.run_dir}/metrics.jsonl"))
    assert [type(e).__name__ for e in on_disk] == kinds  # the file is the same stream
    assert Path(summary.run_dir, "samples.txt").read_text().count("--- step") == 2

    (info,) = list_runs(Path(summary.run_dir).parent)
    assert info.name == summary.run_name and info.last_step == 12 and info.label == "finished (max_steps)"


def test_pause_waits_and_stop_still_works(tiny_config):
    pause, stop = threading.Event(), threading.Event()
    seen = []

    def on_event(event):
        seen.append(event)
        if isinstance(event, StepMetrics) and event.step == 3:
            pause.set()
            threading.Timer(0.3, stop.set).start()  # while paused, nothing advances; then the user stops

    summary = run_training(tiny_config(max_steps=50), on_event=on_event, stop=stop, pause=pause)
    assert summary.reason == "stopped" and summary.step == 3
    assert isinstance(seen[-1], RunFinished) and seen[-1].reason == "stopped"
    assert ckpt.load(ckpt.find(summary.run_dir))["step"] == 3


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tiny_config):
    events = []
    # an absurd learning rate blows the weights up: the loss is no longer finite within a few steps
    summary = run_training(tiny_config(lr=1e6, warmup_frac=0.0, grad_clip=0.0, max_steps=50, checkpoint_interval=1),
                           on_event=events.append)
    assert summary.reason == "diverged"
    failed = [e for e in events if isinstance(e, RunFailed)]
    assert len(failed) == 1 and "diverged" in failed[0].reason and "--lr" in failed[0].reason
    good = ckpt.load(ckpt.find(summary.run_dir))
    assert good["step"] == summary.step
    assert all(torch.isfinite(t).all() for t in good["model"].values())


def test_budget_by_tokens_and_partial_cycle_at_epoch_end(tiny_config):
    # an "epoch" of 1.5 steps' worth of tokens: the step that crosses it is cut short and still taken
    per_step = 4 * 16 * 2
    events = []
    summary = run_training(tiny_config(max_steps=None, accumulation_steps=2, tokens_per_epoch=per_step * 3 // 2,
                                       epochs=2), on_event=events.append)
    steps = [e for e in events if isinstance(e, StepMetrics)]
    assert summary.reason == "epochs"
    assert summary.tokens_seen == 2 * per_step * 3 // 2  # exactly two epochs: no micro-batch dropped or added
    assert [s.epoch for s in steps] == [1, 2, 2, 3]


def test_resume_with_another_model_shape_is_a_clear_error(tiny_config):
    summary = run_training(tiny_config(max_steps=2))
    with pytest.raises(ckpt.CheckpointError, match="different model .*d_model: checkpoint 32, now 48"):
        run_training(tiny_config(max_steps=4, model_d_model=48), resume=summary.run_dir)


@pytest.mark.slow  # trains or resumes a run in-process
def test_a_run_locked_by_another_holder_is_refused_with_its_pid_then_free_again(tiny_config):
    """The lock, not the marker, decides: another open lock on the run refuses a resume at once."""
    summary = run_training(tiny_config(max_steps=2))
    run_dir = Path(summary.run_dir)
    before = (run_dir / "metrics.jsonl").read_bytes()
    other = RunLock(run_dir)  # another descriptor on run.lock, as another process would hold it
    other.acquire()
    try:
        started = time.monotonic()
        with pytest.raises(RunBusy, match=rf"being trained right now by this process \(pid {os.getpid()}"):
            run_training(tiny_config(max_steps=4), resume=summary.run_dir)
        assert time.monotonic() - started < 5  # refused at the lock, not after opening the data
        assert (run_dir / "metrics.jsonl").read_bytes() == before and (run_dir / "RUNNING").exists()
        (info,) = list_runs(run_dir.parent)
        assert info.state == "running"
    finally:
        other.release()
    assert not (run_dir / "RUNNING").exists()
    (info,) = list_runs(run_dir.parent)
    assert info.state == "finished"
    assert run_training(tiny_config(max_steps=4), resume=summary.run_dir).step == 4


@pytest.mark.slow  # trains or resumes a run in-process
def test_a_marker_without_a_held_lock_is_a_dead_writer_and_blocks_nothing(tiny_config):
    """kill -9 leaves RUNNING behind; the kernel has dropped the lock, so the run is free."""
    summary = run_training(tiny_config(max_steps=2))
    run_dir = Path(summary.run_dir)
    (run_dir / "RUNNING").write_text(str(os.getpid()))  # even a live pid: the lock is what counts
    (run_dir / "run.lock").touch()
    (info,) = list_runs(run_dir.parent)
    assert info.state == "finished"
    assert run_training(tiny_config(max_steps=4), resume=summary.run_dir).step == 4


@pytest.mark.slow  # trains or resumes a run in-process
def test_same_seed_same_weights_other_seed_other_weights(tiny_config):
    runs = [run_training(tiny_config(max_steps=3, seed=seed, model_dropout=0.1)) for seed in (5, 5, 6)]
    weights = [ckpt.load(ckpt.find(r.run_dir))["model"] for r in runs]
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    assert not all(torch.equal(weights[0][k], weights[2][k]) for k in weights[0])


@pytest.mark.slow  # trains or resumes a run in-process
def test_a_checkpoint_of_an_older_version_with_a_schedule_entry_still_resumes(tiny_config):
    """Checkpoints used to carry the schedule's numbers, which nothing read; they are no longer saved. They
    held AdamW's state_dict itself as their optimizer, and configs without the optimizer and schedule fields."""
    summary = run_training(tiny_config(max_steps=2))
    path = ckpt.find(summary.run_dir)
    payload = ckpt.load(path)
    assert "schedule" not in payload
    old = {k: v for k, v in payload.items() if k not in ("format", "version", "digest")}
    old["optimizer"] = payload["optimizer"]["adamw"]
    new_fields = ("optimizer", "muon_lr", "schedule", "warmdown_frac")
    old["config"] = {k: v for k, v in payload["config"].items() if k not in new_fields}
    ckpt.save(old | {"schedule": {"peak_lr": 3e-3, "warmup_steps": 1, "total_steps": 2, "min_lr_ratio": 0.1}}, path)
    resumed = run_training(tiny_config(max_steps=4), resume=summary.run_dir)
    assert resumed.step == 4
    moments = ckpt.load(path)["optimizer"]["adamw"]["state"]
    assert all(state["step"].item() == 4 for state in moments.values())  # the old moments were carried on


@pytest.mark.slow  # trains or resumes a run in-process
def test_resuming_with_a_smaller_budget_says_the_schedule_is_refitted(tiny_config):
    import threading

    from tui_transformer.train.events import LogMessage

    stop = threading.Event()
    first = run_training(tiny_config(max_steps=40, checkpoint_interval=5, eval_interval=1000), stop=stop,
                         on_event=lambda e: stop.set() if isinstance(e, StepMetrics) and e.step == 5 else None)
    events = []
    run_training(tiny_config(max_steps=10, eval_interval=1000), resume=first.run_dir, on_event=events.append)
    warnings = [e.message for e in events if isinstance(e, LogMessage) and e.level == "warning"]
    assert any("now 10 steps, not the 40" in w and "--max-steps 40" in w for w in warnings), warnings
