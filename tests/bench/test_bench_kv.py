"""The KV-cache benchmark backend and its command, on a tiny model (no timing asserted)."""

import json
import threading

import pytest
import torch

from tui_transformer.bench import run_kv_bench
from tui_transformer.cli import main
from tui_transformer.model import ModelConfig

@pytest.fixture(autouse=True)
def one_thread():
    """A tiny model gains nothing from threads; on a busy 2-core machine they cost 5x. Restored after."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


TINY = ModelConfig(vocab_size=97, d_model=16, n_heads=2, n_layers=2, d_ff=32, max_seq_len=8)


def test_rows_speedups_and_cache_memory():
    seen = []
    result = run_kv_bench(TINY, lengths=(12, 6), batch_size=2, prompt_len=4,
                          on_progress=lambda done, total, message: seen.append((done, total, message)))
    json.dumps(result)  # serialisable as it is
    assert result["lengths"] == [6, 12]
    assert result["config"]["max_seq_len"] == 16, "raised to prompt + longest run: no sliding"
    assert [(r["length"], r["variant"]) for r in result["rows"]] == [
        (6, "none"), (6, "naive"), (6, "prealloc"), (12, "none"), (12, "naive"), (12, "prealloc")]
    assert result["tokens_match"] and not result["stopped"]
    prealloc = result["rows"][-1]
    # 2 (K, V) * 2 layers * batch 2 * 2 heads * (4 + 12) positions * 8 d_head * 4 bytes
    assert prealloc["cache_bytes"] == 2 * 2 * 2 * 2 * 16 * 8 * 4
    assert result["rows"][-3]["cache_bytes"] == 0
    assert all(r["tokens_per_s"] > 0 and r["ms_per_token_late"] > 0 for r in result["rows"])
    assert [s["length"] for s in result["speedups"]] == [6, 12]
    assert result["flatness"] is None, "the runs never reach the early position (100)"
    assert seen[-1][0] == seen[-1][1] == 3 * (6 + 12)


def test_flatness_times_decode_steps_at_the_early_and_late_positions():
    result = run_kv_bench(TINY, lengths=(100,), prompt_len=4)
    flat = result["flatness"]
    assert (flat["early_position"], flat["late_position"]) == (100, 103)
    assert flat["ms_per_token_early"] > 0 and flat["ms_per_token_late"] > 0
    ratio = flat["ms_per_token_late"] / flat["ms_per_token_early"]
    assert abs(flat["late_over_early"] - ratio) < 0.01 * ratio  # the times are rounded to 1 µs


def test_stop_event_ends_the_benchmark_early():
    stop = threading.Event()

    def on_progress(done, total, message):
        stop.set()

    result = run_kv_bench(TINY, lengths=(64,), prompt_len=4, on_progress=on_progress, stop=stop)
    assert result["stopped"]
    assert len(result["rows"]) < 3


def test_command_prints_json_on_its_last_line(capsys):
    code = main(["bench", "kv", "--lengths", "4", "--vocab-size", "97", "--d-model", "16", "--n-layers", "1",
                 "--n-heads", "2", "--d-ff", "32", "--prompt-len", "3", "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["benchmark"] == "kv_cache" and len(result["rows"]) == 3


def test_command_rejects_bad_lengths(capsys):
    assert main(["bench", "kv", "--lengths", "4,abc"]) == 2
    assert "--lengths" in capsys.readouterr().err
