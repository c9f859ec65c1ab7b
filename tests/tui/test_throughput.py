"""``bench tui``: the arithmetic of the comparison, then the three variants really training, each in its
own process, leaving no runs behind."""

import os
from pathlib import Path

import pytest
import torch

from tests.sentences import OBJECTS, SUBJECTS, VERBS
from tui_transformer.presets import PRESETS
from tui_transformer.train.events import StepMetrics, to_json
from tui_transformer.tui import throughput
from tui_transformer.tui.throughput import compare, tokens_per_second

VARIANTS = ("headless_main", "headless_thread", "dashboard")


def _write_steps(path: Path, elapsed: list[float], tokens_per_step: int = 100) -> None:
    path.write_text("".join(
        to_json(StepMetrics(step=step, max_steps=len(elapsed), epoch=0, loss=3.0, ppl=20.0, lr=1e-3,
                            grad_norm=1.0, tokens_per_sec=0.0, tokens_seen=step * tokens_per_step,
                            elapsed_s=seconds, eta_s=None)) + "\n"
        for step, seconds in enumerate(elapsed, start=1)))


def test_tokens_per_second_is_the_median_step_rate_after_the_warmup(tmp_path):
    # ten steps of 100 tokens; the first three are slow (5 s: start-up), one is a pause (no time passes)
    durations = [5.0, 5.0, 5.0, 0.2, 0.1, 0.4, 0.1, 0.0, 0.1, 0.2]
    elapsed = [sum(durations[:i + 1]) for i in range(len(durations))]
    metrics = tmp_path / "metrics.jsonl"
    _write_steps(metrics, elapsed)
    # warm-up 0.2 drops steps 1-2; rates between steps 3..10: 100 tokens over 0.2, 0.1, 0.4, 0.1, (0: skipped),
    # 0.1, 0.2 s = 500, 1000, 250, 1000, 1000, 500 tok/s, whose median is (500 + 1000) / 2
    assert tokens_per_second(metrics) == pytest.approx(750.0)
    # without the warm-up cut the two slow steps count (20 tok/s each) and pull the median down to 500
    assert tokens_per_second(metrics, warmup_fraction=0.0) == pytest.approx(500.0)
    _write_steps(metrics, [1.0, 2.0])
    with pytest.raises(ValueError, match="has 2 steps"):
        tokens_per_second(metrics)


def test_compare_rotates_the_variants_and_reports_their_ratios(monkeypatch):
    rates = {"headless_main": [1000.0, 1100.0, 900.0], "headless_thread": [800.0, 900.0, 1000.0],
             "dashboard": [720.0, 810.0, 810.0]}
    lags = [[0.001, 0.002], [0.010, 0.003], [0.004, 0.100]]
    stepping_lags = [[0.002], [0.003], [0.004]]  # the setup's lags left out
    shares = [0.05, 0.07, 0.06]
    ms_per_step = [2.5, 3.0, 2.75]
    calls = []

    def measured(variant, config):
        calls.append(variant)
        assert config.eval_interval == config.sample_interval == config.checkpoint_interval == 10**9
        assert config.run_dir is None and config.run_name is None
        index = calls.count(variant) - 1
        result = {"tokens_per_s": rates[variant][index]}
        if variant == "dashboard":
            result |= {"lags": lags[index], "stepping_lags": stepping_lags[index], "ui_share": shares[index],
                       "ui_ms_per_step": ms_per_step[index]}
        return result

    monkeypatch.setattr(throughput, "_measure_in_a_new_process", measured)
    config = PRESETS["tiny"].with_overrides(device="cpu", max_steps=8, run_name="mine")
    result = compare(config, rounds=3)

    assert calls == ["headless_main", "headless_thread", "dashboard",   # round 1
                     "headless_thread", "dashboard", "headless_main",   # round 2: rotated by one
                     "dashboard", "headless_main", "headless_thread"]   # round 3: by two
    assert {name: result[f"{name}_tokens_per_s"] for name in VARIANTS} == rates
    # mean 780 tok/s under the dashboard against 900 on a worker thread and 1000 on the main thread
    assert result["ratio"] == round(780 / 900, 3) == 0.867
    assert result["ratio_vs_main_thread"] == round(780 / 1000, 3) == 0.78
    assert result["ui_thread_cpu_share"] == shares and result["ui_cpu_ms_per_step"] == ms_per_step
    # six lags, in ms: 1, 2, 3, 4, 10, 100 -> the median is element 3, p99 element int(6 * 0.99) = 5
    assert result["ui_loop_lag_ms"] == {"p50": 4.0, "p99": 100.0, "max": 100.0}
    assert result["ui_loop_lag_ms_while_stepping"] == {"p50": 3.0, "p99": 4.0, "max": 4.0}
    assert (result["bench"], result["device"], result["rounds"], result["torch"]) == ("tui", "cpu", 3, torch.__version__)
    assert result["config"] == {"preset": "tiny", "model": config.model.to_dict(), "data": config.data,
                                "tokenizer": config.tokenizer, "batch_size": config.batch_size, "max_steps": 8}


@pytest.mark.slow  # three fresh processes, each importing torch and textual (~15 s on 2 cores)
def test_compare_measures_every_variant_and_keeps_the_runs_folder_clean(tmp_path):
    for doc in range(12):
        words = [f"{SUBJECTS[(doc + i) % 8]} {VERBS[i % 8]} {OBJECTS[(doc * i) % 8]}." for i in range(80)]
        (tmp_path / f"doc{doc}.txt").write_text(" ".join(words) + "\n")
    config = PRESETS["tiny"].with_overrides(
        data=str(tmp_path), tokenizer="bpe-300", device="cpu", max_steps=8, batch_size=4, model_d_model=32,
        model_n_heads=2, model_n_layers=2, model_d_ff=64, model_max_seq_len=16, eval_batches=1, run_name="mine")
    result = compare(config, rounds=1)
    (main,), (thread,), (dashboard,) = (result[f"{name}_tokens_per_s"] for name in VARIANTS)
    assert min(main, thread, dashboard) > 0
    # the ratios are those of the rates measured (which are rounded to 0.1 tok/s in the result)
    assert result["ratio"] == pytest.approx(dashboard / thread, abs=2e-3)
    assert result["ratio_vs_main_thread"] == pytest.approx(dashboard / main, abs=2e-3)
    (share,) = result["ui_thread_cpu_share"]
    assert 0 < share < 1 and result["ui_cpu_ms_per_step"][0] > 0
    for lag in (result["ui_loop_lag_ms"], result["ui_loop_lag_ms_while_stepping"]):
        assert lag["p50"] <= lag["p99"] <= lag["max"]
    assert result["ui_loop_lag_ms_while_stepping"]["max"] <= result["ui_loop_lag_ms"]["max"]
    assert result["config"]["model"] == config.model.to_dict() and result["config"]["max_steps"] == 8
    runs = Path(os.environ["TUI_TRANSFORMER_RUNS"])
    assert not runs.exists() or not any(runs.iterdir()), "the measurement runs went to the learner's runs folder"
