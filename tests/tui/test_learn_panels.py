"""The Learn panels' parts that do not need the app: the training summary, the heatmap, empty prompts."""


from tests.tui.helpers import RECORDED, plain
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


def test_every_page_survives_an_empty_prompt_and_markup_in_tokens(tiny):
    model, tokenizer = tiny
    for page in PAGES:
        text = plain(page.live(LiveContext(model, tokenizer, "")))
        assert text.strip(), page.title
        # token text is shown as text: "[/b]" alone would be a rich markup error
        text = plain(page.live(LiveContext(model, tokenizer, "[/b] [b]bold")))
        assert text.strip(), page.title
    assert "[/" in plain(PAGES[0].live(LiveContext(model, tokenizer, "[/b] [b]bold")))


def test_bpe_merges_replay_ends_in_the_tokenizers_own_tokens(tiny):
    from tui_transformer.tui.learn.tokenization import bpe_merges, longest_word

    _, tokenizer = tiny
    ranks = tokenizer.encoding._mergeable_ranks
    for word in (" unbelievably", " tokenization", "Hello", " ünïcödé", " 12345"):
        steps = bpe_merges(ranks, word.encode())
        assert steps[0] == [bytes([b]) for b in word.encode()]
        assert all(len(after) == len(before) - 1 for before, after in zip(steps, steps[1:]))  # one merge a step
        assert steps[-1] == [tokenizer.encoding.decode_single_token_bytes(i) for i in tokenizer.encode(word)]
    assert longest_word(tokenizer.encoding, "The cat sat, unbelievably.") == b" unbelievably"
