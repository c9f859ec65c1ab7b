"""Fixtures for the dashboard tests: a recorded run to replay, a tiny model, and the notifications shown.

``data/recorded_run.jsonl`` is the real ``metrics.jsonl`` of a 120-step run (d48/L2, bpe-512 on
the builtin corpus) recorded with ``tui-transformer train --no-ui``; the Train screen tests replay
it instead of training, the way memray tests its live view from recorded data. Plain helpers
(``make_app``, ``plain``...) are in helpers.py.
"""

from pathlib import Path

import pytest
import torch
from textual.app import App

from tests.tui.helpers import RECORDED, run_dir_of


@pytest.fixture
def recorded_run(tmp_path) -> Path:
    """A run directory called ``recorded`` holding the recorded metrics."""
    return run_dir_of(RECORDED, tmp_path, "recorded")


@pytest.fixture(scope="module")
def tiny():
    """``(model, tokenizer)``: a seeded random d32/L2 model in eval mode over the offline cl100k_base."""
    from tui_transformer.data import get_tokenizer
    from tui_transformer.model import DecoderTransformer, ModelConfig

    tokenizer = get_tokenizer("cl100k_base")
    torch.manual_seed(0)
    config = ModelConfig(vocab_size=tokenizer.vocab_size, d_model=32, n_heads=2, n_layers=2, d_ff=64, max_seq_len=64)
    return DecoderTransformer(config).eval(), tokenizer


@pytest.fixture
def notes(monkeypatch) -> list[tuple[str, str]]:
    """``(severity, message)`` of every notification any app shows during the test, in order.

    ``App.notify`` is wrapped for the class, so every screen's ``self.notify`` and ``self.app.notify``
    is seen, and the toast is still shown.
    """
    shown: list[tuple[str, str]] = []
    original = App.notify

    def notify(self, message, *, severity="information", **kwargs):
        shown.append((severity, str(message)))
        return original(self, message, severity=severity, **kwargs)

    monkeypatch.setattr(App, "notify", notify)
    return shown
