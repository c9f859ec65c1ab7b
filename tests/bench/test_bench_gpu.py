"""The GPU check's smoke mode (what CI runs), its refusals, and how it reports a failing step."""

import json

import pytest
import torch

from tui_transformer.bench.gpu import BF16_LOSS_TOLERANCE, Check, SMOKE, Skipped, _run_one
from tui_transformer.cli import main


@pytest.mark.slow  # the trainer in-process, then two torchrun launches of it: ~30 s on 2 idle cores
def test_the_smoke_check_runs_every_step_on_the_cpu_and_names_what_it_skipped(capsys, tmp_path):
    assert main(["bench", "gpu", "--smoke", "--work-dir", str(tmp_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["ok"] and result["smoke"] and result["device"] == "cpu" and result["failed"] == []
    steps = {row["step"]: row for row in result["steps"]}
    assert list(steps) == ["train", "flash_sdpa", "fp16_grad_scaler", "bf16_vs_fp32_eval", "decode",
                           "save_cuda_load_cpu", "torchrun_resume"]
    skipped = {row["step"]: row["reason"] for row in result["skipped"]}
    assert set(skipped) == {"train.compile"} and skipped["train.compile"]
    for name in ("flash_sdpa", "fp16_grad_scaler"):  # the CPU's own flash kernel, fp16 autocast and GradScaler
        assert steps[name]["status"] == "ok" and "no CUDA" in steps[name]["substituted"]
    assert steps["flash_sdpa"]["max_logit_difference"] <= steps["flash_sdpa"]["tolerance"]
    assert len(steps["fp16_grad_scaler"]["losses"]) == SMOKE.fp16_steps
    train = steps["train"]
    assert train["status"] == "ok" and train["steps"] == SMOKE.train_steps and train["precision"] == "fp32"
    assert train["tokens_per_s"] > 0 and 0 < train["mfu"] < 1
    assert steps["bf16_vs_fp32_eval"]["difference"] <= BF16_LOSS_TOLERANCE
    assert [row["batch"] for row in steps["decode"]["rows"]] == [1, 8]
    assert all(row["tokens_per_s"] > 0 for row in steps["decode"]["rows"])
    assert steps["save_cuda_load_cpu"]["max_logit_difference"] <= 1e-3
    assert "no CUDA" in steps["save_cuda_load_cpu"]["substituted"]
    ddp = steps["torchrun_resume"]
    assert ddp["status"] == "ok" and ddp["backend"] == "gloo" and ddp["resumed_from_step"] == SMOKE.torchrun_steps[0]
    assert (tmp_path / "runs" / "ddp" / "checkpoints" / "latest.pt").is_file()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: the full check would run")
def test_without_cuda_the_full_check_is_refused_in_one_line(capsys):
    assert main(["bench", "gpu"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs a CUDA device" in err[0] and "--smoke" in err[0]


def test_a_bad_step_count_is_refused(capsys):
    assert main(["bench", "gpu", "--smoke", "--train-steps", "0"]) == 2
    assert "--train-steps" in capsys.readouterr().err


def test_a_failing_step_is_reported_in_one_line_and_a_skip_keeps_its_reason(tmp_path):
    check = Check("cpu", SMOKE, tmp_path)

    def broken(_check):
        raise ValueError("first line\nsecond line")

    def not_here(_check):
        raise Skipped("needs CUDA")

    failed = _run_one(broken, check)
    assert failed["status"] == "failed" and failed["error"] == "ValueError: first line"
    assert failed["where"].startswith("test_bench_gpu.py:")
    assert _run_one(not_here, check) == {"status": "skipped", "reason": "needs CUDA"}
    assert _run_one(lambda _check: {"x": 1}, check)["x"] == 1
