"""The Learn panels' parts that do not need the app: the training summary, the heatmap, empty prompts."""

import torch

from tests.tui.conftest import RECORDED
from tests.tui.test_learn import plain, tiny  # noqa: F401 (a fixture)
from tui_transformer.train.events import EvalResult, StepMetrics, event_from_json
from tui_transformer.tui.learn.context import LiveContext
from tui_transformer.tui.learn.registry import PAGES
from tui_transformer.tui.learn.training import training_summary
from tui_transformer.tui.widgets.heatmap import NEGATIVE, POSITIVE, heatmap, value_color


def test_training_summary_reads_the_recorded_run(recorded_run):
    rows = dict(training_summary(recorded_run))
    events = [event_from_json(line) for line in RECORDED.read_text().splitlines() if line.strip()]
    steps = [e for e in events if isinstance(e, StepMetrics)]
    last_eval = [e for e in events if isinstance(e, EvalResult)][-1]
    assert rows["steps"] == f"{steps[-1].step:,}"
    assert rows["train loss"].startswith(f"{steps[0].loss:.3f} at step {steps[0].step} → {steps[-1].loss:.3f}")
    best = min(steps, key=lambda e: e.loss)
    assert f"best {best.loss:.3f} at step {best.step}" in rows["train loss"]
    assert rows["val loss"].startswith(f"{last_eval.val_loss:.3f} at step {last_eval.step}")
    assert "tokens per optimizer step" in rows["batch"] and "cosine" in rows["schedule"]


def test_training_summary_without_metrics_says_so(tmp_path):
    assert training_summary(tmp_path)[0][1].startswith("none yet")


def test_heatmap_packs_two_rows_a_line_and_colours_by_sign():
    rows = [[1.0, -1.0], [0.0, 0.5], [-0.5, 0.25]]
    text = heatmap(rows, row_label="p")
    assert len(text.plain.splitlines()) == 2  # three rows -> two lines of half-blocks
    assert value_color(1.0, 1.0).get_truecolor() == POSITIVE
    assert value_color(-2.0, 2.0).get_truecolor() == NEGATIVE
    top_left = text.spans[1].style  # after the margin: row 0 above row 1 in column 0
    assert top_left.color.get_truecolor() == POSITIVE and top_left.bgcolor == value_color(0.0, 1.0)


def test_every_page_survives_an_empty_prompt(tiny):  # noqa: F811
    model, tokenizer = tiny
    for page in PAGES:
        text = plain(page.live(LiveContext(model, tokenizer, "")))
        assert text.strip(), page.title
