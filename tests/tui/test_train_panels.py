"""The Train screen's newer panels, fed from a real run: bits per byte, the doctor's alerts, the system
line and the induction probe, live (as messages) and replayed (from ``metrics.jsonl``).

``data/doctor_run.jsonl`` is the real ``metrics.jsonl`` of a run at an absurd learning rate, recorded
with ``tui-transformer train --no-ui --preset tiny --data builtin --tokenizer bpe-512 --d-model 48
--n-layers 2 --n-heads 2 --d-ff 96 --seq-len 48 --batch-size 8 --lr 0.5 --warmup-frac 0
--max-steps 1500 --log-interval 10 --eval-interval 100 --eval-batches 2 --sample-interval 500
--device cpu`` on a busy 2-core machine: the doctor raised clipping twice and the plateau six times,
and the system sampler wrote 129 samples.
"""

import json
from pathlib import Path

import pytest

from tests.tui.helpers import make_app, run_dir_of, text_of
from tui_transformer.train.events import Alert, SystemSample, event_from_json
from tui_transformer.tui.messages import OpenLearnPage
from tui_transformer.tui.screens.learn import LearnScreen
from tui_transformer.tui.widgets.alert_panel import AlertPanel, alert_text, latest_per_rule
from tui_transformer.tui.widgets.line_chart import LineChart
from tui_transformer.tui.widgets.system_panel import SystemPanel, system_text

DOCTOR = Path(__file__).parent / "data" / "doctor_run.jsonl"
EVENTS = [event_from_json(line) for line in DOCTOR.read_text().splitlines() if line.strip()]
EVALS = [json.loads(line) for line in DOCTOR.read_text().splitlines() if '"EvalResult"' in line]


@pytest.fixture
def doctor_run(tmp_path) -> Path:
    return run_dir_of(DOCTOR, tmp_path, "doctor")


async def test_bpb_is_in_the_stats_and_m_charts_it_then_the_induction_probe(doctor_run):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert screen.attach(doctor_run)
        await pilot.pause()
        last = EVALS[-1]
        assert f"bpb {last['val_bpb']:.3f}" in str(screen.query_one("#stats").render())  # bpb 3.755
        chart = screen.query_one("#ppl-chart", LineChart)
        assert chart.title == "perplexity [m]"
        shown = {}
        for _ in range(3):
            await pilot.press("m")
            shown[chart.title] = [(line.series.xs, line.series.ys) for line in chart.lines]
            assert "┤" in str(chart.render())  # it draws, with its axis
        steps = [e["step"] for e in EVALS]
        assert shown["bits per byte [m]"] == [(steps, [e["val_bpb"] for e in EVALS])]
        assert shown["in-context learning [m]"] == [(steps, [e["in_context_learning"] for e in EVALS])]
        assert shown["induction head [m]"] == [(steps, [e["induction_score"] for e in EVALS])]
        await pilot.press("m")
        assert chart.title == "perplexity [m]" and len(chart.lines) == 2  # round the cycle: train and val


async def test_the_doctors_alerts_show_on_the_screen_and_a_opens_their_learn_page(doctor_run):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        strip = screen.query_one(AlertPanel)
        assert not strip.display  # a run without alerts gives the charts that row
        screen.attach(doctor_run)
        await pilot.pause()
        assert strip.display
        rows = [row.strip() for row in text_of(app, strip)]
        assert len(rows) == 2  # one line per rule, the newest rule first
        assert rows[0].startswith("⚠ step 1,491 plateau ×6  Learn (a) › Model and training  the loss has stayed")
        assert rows[1].startswith("⚠ step 265 clipping ×2  Learn › Model and training  the gradient norm was clipped")
        await pilot.press("a")
        await pilot.pause(0.3)
        assert isinstance(app.screen, LearnScreen) and app.screen.page.title == "Model and training"


async def test_at_80x24_the_strip_keeps_one_line_and_the_system_line_whole_fields(doctor_run):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        screen.attach(doctor_run)
        await pilot.pause()
        (alert_row,) = text_of(app, screen.query_one(AlertPanel))
        assert "plateau ×6" in alert_row and alert_row.rstrip().endswith("…")
        (system_row,) = text_of(app, screen.query_one(SystemPanel))
        assert system_row.split() == ["system", "cpu", "45%", "rss", "734.8", "MB", "MFU", "0.25%"]  # tok/s left out whole
        charts = [screen.query_one(f"#{chart_id}", LineChart) for chart_id in ("loss-chart", "ppl-chart")]
        assert all(chart.region.height >= 4 for chart in charts)  # title, two plot rows and the x axis


async def test_the_system_line_shows_the_newest_sample_live_and_on_replay(doctor_run, monkeypatch):
    from tui_transformer.tui.training_session import TrainingSession

    newest = [e for e in EVENTS if isinstance(e, SystemSample)][-1]

    def replayed(self, post):  # the trainer's real events, posted as the training worker posts them
        for event in EVENTS:
            post(event)

    monkeypatch.setattr(TrainingSession, "run", replayed)
    for live in (True, False):
        app = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            row = text_of(app, screen.query_one(SystemPanel))[0]
            assert "sampled every few seconds" in row  # nothing sampled yet
            if live:
                await pilot.press("s")
                await app.workers.wait_for_complete()
            else:
                screen.attach(doctor_run)
            await pilot.pause(0.3)
            assert screen.history.system == newest
            row = text_of(app, screen.query_one(SystemPanel))[0].split()
            # plausible: a share of two cores, the process's RAM, an MFU well under 100 %
            assert row[:3] == ["system", "cpu", f"{newest.cpu_percent:.0f}%"] and 0 < newest.cpu_percent <= 200
            assert row[4:6] == ["734.8", "MB"] and 50e6 < newest.rss_bytes < 8e9
            assert row[6:8] == ["MFU", "0.25%"] and row[8:] == ["tok/s", "417"]
            assert [a.rule for a in screen.history.alerts] == ["clipping"] * 2 + ["plateau"] * 6


def test_the_system_line_on_cuda_keeps_whole_fields_at_any_width():
    sample = SystemSample(step=10, cpu_percent=101.0, rss_bytes=2_000_000_000, tokens_per_sec=57_900.0, mfu=0.312,
                          cuda_allocated=1.2 * 2**30, cuda_reserved=2 * 2**30, gpu_util=87.0, time=0.0)
    wide = system_text(sample, 120).plain
    assert wide == "system  cpu 101%  rss 1.9 GB  cuda 1.2 GB / 2.0 GB  gpu 87%  MFU 31.2%  tok/s 57.9k"
    for width in range(10, len(wide)):
        text = system_text(sample, width).plain
        assert len(text) <= width and wide.startswith(text)
        assert text == "system" or not text.endswith(" ")  # whole fields: never a label without its value
    assert system_text(None, 30).plain.endswith("…")


def test_each_rule_keeps_its_newest_alert_and_its_count():
    def alert(step, rule):
        return Alert(step=step, rule=rule, message=f"{rule} at {step}", learn="Model and training", time=0.0)

    alerts = [alert(10, "clipping"), alert(20, "plateau"), alert(30, "clipping"), alert(40, "loss spike")]
    assert [(a.step, n) for a, n in latest_per_rule(alerts)] == [(40, 1), (30, 2), (20, 1)]
    assert alert_text(alerts, max_lines=2).plain.splitlines() == [
        "⚠ step 40 loss spike  Learn (a) › Model and training  loss spike at 40",
        "⚠ step 30 clipping ×2  Learn › Model and training  clipping at 30"]
    assert alert_text([]).plain == ""


async def test_an_older_run_without_the_new_events_shows_dashes_not_errors(recorded_run, notes):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        screen.attach(recorded_run)  # recorded before bpb, the doctor and the system sampler
        await pilot.pause()
        assert "bpb" not in str(screen.query_one("#stats").render())
        assert not screen.query_one(AlertPanel).display
        await pilot.press("m")
        assert "waiting for data" in str(screen.query_one("#ppl-chart", LineChart).render())
        await pilot.press("a")  # no alert: one line, and the screen stays
        await pilot.pause()
        assert notes[-1][1].startswith("no alert yet") and app.screen is screen
        app.post_message(OpenLearnPage("No such page"))
        await pilot.pause()
        assert notes[-1] == ("warning", "no Learn page called 'No such page'") and app.screen is screen


def test_snapshot_train_screen_with_alerts_120x40(snap_compare, doctor_run):
    async def run_before(pilot):
        pilot.app.screen.attach(doctor_run)
        await pilot.press("m")  # bits per byte
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=run_before)


def test_snapshot_train_screen_with_alerts_80x24(snap_compare, doctor_run):
    async def run_before(pilot):
        pilot.app.screen.attach(doctor_run)
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


@pytest.mark.slow  # trains a BPE and 60 real steps: 24 s headless here, 64 s through the dashboard (busy 2 cores)
async def test_a_real_run_at_an_absurd_rate_shows_its_alert_and_system_numbers(tmp_path, monkeypatch):
    # The trainer, the doctor and the sampler are the real ones; only the sampling interval is shortened
    # (5 s is longer than this whole run) so that the run writes system samples too.
    import random

    from tests.sentences import OBJECTS, SUBJECTS, VERBS
    from tests.tui.test_train_live import wait_until
    from tui_transformer.train.system import SystemSampler, rss_bytes

    monkeypatch.setattr(SystemSampler.__init__, "__defaults__", (0.2,))
    rng = random.Random(0)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for doc in range(40):
        sentences = [f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}." for _ in range(60)]
        (corpus / f"doc{doc:02d}.txt").write_text(" ".join(sentences) + "\n")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        screen.config_overrides = dict(  # the doctor's own real-run test: tiny, lr 0.5, no warmup
            data=str(corpus), tokenizer="bpe-300", device="cpu", seed=3, model_vocab_size=300, model_d_model=32,
            model_n_heads=2, model_n_layers=2, model_d_ff=64, model_max_seq_len=16, model_dropout=0.0,
            model_attention="explicit", batch_size=4, accumulation_steps=1, lr=0.5, warmup_frac=0.0, max_steps=60,
            eval_interval=1000, sample_interval=1000, checkpoint_interval=1000)
        await pilot.press("s")
        await wait_until(pilot, lambda: screen.history.finished is not None or screen.history.failed is not None, 120)
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)  # a redraw tick
        assert screen.history.finished is not None and screen.history.system is not None
        rows = [row.strip() for row in text_of(app, screen.query_one(AlertPanel))]
        assert rows and any(rule in rows[0] for rule in ("clipping", "loss spike")), rows
        assert "Learn (a) › Model and training" in rows[0]
        words = text_of(app, screen.query_one(SystemPanel))[0].split()
        assert words[:2] == ["system", "cpu"] and words[2].endswith("%") and words[3] == "rss"
        rss_mb = float(words[4]) * {"MB": 2**20, "GB": 2**30}[words[5]]
        assert rss_bytes() / 2 < rss_mb < rss_bytes() * 2  # the same process: /proc says about as much


async def test_the_setup_shows_its_progress_with_counts_then_logs_each_end():
    # The first ~24 s of a first run (the corpus, the tokenizer) showed one static line.
    from tui_transformer.data.bpe import MERGING
    from tui_transformer.data.builtin_corpus import BUILDING
    from tui_transformer.train.events import SetupProgress
    from tui_transformer.tui.messages import TrainingEvent

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        screen.history.preparing_run("starting a run: opening the data…", 0.0)
        for event in (SetupProgress(BUILDING, 1234, 1234, "files"), SetupProgress(MERGING, 1200, 7936, "tokens")):
            screen.post_message(TrainingEvent(event))
        await pilot.pause()
        screen.redraw()
        stats = text_of(app, screen.query_one("#stats"))[0]
        assert "tokenizer: learning merges: 1,200/7,936 tokens" in stats
        assert [line.message for line in screen.history.log][-1] == f"{BUILDING}: done (1,234 files)"
