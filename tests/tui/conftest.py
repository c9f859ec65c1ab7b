"""Fixtures for the dashboard tests: a recorded run to replay, and an app with fixed header text.

``data/recorded_run.jsonl`` is the real ``metrics.jsonl`` of a 120-step run (d48/L2, bpe-512 on
the builtin corpus) recorded with ``tui-transformer train --no-ui``; the Train screen tests replay
it instead of training, the way memray tests its live view from recorded data.
"""

import shutil
from pathlib import Path

import pytest

RECORDED = Path(__file__).parent / "data" / "recorded_run.jsonl"


@pytest.fixture
def recorded_run(tmp_path) -> Path:
    """A run directory called ``recorded`` holding the recorded metrics."""
    run_dir = tmp_path / "recorded"
    run_dir.mkdir()
    shutil.copy(RECORDED, run_dir / "metrics.jsonl")
    return run_dir


def make_app(**kwargs):
    """The real app, with the device probe replaced by fixed text (snapshots must not depend on the machine)."""
    from tui_transformer.tui.app import TuiTransformerApp

    return TuiTransformerApp(device_info=("2.x", "cpu"), **kwargs)
