"""``runs compare`` and ``runs export``: the config diff, best/final metrics, and the history as CSV/JSON."""

import csv
import io
import json
from pathlib import Path

import pytest

from tui_transformer.cli import main
from tui_transformer.train import run_training
from tui_transformer.train.config import TrainConfig
from tui_transformer.train.events import EvalResult, RunStarted, StepMetrics, to_json
from tui_transformer.train.metrics import read_events
from tui_transformer.train.run_compare import config_diff, metric_history


@pytest.fixture
def two_runs(tiny_config):
    first = run_training(tiny_config(max_steps=4, eval_interval=2, run_name="first"))
    second = run_training(tiny_config(max_steps=4, eval_interval=2, run_name="second", lr=1e-3,
                                      model_pos_encoding="rope"))
    return Path(first.run_dir), Path(second.run_dir)


def test_compare_lists_exactly_the_settings_that_differ_and_each_runs_results(two_runs, capsys):
    first, second = two_runs
    assert main(["runs", "compare", str(first), str(second), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["runs"] == ["first", "second"]
    assert result["config_diff"] == {"lr": {"first": 3e-3, "second": 1e-3},
                                     "model.pos_encoding": {"first": "sinusoidal", "second": "rope"}}
    for name, path in (("first", first), ("second", second)):
        evals = [e for e in read_events(path / "metrics.jsonl") if isinstance(e, EvalResult)]
        got = result["results"][name]
        assert got["steps"] == 4 and got["final_val_bpb"] == evals[-1].val_bpb
        assert got["best_val_loss"] == min(e.val_loss for e in evals)
    assert main(["runs", "compare", str(first), str(second)]) == 0
    assert "model.pos_encoding" in capsys.readouterr().out


@pytest.mark.slow  # trains or resumes a run in-process
def test_export_csv_parses_back_to_the_logged_steps_with_evals_where_they_happened(two_runs, capsys, tmp_path):
    first, _ = two_runs
    out = tmp_path / "history.csv"
    assert main(["runs", "export", str(first), "--out", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    events = list(read_events(first / "metrics.jsonl"))
    steps = [e for e in events if isinstance(e, StepMetrics)]
    evals = {e.step: e for e in events if isinstance(e, EvalResult)}
    assert [int(r["step"]) for r in rows] == [s.step for s in steps] == [1, 2, 3, 4]
    for row, step in zip(rows, steps):
        assert float(row["loss"]) == step.loss and int(row["tokens_seen"]) == step.tokens_seen
        if step.step in evals:
            assert float(row["val_bpb"]) == evals[step.step].val_bpb
        else:
            assert row["val_loss"] == row["val_bpb"] == ""
    assert main(["runs", "export", str(first), "--format", "json"]) == 0
    assert [r["step"] for r in json.loads(capsys.readouterr().out)] == [1, 2, 3, 4]


def test_a_resumed_run_s_history_has_each_step_once(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    start = dict(run_dir=str(run), run_name="run", config={}, device="cpu", preset="tiny", preset_reason="",
                 n_params=1, data_notice="")

    def step(n, loss):
        return StepMetrics(step=n, max_steps=4, epoch=1, loss=loss, ppl=1.0, lr=1e-3, grad_norm=1.0,
                           tokens_per_sec=1.0, tokens_seen=n, elapsed_s=float(n), eta_s=None)

    lines = [RunStarted(**start, resumed_from_step=0), step(1, 5.0), step(2, 4.0), step(3, 9.0),  # killed after 3
             RunStarted(**start, resumed_from_step=2), step(3, 3.0), step(4, 2.0)]
    (run / "metrics.jsonl").write_text("".join(to_json(e) + "\n" for e in lines))
    assert [(r["step"], r["loss"]) for r in metric_history(run)] == [(1, 5.0), (2, 4.0), (3, 3.0), (4, 2.0)]


def test_config_diff_of_identical_configs_is_empty():
    assert config_diff({"a": TrainConfig(), "b": TrainConfig()}) == {}


@pytest.mark.parametrize("args, message", [
    (["compare", "nope", "other"], "no run called 'nope'"),
    (["export", "nope"], "no run called 'nope'"),
])
def test_unknown_runs_are_one_line(args, message, capsys):
    assert main(["runs", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


@pytest.mark.slow  # trains or resumes a run in-process
def test_a_damaged_run_folder_and_a_folder_as_out_are_one_line(two_runs, capsys, tmp_path):
    first, second = two_runs
    (second / "config.toml").unlink()
    assert main(["runs", "compare", str(first), str(second)]) == 2
    assert "has no config.toml" in capsys.readouterr().err
    assert main(["runs", "export", str(first), "--out", str(tmp_path)]) == 2
    assert "is a folder; name a file" in capsys.readouterr().err
