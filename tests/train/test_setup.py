"""The trainer's setup, in-process: a stop between its phases, a bounded validation set, a run without a checkpoint.

The memory check before the model is built is tested through the CLI, in a process with capped memory
(tests/test_cli_robustness.py).
"""

import os
import threading
import time
from pathlib import Path

import pytest

from tui_transformer.data import get_tokenizer, open_source
from tui_transformer.data.loader import BatchLoader
from tui_transformer.paths import cache_dir
from tui_transformer.train import checkpoint as ckpt
from tui_transformer.train import run_training
from tui_transformer.train.events import EvalResult, LogMessage, RunStarted
from tui_transformer.train.runs import list_runs
from tui_transformer.train.trainer import Trainer


def _stop_when(stop: threading.Event, text: str, seen: list):
    def on_event(event):
        seen.append(event)
        if isinstance(event, LogMessage) and text in event.message:
            stop.set()
    return on_event


def test_a_stop_before_setup_returns_at_once_and_writes_nothing(tiny_config):
    stop = threading.Event()
    stop.set()
    config = tiny_config(run_name="never")
    summary = run_training(config, stop=stop)
    assert (summary.reason, summary.step, summary.run_name, summary.run_dir) == ("stopped", 0, "", "")
    assert not (Path(config.run_dir) / "never").exists()


def test_a_stop_while_the_data_opens_skips_the_tokenizer_and_the_model(tiny_config):
    """SIGTERM during setup took 16-18 s: the trainer went on to train a tokenizer and build everything."""
    stop, seen = threading.Event(), []
    config = tiny_config(run_name="early", tokenizer="bpe-311")  # a vocabulary no other test trains
    summary = run_training(config, on_event=_stop_when(stop, "opening data", seen), stop=stop)
    assert summary.reason == "stopped" and summary.run_name == ""
    assert not any(isinstance(event, RunStarted) for event in seen)
    assert not list((cache_dir() / "tokenizers").glob("bpe-311-*")), "the tokenizer was trained after the stop"
    assert not (Path(config.run_dir) / "early").exists()


@pytest.mark.slow  # trains or resumes a run in-process
def test_a_resume_stopped_in_setup_leaves_the_run_as_it_was(tiny_config):
    first = run_training(tiny_config(max_steps=2, run_name="kept"))
    run_dir = Path(first.run_dir)
    files = {name: (run_dir / name).read_bytes() for name in ("metrics.jsonl", "config.toml")}
    stop, seen = threading.Event(), []
    summary = run_training(tiny_config(max_steps=6), on_event=_stop_when(stop, "opening data", seen), stop=stop,
                           resume="kept")
    assert (summary.reason, summary.step, summary.run_name) == ("stopped", 2, "kept")
    assert {name: (run_dir / name).read_bytes() for name in files} == files
    (info,) = list_runs(run_dir.parent)
    assert info.label == "finished (max_steps)"  # not running: the lock went with the session
    assert run_training(tiny_config(max_steps=4), resume="kept").step == 4


@pytest.mark.slow  # trains or resumes a run in-process
def test_asking_for_more_validation_batches_than_the_split_holds_uses_each_once(tiny_config):
    """--eval-batches 100000 read the split over and over for minutes before the first step."""
    events = []
    started = time.monotonic()
    summary = run_training(tiny_config(max_steps=2, eval_interval=2, eval_batches=100_000), on_event=events.append)
    assert time.monotonic() - started < 30
    (warning,) = [e for e in events if isinstance(e, LogMessage) and "validation split holds" in e.message]
    held = int(warning.message.split("holds ")[1].split(" ")[0].replace(",", ""))
    assert 1 <= held < 100 and "--eval-batches" in warning.message
    assert [e.step for e in events if isinstance(e, EvalResult)] == [2] and summary.step == 2


def test_the_validation_batches_are_the_first_windows_of_the_split(tiny_config):
    """Bounded or not, the fixed batches are the split's first ones: a resumed run evaluates on the same."""
    config = tiny_config(eval_batches=3)
    source = open_source(config.data, val_fraction=config.val_fraction)
    loader = BatchLoader(source, get_tokenizer(config.tokenizer, source=source), split="val", batch_size=4, seq_len=16)
    expected = loader.fixed_batches(3)
    loader.close()
    trainer = Trainer(config, None, threading.Event(), threading.Event(), "")
    try:
        trainer.setup(None)
        assert len(trainer.val_batches) == 3
        assert all((a == c).all() and (b == d).all() for (a, b), (c, d) in zip(trainer.val_batches, expected))
    finally:
        trainer.close()
        source.close()


@pytest.mark.slow  # trains a run in-process, then resumes it
def test_a_run_killed_after_its_config_and_before_a_checkpoint_resumes_from_step_0(tiny_config):
    """It said "has no checkpoint yet" and could never be resumed, while its name stayed taken."""
    summary = run_training(tiny_config(max_steps=3, run_name="early"))
    run_dir = Path(summary.run_dir)
    for checkpoint in (run_dir / "checkpoints").iterdir():
        checkpoint.unlink()  # what a kill -9 before the first save leaves
    (run_dir / "RUNNING").write_text(str(os.getpid()))
    (info,) = list_runs(run_dir.parent)
    assert info.preset == "tiny" and info.state != "running"
    events = []
    resumed = run_training(tiny_config(max_steps=3), resume="early", on_event=events.append)
    assert resumed.step == 3 and ckpt.load(ckpt.find(run_dir))["step"] == 3
    (start,) = [e for e in events if isinstance(e, RunStarted)]
    assert start.resumed_from_step == 0
    assert any("no checkpoint yet; training it from step 0" in getattr(e, "message", "") for e in events)
