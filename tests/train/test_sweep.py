"""Sweeps: a grid of ordinary runs, ranked by val bpb; stop and resume; bad --vary input."""

import json
import threading
from pathlib import Path

import pytest
import torch

from tui_transformer.cli import main
from tui_transformer.errors import ConfigError
from tui_transformer.train import checkpoint as ckpt
from tui_transformer.train.events import StepMetrics
from tui_transformer.train.sweep import load_manifest, parse_vary, plan, run_sweep, save_manifest


def sweep_args(corpus, tmp_path, *extra):
    return ["sweep", "--preset", "tiny", "--data", str(corpus), "--tokenizer", "bpe-300", "--d-model", "32",
            "--n-layers", "1", "--n-heads", "2", "--d-ff", "64", "--seq-len", "16", "--batch-size", "4",
            "--eval-interval", "3", "--eval-batches", "1", "--checkpoint-interval", "1000", "--device", "cpu",
            "--run-dir", str(tmp_path / "runs"), *extra]


@pytest.mark.slow  # trains or resumes a run in-process
def test_a_2x1_grid_makes_two_runs_and_a_ranked_table(corpus, tmp_path, capsys):
    assert main(sweep_args(corpus, tmp_path, "--vary", "lr=1e-3,3e-3", "--max-steps", "3", "--name", "grid",
                           "--json")) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["sweep"] == "grid" and result["runs"] == 2
    ranked = result["ranked"]
    assert sorted(row["run"] for row in ranked) == ["grid-1", "grid-2"]
    assert [row["best_val_bpb"] for row in ranked] == sorted(row["best_val_bpb"] for row in ranked)
    assert {row["run"]: row["values"]["lr"] for row in ranked} == {"grid-1": 1e-3, "grid-2": 3e-3}
    for row in ranked:
        config = ckpt.load(Path(tmp_path / "runs" / row["run"] / "checkpoints" / "latest.pt"))["config"]
        assert config["sweep"] == "grid" and config["run_name"] == row["run"] and row["steps"] == 3


@pytest.mark.slow  # trains or resumes a run in-process
def test_resume_after_a_stop_skips_the_finished_run_and_continues_the_stopped_one_bitwise(corpus, tmp_path, capsys):
    args = sweep_args(corpus, tmp_path, "--vary", "lr=1e-3,3e-3", "--max-steps", "6")
    assert main(args + ["--name", "straight", "--json"]) == 0  # the reference: nothing stopped
    capsys.readouterr()
    base, axes = load_manifest("straight", tmp_path / "runs")
    stopped = plan("stopped", base, axes)
    stop = threading.Event()

    def stop_in_run_2(event):
        if isinstance(event, StepMetrics) and event.step == 2 and stop_in_run_2.runs == 2:
            stop.set()

    def count_runs(index, total, values, action):
        stop_in_run_2.runs = index + 1

    save_manifest("stopped", base, axes, tmp_path / "runs")
    run_sweep(stopped, on_run_start=count_runs, on_event=stop_in_run_2, stop=stop)
    assert ckpt.load(tmp_path / "runs" / "stopped-2" / "checkpoints" / "latest.pt")["step"] == 2
    assert main(["sweep", "--resume", "stopped", "--lr", "1"]) == 2  # its own settings: other flags refused
    assert "drop the other flags" in capsys.readouterr().err
    assert main(["sweep", "--resume", "stopped", "--run-dir", str(tmp_path / "runs"), "--json"]) == 0
    out, err = capsys.readouterr()
    assert "run 1/2 (lr=0.001): skip" in err and "run 2/2 (lr=0.003): resume" in err
    for index in (1, 2):
        mine = ckpt.load(tmp_path / "runs" / f"stopped-{index}" / "checkpoints" / "latest.pt")["model"]
        reference = ckpt.load(tmp_path / "runs" / f"straight-{index}" / "checkpoints" / "latest.pt")["model"]
        assert all(torch.equal(mine[k], reference[k]) for k in reference), f"run {index} differs"


@pytest.mark.parametrize("vary, message", [
    ("lrr=1e-3", "no setting called 'lrr'"),
    ("lr", "--vary takes field=value1,value2"),
    ("lr=fast", "'fast' is not a float"),
    ("max_steps=1.5", "'1.5' is not a int"),
    ("lr=-1", "sweep run 1 (lr=-1.0): lr must be a positive number"),
    ("pos_encoding=rope,rope", "a value is listed twice"),
    ("run_name=a,b", "run_name is set by the sweep itself"),
])
def test_bad_vary_input_is_one_line_before_anything_trains(vary, message, corpus, tmp_path, capsys):
    assert main(sweep_args(corpus, tmp_path, "--vary", vary, "--max-steps", "3")) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists() or not any(p.name != ".sweeps" for p in (tmp_path / "runs").iterdir())


def test_vary_reads_model_fields_and_flag_spellings():
    assert parse_vary("seq-len=16,32").key == "model_max_seq_len"
    assert parse_vary("pos_encoding=rope,alibi").values == ("rope", "alibi")
    assert parse_vary("max_steps=10k,none").values == (10_000, None)
    assert parse_vary("optimizer=adamw,muon").values == ("adamw", "muon")
    assert parse_vary("muon-lr=0.01,0.02").values == (0.01, 0.02)
    assert parse_vary("schedule=cosine,wsd").key == "schedule"
    with pytest.raises(ConfigError):
        parse_vary("model=1")


def test_the_table_gives_each_varied_field_a_column_so_the_values_read_in_full_at_80_columns(capsys, monkeypatch):
    from tui_transformer.commands.sweep import _print_table

    monkeypatch.setenv("COLUMNS", "80")
    rows = [{"run": f"pos-{i}", "values": {"model_pos_encoding": pos, "lr": 2e-3}, "state": "finished (max_steps)",
             "steps": 300, "best_val_bpb": bpb, "best_val_loss": 5.0} for i, (pos, bpb) in
            enumerate([("sinusoidal", 1.9), ("learned", 2.0), ("rope", None)], 1)]
    _print_table("pos", rows)
    out = capsys.readouterr().out
    assert "pos_encoding" in out and " lr " in out
    for pos in ("sinusoidal", "learned", "rope"):
        assert pos in out, out
    assert "1.9000" in out and "-" in out


def test_a_sweep_of_arms_names_runs_by_label_and_its_manifest_gives_them_back(tmp_path):
    from tui_transformer.presets import PRESETS
    from tui_transformer.train.sweep import Arm, new_sweep, resume_plan

    base = PRESETS["tiny"].with_overrides(run_dir=str(tmp_path))
    arms = [Arm("slow", {"lr": 1e-4}), Arm("wide", {"model_d_model": 256, "model_d_ff": 1024})]
    made = new_sweep("lesson", base, arms)
    assert [made.run_name(i) for i in range(2)] == ["lesson-slow", "lesson-wide"]
    assert made.configs[0].lr == 1e-4 and made.configs[1].model.d_model == 256
    again = resume_plan("lesson", tmp_path)
    assert again.configs == made.configs and again.labels == ("slow", "wide")


@pytest.mark.parametrize("arms, message", [
    ([("a", {"lr": 1e-3}), ("a", {"lr": 2e-3})], "same label"),
    ([("a b", {})], "letters, digits"),
    ([("a", {"nope": 1})], "sweep run a"),
    ([("a", {"run_name": "x"})], "set by the sweep"),
])
def test_bad_arms_are_one_clear_error(arms, message):
    from tui_transformer.errors import UserError
    from tui_transformer.presets import PRESETS
    from tui_transformer.train.sweep import Arm, plan_arms

    with pytest.raises(UserError, match=message):
        plan_arms("lesson", PRESETS["tiny"], [Arm(label, values) for label, values in arms])
