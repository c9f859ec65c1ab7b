"""``eval --run R`` on the run's own validation batches, and ``--all-checkpoints`` over the kept weights."""

import json
import os
from pathlib import Path

import pytest

from tui_transformer.cli import main
from tui_transformer.train.events import EvalResult
from tui_transformer.train.metrics import read_events


@pytest.fixture
def kept_run(corpus, capsys):
    """A run of 6 steps, evaluated and its weights kept at steps 3 and 6 (``--keep-every eval``)."""
    assert main(["train", "--no-ui", "--preset", "tiny", "--data", str(corpus), "--tokenizer", "bpe-300", "--name", "k",
                 "--d-model", "16", "--n-layers", "1", "--n-heads", "2", "--d-ff", "32", "--seq-len", "16",
                 "--batch-size", "4", "--eval-batches", "3", "--eval-interval", "3", "--max-steps", "6",
                 "--keep-every", "eval", "--device", "cpu", "--quiet"]) == 0
    capsys.readouterr()
    run = Path(os.environ["TUI_TRANSFORMER_RUNS"]) / "k"
    return run, {e.step: e.val_loss for e in read_events(run / "metrics.jsonl") if isinstance(e, EvalResult)}


@pytest.mark.slow  # trains a tiny run (about 5 s on 2 busy cores)
def test_eval_without_text_and_across_kept_checkpoints(kept_run, capsys):
    run, evals = kept_run
    assert sorted(evals) == [3, 6]
    kept = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert kept == ["best.pt", "latest.pt", "step-0000003.weights", "step-0000006.weights"]

    assert main(["eval", "--run", "k", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["loss"] == pytest.approx(evals[6], abs=1e-4), "the run's own validation batches"
    assert result["data"].startswith("validation batches of")

    assert main(["eval", "--run", "k", "--all-checkpoints", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["checkpoints"]
    assert [row["checkpoint"] for row in rows] == ["step 3", "step 6", "best", "latest"]
    assert rows[0]["loss"] == pytest.approx(evals[3], abs=1e-4) and rows[1]["loss"] == pytest.approx(evals[6], abs=1e-4)
    assert rows[3]["loss"] == rows[1]["loss"] and len({row["tokens"] for row in rows}) == 1  # the same batches
    assert main(["eval", "--run", "k", "--all-checkpoints"]) == 0
    table = capsys.readouterr().out
    assert "step 3" in table and "latest" in table and "val loss" in table


def test_a_run_on_auto_data_is_evaluated_on_the_source_it_used(tmp_path):
    """``auto`` is FineWeb online and builtin offline: eval reads which from the run, never probes again."""
    from tui_transformer.errors import UserError
    from tui_transformer.train.events import ShardStatus, to_json
    from tui_transformer.train.validation import resolved_data

    (tmp_path / "metrics.jsonl").write_text(to_json(ShardStatus(source="builtin", description="", status={})) + "\n")
    assert resolved_data("auto", tmp_path) == "builtin"
    assert resolved_data("fineweb", None) == "fineweb"
    with pytest.raises(UserError, match="give --text FILE"):
        resolved_data("auto", tmp_path / "elsewhere")
