"""``bench tui``: the three variants really train, each in its own process, and leave no runs behind."""

import os
from pathlib import Path

import pytest

from tests.train.conftest import OBJECTS, SUBJECTS, VERBS
from tui_transformer.presets import PRESETS
from tui_transformer.tui.throughput import compare


@pytest.mark.slow  # three fresh processes, each importing torch and textual (~15 s on 2 cores)
def test_compare_measures_every_variant_and_keeps_the_runs_folder_clean(tmp_path):
    for doc in range(12):
        words = [f"{SUBJECTS[(doc + i) % 8]} {VERBS[i % 8]} {OBJECTS[(doc * i) % 8]}." for i in range(80)]
        (tmp_path / f"doc{doc}.txt").write_text(" ".join(words) + "\n")
    config = PRESETS["tiny"].with_overrides(
        data=str(tmp_path), tokenizer="bpe-300", device="cpu", max_steps=8, batch_size=4, model_d_model=32,
        model_n_heads=2, model_n_layers=2, model_d_ff=64, model_max_seq_len=16, eval_batches=1, run_name="mine")
    result = compare(config, rounds=1)
    for variant in ("headless_main", "headless_thread", "dashboard"):
        (rate,) = result[f"{variant}_tokens_per_s"]
        assert rate > 0
    assert result["ratio"] > 0 and 0 < result["ui_thread_cpu_share"][0] < 1
    runs = Path(os.environ["TUI_TRANSFORMER_RUNS"])
    assert not runs.exists() or not any(runs.iterdir()), "the measurement runs went to the learner's runs folder"
