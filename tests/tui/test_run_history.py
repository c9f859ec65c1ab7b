"""RunHistory: the fold from events to what the Train screen draws."""

from tui_transformer.train.events import (CheckpointSaved, EvalResult, LogMessage, RunFailed, RunFinished,
                                          RunStarted, Sample, StepMetrics)
from tui_transformer.tui.run_history import RunHistory, Series


def started(resumed_from_step=0):
    return RunStarted(run_dir="/r", run_name="r", config={}, device="cpu", preset="tiny", preset_reason="why",
                      n_params=1000, resumed_from_step=resumed_from_step, time=0.0)


def step(n, loss=3.0):
    return StepMetrics(step=n, max_steps=100, epoch=0, loss=loss, ppl=2.718 ** loss, lr=1e-3, grad_norm=0.5,
                       tokens_per_sec=1000.0, tokens_seen=n * 64, elapsed_s=n, eta_s=100 - n, time=0.0)


def test_events_fill_series_panels_and_state():
    history = RunHistory()
    assert history.state == "idle"
    history.absorb(started())
    for n in range(1, 6):
        history.absorb(step(n, loss=5.0 - n / 2))
    history.absorb(EvalResult(step=5, val_loss=3.1, val_ppl=22.2, train_loss=2.9, verdict="normal", time=0.0))
    history.absorb(Sample(step=3, prompt="The", text=" old", time=0.0))
    history.absorb(Sample(step=5, prompt="The", text=" new", time=0.0))
    history.absorb(CheckpointSaved(step=5, path="/r/checkpoints/latest.pt", kind="latest", time=0.0))
    assert history.state == "running"
    assert history.train_loss.xs == [1, 2, 3, 4, 5]
    assert history.train_loss.ys == [4.5, 4.0, 3.5, 3.0, 2.5]
    assert history.val_loss.xs == [5] and history.val_ppl.ys == [22.2]
    assert [s.text for s in history.samples] == [" new", " old"]  # newest first
    assert history.last_checkpoint.kind == "latest" and history.last_step.step == 5
    history.absorb(RunFinished(step=5, reason="max_steps", tokens_seen=320, final_val_loss=3.1, time=0.0))
    assert history.state == "finished"


def test_failure_and_log_lines_are_kept_in_order():
    history = RunHistory()
    history.absorb(started())
    history.absorb(LogMessage(level="warning", message="slow disk", time=0.0))
    seen = history.log_count
    history.absorb(RunFailed(step=3, reason="loss is NaN", time=0.0))
    assert history.state == "failed"
    new = history.log_since(seen)
    assert len(new) == 1 and new[0].level == "error" and "NaN" in new[0].message
    assert history.log_since(history.log_count) == []


def test_resume_drops_the_steps_that_are_redone():
    history = RunHistory()
    history.absorb(started())
    for n in range(1, 11):
        history.absorb(step(n))
    history.absorb(started(resumed_from_step=6))  # the checkpoint was at step 6; steps 7.. are redone
    assert history.train_loss.xs == [1, 2, 3, 4, 5, 6]
    history.absorb(step(7))
    assert history.train_loss.xs[-2:] == [6, 7]


def test_series_halves_its_resolution_when_full_and_keeps_the_newest_point():
    series = Series("loss", max_points=100)
    for n in range(1, 1001):
        series.append(n, float(n))
    assert len(series) <= 101
    assert series.xs[0] == 1 and series.xs[-1] == 1000
    assert series.xs == sorted(series.xs)
    series.append(1001, float("nan"))  # cannot be drawn: skipped
    assert series.xs[-1] == 1000


def test_unknown_events_are_ignored():
    history = RunHistory()
    history.absorb(object())
    assert history.version == 0


def test_the_empty_samples_tab_says_how_often_and_when_the_first_sample_comes():
    # It said "every sample_interval steps", the config's field name, not the number.
    from tui_transformer.tui.widgets.samples_view import samples_text

    history = RunHistory()
    assert "sample_interval" in samples_text(history).plain  # no run yet: the setting's name is all there is
    for resumed, first in ((0, 200), (450, 600)):
        history = RunHistory()
        history.absorb(RunStarted(run_dir="/r", run_name="r", config={"sample_interval": 200}, device="cpu",
                                  preset="tiny", preset_reason="", n_params=1, resumed_from_step=resumed))
        assert samples_text(history).plain == f"no samples yet: this run writes one every 200 steps; the first at step {first}"


def test_the_log_wraps_a_path_after_a_slash_not_inside_a_name():
    from tui_transformer.tui.widgets.log_pane import wrap_line

    message = "step 120: saved latest checkpoint /tmp/tt-runs/recorded/checkpoints/latest.pt"
    lines = wrap_line(message, 40)
    assert lines == ["step 120: saved latest checkpoint /tmp/", "tt-runs/recorded/checkpoints/latest.pt"]
    assert "".join(line if line.endswith("/") else line + " " for line in lines).strip() == message
    assert wrap_line("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]  # a piece wider than a line is cut
    assert wrap_line("", 10) == [""]


def test_bpb_the_induction_probe_and_system_samples_are_kept_and_a_resume_drops_redone_alerts():
    from tui_transformer.train.events import Alert, SystemSample

    history = RunHistory()
    history.absorb(started())
    history.absorb(EvalResult(step=5, val_loss=3.1, val_ppl=22.2, train_loss=2.9, verdict="normal", val_bpb=1.5,
                              in_context_learning=0.2, induction_score=0.3, time=0.0))
    history.absorb(EvalResult(step=6, val_loss=3.0, val_ppl=20.1, train_loss=2.8, verdict="normal", time=0.0))  # older
    assert (history.val_bpb.ys, history.in_context.ys, history.induction.ys) == ([1.5], [0.2], [0.3])
    assert history.val_loss.xs == [5, 6]
    sample = SystemSample(step=6, cpu_percent=180.0, rss_bytes=10**8, tokens_per_sec=1e3, mfu=0.01, time=0.0)
    history.absorb(sample)
    assert history.system is sample
    for n in (4, 9):
        history.absorb(Alert(step=n, rule="clipping", message="m", learn="Model and training", time=0.0))
    history.absorb(started(resumed_from_step=6))  # step 9 is redone: so is its alert, if the run still clips
    assert [alert.step for alert in history.alerts] == [4]
