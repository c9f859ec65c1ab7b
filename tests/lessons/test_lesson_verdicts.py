"""The text lessons' verdicts on runs written by hand: each reads the numbers it claims to, and says
when the runs did not show the effect. (Their full-length runs are measured in docs/lessons.md.)"""

from pathlib import Path

import pytest

from tui_transformer.lessons import batch_accumulation, learning_rate, scaling, tokenizers
from tui_transformer.lessons.verdict import LessonRuns, RunRecord
from tui_transformer.train.events import Alert


def record(label, summary=None, history=(), alerts=(), values=None, config=None, n_params=None):
    return RunRecord(label=label, name=f"lesson-{label}", path=Path("/nowhere"), values=values or {},
                     state="finished (max_steps)", ended=True, history=list(history), summary=summary or {},
                     evals=[], alerts=list(alerts), config=config or {}, n_params=n_params)


def scaling_run(width, final_loss):
    """A run of the scaling lesson whose val loss falls to ``final_loss`` over its budget."""
    arm = dict(scaling.size(width))
    shape = scaling.SHAPE | {"d_model": width, "d_ff": 4 * width}
    tokens = arm["max_tokens"]
    history = [{"step": i, "tokens_seen": tokens * i // 10, "val_loss": final_loss + 3.0 / i} for i in range(1, 11)]
    return record(f"d{width}", {"best_val_loss": final_loss + 0.3, "tokens_seen": tokens}, history,
                  config={"model": shape}, n_params=width * 1000)


def test_scaling_calls_a_middle_size_that_wins_a_u_and_reads_the_frontier():
    runs = LessonRuns([scaling_run(32, 4.2), scaling_run(64, 4.0), scaling_run(128, 4.3), scaling_run(192, 4.6)], 4)
    verdict = scaling.verdict(runs)
    assert verdict.shown is True and "d64" in verdict.headline
    assert verdict.numbers["frontier_slope"] < 0 and "FLOPs^-" in verdict.lines[-2]
    assert [chart.log_x and chart.log_y for chart in verdict.charts] == [True, True]
    assert list(verdict.charts[0].series) == ["d32", "d64", "d128", "d192"]


@pytest.mark.parametrize(("losses", "why"), [((4.6, 4.3, 4.1, 4.0), "largest"), ((4.0, 4.1, 4.3, 4.6), "smallest")])
def test_scaling_says_so_when_no_middle_size_won(losses, why):
    runs = LessonRuns([scaling_run(width, loss) for width, loss in zip(scaling.WIDTHS, losses)], 4)
    verdict = scaling.verdict(runs)
    assert verdict.shown is False and f"the {why} learned best" in verdict.headline and verdict.try_next


def test_the_frontier_keeps_the_lowest_loss_reached_so_far():
    curves = {"small": [(1.0, 5.0), (2.0, 4.0), (4.0, 3.8)], "big": [(1.5, 6.0), (3.0, 3.9), (4.0, 3.5)]}
    assert scaling.frontier(curves) == [(1.0, 5.0, "small"), (2.0, 4.0, "small"), (3.0, 3.9, "big"),
                                        (4.0, 3.5, "big")]


def test_every_batch_accumulation_run_is_scored_on_the_same_windows_at_the_same_sequences():
    arms = {arm.label: arm.values for arm in batch_accumulation.LESSON.arms}
    assert {o["eval_batches"] * o["batch_size"] for o in arms.values()} == {batch_accumulation.EVAL_WINDOWS}
    assert {o["eval_interval"] * o["batch_size"] * o["accumulation_steps"] for o in arms.values()} == {32 * 50}


def test_the_learning_rate_verdict_needs_an_alert_on_the_high_rate():
    def lr_run(label, loss, rules=()):
        alerts = [Alert(step=5, rule=rule, message="m", learn="Model and training", time=0.0) for rule in rules]
        return record(label, {"best_val_loss": loss}, alerts=alerts, values={"lr": learning_rate.RATES[label]})

    quiet = LessonRuns([lr_run("low", 7.3), lr_run("right", 4.5), lr_run("high", 6.5)], 3)
    assert learning_rate.verdict(quiet).shown is False and "no alert" in learning_rate.verdict(quiet).headline
    flagged = LessonRuns([lr_run("low", 7.3), lr_run("right", 4.5), lr_run("high", 6.5, ["worse than guessing"])], 3)
    assert learning_rate.verdict(flagged).shown is True


def test_the_tokenizers_verdict_gives_the_bytes_a_token_holds():
    runs = LessonRuns([record("bpe-257", {"best_val_loss": 1.656, "best_val_bpb": 2.389}),
                       record("bpe-4096", {"best_val_loss": 4.974, "best_val_bpb": 1.873})], 2)
    verdict = tokenizers.verdict(runs)
    assert verdict.numbers["bpe-4096"]["bytes_per_token"] == pytest.approx(4.974 / 0.693147 / 1.873, rel=1e-4)
    assert "a token is 3.8 bytes" in verdict.lines[0] and "a token is 1.0 bytes" in verdict.lines[1]
    assert "ranks them differently" in verdict.headline


def test_a_run_whose_weights_cannot_be_read_is_named_and_the_others_still_give_the_verdict(tmp_path):
    from tui_transformer.lessons import overfitting, positions

    damaged = tmp_path / "positions-rope"
    (damaged / "checkpoints").mkdir(parents=True)
    (damaged / "checkpoints" / "best.pt").write_bytes(b"not a checkpoint")
    rope = RunRecord(label="rope", name=damaged.name, path=damaged, values={}, state="finished (max_time)", ended=True,
                     history=[], summary={"steps": 10, "best_val_loss": 4.0}, evals=[], alerts=[],
                     config={"model": {"max_seq_len": 64}}, n_params=1)
    numbers = positions.read_run(rope)
    assert numbers["unreadable"] and numbers["carry_over"] is None
    assert positions.describe("rope", numbers).startswith("rope: its weights could not be read: ")
    assert overfitting.best_checkpoint_step(damaged).startswith("best.pt could not be read: ")
    assert overfitting.best_checkpoint_step(tmp_path) == "there is no best.pt"


@pytest.mark.parametrize(("modern_bpb", "shown"), [(1.76, True), (1.905, False), (1.95, False)])
def test_the_speedrun_counts_the_modern_gain_only_beyond_one_seeds_noise(modern_bpb, shown):
    from tui_transformer.lessons import speedrun

    def arm(label, bpb, steps):
        return record(label, {"best_val_bpb": bpb, "steps": steps})

    runs = LessonRuns([arm("classic", 1.91, 290), arm("modern", modern_bpb, 258), arm("wsd", 1.82, 295)], 3)
    verdict = speedrun.verdict(runs)
    assert verdict.shown is shown
    if modern_bpb == 1.905:
        assert "within one seed's noise" in verdict.headline and verdict.try_next
    if modern_bpb < 1.91 and modern_bpb > 1.82:  # a single change did better than the whole recipe: said, with the steps
        assert any("wsd alone beat the modern recipe" in line and "258 steps to classic's 290" in line
                   for line in verdict.lines)
