"""The profiler's split of a step: operator time plus Python overhead is the wall, for both workloads."""

import json

import pytest

from tui_transformer.bench.profile import profile_decode, profile_train
from tui_transformer.cli import main
from tui_transformer.model import ModelConfig

TINY = ModelConfig(vocab_size=97, d_model=32, n_heads=2, n_layers=2, d_ff=64, max_seq_len=16)


def check_split(row):
    assert row["wall_ms"] > 0 and 0 < row["op_ms"] <= row["wall_ms"] * 1.01
    assert row["python_ms"] == pytest.approx(max(0.0, row["wall_ms"] - row["op_ms"]), abs=2e-3)
    assert row["ops_per_step"] > 0 and row["top_ops"] and all(op["op"].startswith("aten::") for op in row["top_ops"])


@pytest.mark.slow  # runs the torch profiler
def test_decode_profile_covers_ours_and_the_lean_loop():
    result = profile_decode(TINY, batch_size=2, prompt_len=6, new_tokens=5)
    assert set(result["variants"]) == {"ours", "lean"} and result["steps"] == 4
    for row in result["variants"].values():
        check_split(row)
        # a decode step of 2 layers runs at least an LM-head matmul and a few ops per layer
        assert row["ops_per_step"] >= 2 * 5


@pytest.mark.slow  # runs the torch profiler
def test_train_profile_counts_backward_ops_as_op_time():
    result = profile_train(TINY, batch_size=2, steps=1)
    assert set(result["variants"]) == {"ours-sdpa", "reference"}
    for row in result["variants"].values():
        check_split(row)
        names = {op["op"] for op in row["top_ops"]}
        assert any("backward" in name for name in names) or row["ops_per_step"] > 50


@pytest.mark.slow  # runs the torch profiler from the CLI
def test_the_cli_prints_one_json_object_and_refuses_a_bad_count(capfd):
    assert main(["bench", "profile", "decode", "--vocab-size", "97", "--d-model", "32", "--n-layers", "1",
                 "--n-heads", "2", "--d-ff", "64", "--prompt-len", "4", "--steps", "2", "--json"]) == 0
    out, err = capfd.readouterr()  # file descriptors, not sys.stderr: kineto writes from C++
    result = json.loads(out.strip().splitlines()[-1])
    assert result["workload"] == "decode" and set(result["variants"]) == {"ours", "lean"}
    # kineto, under torch.profiler, prints its stages at every profile and on a CPU machine
    # "gpuGetDeviceCount failed"; only the first profile of a process reads its log level, and
    # this module's profiles are the only ones the suite starts
    assert "profiler_start" not in err and "gpuGetDeviceCount" not in err, err
    assert main(["bench", "profile", "train", "--steps", "0"]) == 2
    assert "--steps" in capfd.readouterr().err


def test_bench_train_refuses_an_unknown_variant(capsys):
    assert main(["bench", "train", "--variants", "ours-sdpa,nanogpt"]) == 2
    assert "nanogpt" in capsys.readouterr().err
