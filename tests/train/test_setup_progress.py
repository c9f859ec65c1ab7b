"""The setup's slow steps report their progress with counts (tui_transformer.progress), live only.

A first run spent about 24 s building the builtin corpus and training its tokenizer behind one
static line; now each step says how far it has come, in the dashboard and in the headless CLI.
"""

from __future__ import annotations

import pytest

from tui_transformer import progress
from tui_transformer.data.bpe import COUNTING, MERGING, train_bpe
from tui_transformer.data.token_cache import TOKENIZING
from tui_transformer.train.events import RunStarted, SetupProgress


def test_training_a_tokenizer_reports_each_stage_from_start_to_end():
    seen: list[progress.Progress] = []
    texts = [f"the cat number {i} sat on the mat, and the dog did not" for i in range(200)]
    with progress.reporting(seen.append):
        train_bpe(texts, 300)
    stages = [report.stage for report in seen]
    assert stages[0] == COUNTING and stages[-1] == MERGING and set(stages) == {COUNTING, MERGING}
    counting = [r for r in seen if r.stage == COUNTING]
    assert counting[0].done == 0 and counting[-1].done == counting[-1].total == 200 and counting[-1].unit == "texts"
    merging = [r for r in seen if r.stage == MERGING]
    assert merging[0].done == 256 and merging[-1].done == merging[-1].total == 300
    assert all(a.done <= b.done for a, b in zip(merging, merging[1:]))


def test_without_a_watcher_reports_go_nowhere():
    progress.report("anything", 1, 2, "things")  # no reporting() block: nothing to call, nothing raised
    seen: list[progress.Progress] = []
    with progress.reporting(seen.append):
        pass
    progress.report("after", 1, 2, "things")
    assert seen == []


@pytest.mark.slow  # a real run that trains its tokenizer: about 10 s
def test_a_run_that_trains_its_tokenizer_shows_the_counts_live_but_keeps_them_out_of_its_metrics(
        tiny_config, tmp_path, monkeypatch):
    from tui_transformer.train import run_training

    monkeypatch.setenv("TUI_TRANSFORMER_CACHE", str(tmp_path / "fresh-cache"))  # the tokenizer is trained here
    events = []
    summary = run_training(tiny_config(max_steps=2), on_event=events.append)
    shown = [e for e in events if isinstance(e, SetupProgress)]
    assert [stage for stage in dict.fromkeys(e.stage for e in shown)] == [COUNTING, MERGING, TOKENIZING]
    merged = [e for e in shown if e.stage == MERGING][-1]
    assert merged.done == merged.total == 299  # bpe-300: one id is kept for end-of-text
    assert all(e.time <= started.time for e in shown for started in events if isinstance(started, RunStarted))
    metrics = (tmp_path / "runs" / summary.run_name / "metrics.jsonl").read_text()
    assert "SetupProgress" not in metrics and '"RunStarted"' in metrics


def test_the_headless_cli_prints_each_stage_as_it_starts_and_ends(capsys):
    from tui_transformer.commands.train import ProgressView

    view = ProgressView()  # not a terminal under pytest: plain lines
    for done in (0, 100, 7935, 7936):
        view.handle(SetupProgress(MERGING, done, 7936, "tokens"))
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"{MERGING}: 7,936 tokens", f"{MERGING}: done, 7,936 tokens"]
