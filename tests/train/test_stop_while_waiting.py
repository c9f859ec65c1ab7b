"""Stop while the trainer waits for data (a stalled download): it stops at once and resumes exactly."""

import pytest
import itertools
import threading
import time

import torch

from tui_transformer.data.local_source import DocumentGroup, LocalSource
from tui_transformer.train import checkpoint as ckpt
from tui_transformer.train import run_training

WORDS = ["the", "cat", "sat", "on", "a", "mat", "and", "then", "it", "slept", "all", "day"]


def documents(prefix: str, n: int) -> list[tuple[str, str]]:
    return [(f"{prefix}{i}", " ".join(WORDS[(i * k) % len(WORDS)] for k in range(60)) + ".") for i in range(n)]


class SlowSecondChunk:
    """Sources of two chunks whose second one, while ``stall`` is set, loads only after ``release``."""

    def __init__(self) -> None:
        self.stall, self.entered, self.release = False, threading.Event(), threading.Event()
        self._fresh = itertools.count()  # a fingerprint per source: the token cache must not skip the load

    def source(self, *args, **kwargs) -> LocalSource:
        first, tag = documents("first", 60), next(self._fresh)
        return LocalSource([DocumentGroup(f"first-{tag}", "first", lambda: first),
                            DocumentGroup(f"second-{tag}", "second", self._second)])

    def _second(self) -> list[tuple[str, str]]:
        if self.stall and threading.current_thread().name.startswith("batch-loader"):  # the trainer's data thread
            self.entered.set()
            self.release.wait(60)  # like a download that gets no answer
        return documents("second", 40)


@pytest.mark.slow  # trains or resumes a run in-process
def test_stop_during_a_data_wait_is_prompt_and_resumes_exactly(tiny_config, monkeypatch):
    """Stop waited until the data came: up to minutes for a stalled FineWeb download."""
    slow = SlowSecondChunk()
    monkeypatch.setattr("tui_transformer.data.open_source", slow.source)
    # 5 micro-batches a step: the batch that waits for the second chunk (the 52nd or 53rd) is inside a step
    config = tiny_config(tokenizer="cl100k_base", max_steps=30, accumulation_steps=5, eval_interval=1000,
                         checkpoint_interval=1000)
    straight = run_training(config.with_overrides(run_name="straight"))
    assert straight.reason == "max_steps"

    slow.stall = True
    stop, result = threading.Event(), []
    trainer = threading.Thread(target=lambda: result.append(run_training(config.with_overrides(run_name="split"),
                                                                         stop=stop)))
    trainer.start()
    try:
        assert slow.entered.wait(60), "the loader never reached the slow chunk"
        time.sleep(1.0)  # the trainer uses up the batches prepared before it, then waits
        stopped_at = time.monotonic()
        stop.set()
        trainer.join(15)
        waited = time.monotonic() - stopped_at
        assert not trainer.is_alive(), "stop waited for the data"
    finally:
        slow.release.set()
        trainer.join(60)
    (first,) = result
    assert first.reason == "stopped" and 0 < first.step < 30 and waited < 8
    payload = ckpt.load(ckpt.find(first.run_dir))
    assert payload["ranks"][0]["loader"]["tokens_consumed"] == payload["tokens_seen"], "half a step was not undone"

    slow.stall = False
    second = run_training(config, resume=first.run_dir)
    a, b = ckpt.load(ckpt.find(straight.run_dir)), ckpt.load(ckpt.find(second.run_dir))
    assert b["step"] == 30 and a["ranks"][0]["loader"] == b["ranks"][0]["loader"]
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name
