"""The Train screen fed from a recorded run: attach, live follow, toggles, detail tabs and snapshots."""

import shutil

import pytest

from textual.widgets import Input, Select, TabbedContent

from tests.tui.helpers import RECORDED, make_app
from tui_transformer.train.run_lock import RunLock
from tui_transformer.tui.screens.run_picker import RunPickerScreen
from tui_transformer.tui.widgets.line_chart import LineChart

RECORDED_LINES = RECORDED.read_text().splitlines(keepends=True)
N_STEPS = sum('"StepMetrics"' in line for line in RECORDED_LINES)
N_EVALS = sum('"EvalResult"' in line for line in RECORDED_LINES)


async def test_attach_replays_the_run_into_charts_and_panels(recorded_run):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert screen.attach(recorded_run)
        await pilot.pause()
        history = screen.history
        assert len(history.train_loss) == N_STEPS == 120 and len(history.val_loss) == N_EVALS
        assert history.state == "finished" and history.samples[0].step == 120
        assert app.sub_title.endswith("recorded: finished")  # not "following": the run has ended
        stats = str(screen.query_one("#stats").render())
        assert "step 120/120" in stats and "finished" in stats
        chart = screen.query_one("#loss-chart", LineChart)
        assert "┤" in str(chart.render()) and "120" in str(chart.render())


async def test_attach_follows_lines_appended_later(tmp_path):
    run_dir = tmp_path / "growing"
    run_dir.mkdir()
    head = [line for line in RECORDED_LINES if '"RunFinished"' not in line]
    (run_dir / "metrics.jsonl").write_text("".join(head[:40]))
    trainer = RunLock(run_dir)  # another process keeps training: it holds the run's lock
    trainer.acquire()
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        screen.attach(run_dir)
        await pilot.pause()
        before = len(screen.history.train_loss)
        assert screen.history.state == "running"
        with (run_dir / "metrics.jsonl").open("a") as handle:  # another process keeps training
            handle.write("".join(head[40:]))
        for _ in range(40):
            await pilot.pause(0.1)
            if len(screen.history.train_loss) == N_STEPS:
                break
        assert before < N_STEPS == len(screen.history.train_loss)
        assert app.sub_title.endswith("following growing")  # still running: there is something to follow
        assert str(screen.query_one("TabBar").render()).endswith("following growing · running")
        trainer.release()  # the trainer died without an ending: `runs list` says interrupted, and so does the app
        await pilot.pause(0.7)
        assert app.sub_title.endswith("growing: interrupted")
        stats = str(screen.query_one("#stats").render())
        assert "run growing  interrupted" in stats and "ETA" not in stats  # nothing is left to wait for


async def test_open_run_dialog_attaches_by_path_and_bad_paths_are_explained(recorded_run, tmp_path, notes):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("o")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, RunPickerScreen)
        path = app.screen.query_one("#path", Input)
        path.value = str(tmp_path / "nowhere")
        path.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert any("no such run directory" in text or "no run called" in text for _, text in notes), notes
        await pilot.press("o")
        await app.workers.wait_for_complete()
        path = app.screen.query_one("#path", Input)
        path.value = str(recorded_run)
        path.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.attached is not None and len(app.screen.history.train_loss) == N_STEPS


async def test_runs_in_the_runs_folder_are_listed_in_the_dialog(recorded_run, tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    (runs / "demo").mkdir(parents=True)
    shutil.copy(recorded_run / "metrics.jsonl", runs / "demo" / "metrics.jsonl")
    (runs / "demo" / "config.toml").write_text('preset = "tiny"\n')
    monkeypatch.setenv("TUI_TRANSFORMER_RUNS", str(runs))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("o")
        await app.workers.wait_for_complete()
        await pilot.pause()
        options = app.screen.query_one("#runs")
        assert options.option_count == 1 and "demo" in str(options.get_option_at_index(0).prompt)
        await pilot.press("enter")  # the highlighted run
        await pilot.pause()
        assert app.screen.attached is not None and app.screen.attached.path.parent.name == "demo"


async def test_log_and_window_toggles_and_hiding_the_form(recorded_run):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        screen.attach(recorded_run)
        await pilot.press("l")
        loss = screen.query_one("#loss-chart", LineChart)
        assert loss.log and "[log]" in str(loss.render())
        await pilot.press("w")
        assert loss.window == 100 and "[last 100]" in str(loss.render())
        await pilot.press("w", "w")
        assert loss.window is None
        await pilot.press("f")
        assert not screen.query_one("#sidebar").display
        await pilot.press("f")
        assert screen.query_one("#sidebar").display


def _attached(tab: str | None = None):
    async def run_before(pilot):
        app = pilot.app
        app.screen.attach(app.recorded_dir)
        if tab:
            app.screen.query_one(TabbedContent).active = tab
        await pilot.pause()
    return run_before


def test_snapshot_train_screen_120x40(snap_compare, recorded_run):
    app = make_app()
    app.recorded_dir = recorded_run
    assert snap_compare(app, terminal_size=(120, 40), run_before=_attached())


def test_snapshot_train_screen_80x24(snap_compare, recorded_run):
    app = make_app()
    app.recorded_dir = recorded_run
    assert snap_compare(app, terminal_size=(80, 24), run_before=_attached())


def test_snapshot_train_screen_data_tab(snap_compare, recorded_run):
    app = make_app()
    app.recorded_dir = recorded_run
    assert snap_compare(app, terminal_size=(120, 40), run_before=_attached("data-tab"))


async def test_resume_from_the_dashboard_keeps_the_runs_whole_history(recorded_run, tmp_path, monkeypatch):
    # The charts restarted at the resume step (x labels 1.02k 1.02k 1.03k) and the Samples tab was empty.
    from tui_transformer.presets import PRESETS
    from tui_transformer.train import config_file
    from tui_transformer.train.events import RunStarted, StepMetrics
    from tui_transformer.tui.training_session import TrainingSession

    config_file.write(PRESETS["tiny"].with_overrides(data="builtin"), recorded_run / "config.toml")
    monkeypatch.setenv("TUI_TRANSFORMER_RUNS", str(tmp_path))

    def resumed_run(self, post):  # the trainer continuing from the checkpoint at step 60
        post(RunStarted(run_dir=str(recorded_run), run_name="recorded", config={}, device="cpu", preset="tiny",
                        preset_reason="", n_params=1, resumed_from_step=60))
        for step in (61, 62):
            post(StepMetrics(step=step, max_steps=120, epoch=0, loss=3.0, ppl=20.0, lr=1e-3, grad_norm=1.0,
                             tokens_per_sec=1.0, tokens_seen=step, elapsed_s=0.0, eta_s=None))

    monkeypatch.setattr(TrainingSession, "run", resumed_run)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")  # the only run
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        history = app.screen.history
        assert history.train_loss.xs[:3] == [1, 2, 3] and history.train_loss.xs[-3:] == [60, 61, 62]
        assert history.samples and history.samples[-1].step <= 60  # the samples recorded before the stop
        assert max(history.val_loss.xs) <= 60  # the evaluations after the checkpoint are redone


async def test_the_form_shows_the_followed_runs_settings_and_hides_keys_that_do_nothing(recorded_run):
    # Attached, the form kept its own preset, budget and eval interval; x and space were in the footer.
    from tests.tui.helpers import text_of

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        screen.query_one("#preset", Select).value = "seed"
        await pilot.pause()
        assert screen.attach(recorded_run)
        await pilot.pause()
        assert screen.query_one("#preset", Select).value == "tiny"
        assert screen.query_one("#budget", Input).value == "120" and screen.query_one("#eval-interval", Input).value == "10"
        assert screen.query_one("#tokenizer", Select).value == "bpe-512"
        footer = text_of(app)[-1]
        assert "s Start" in footer and "x Stop" not in footer and "space Pause" not in footer


async def test_the_form_names_what_auto_became(monkeypatch):
    # "Data read auto after it became builtin."
    from tests.tui.helpers import make_app as app_for, text_of
    from tui_transformer.train.events import RunStarted, ShardStatus
    from tui_transformer.tui.training_session import TrainingSession

    def run(self, post):
        post(RunStarted(run_dir="/tmp/fake", run_name="fake", config={}, device="cpu (fp32)", preset="tiny",
                        preset_reason="auto: no GPU", n_params=1))
        post(ShardStatus(source="builtin", description="the builtin corpus", status={}))

    monkeypatch.setattr(TrainingSession, "run", run)
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        assert screen.query_one("#preset", Select).value == "tiny"  # the run's config names its preset
        for select_id, label in (("data", "auto → builtin"), ("device", "auto → cpu")):
            select = screen.query_one(f"#{select_id}", Select)
            shown = "".join(text_of(app, select))
            assert select.value == "auto" and label in shown, (select_id, shown)


async def test_at_80x24_the_stats_keep_the_runs_line_and_placeholders_stay_one_line(recorded_run):
    # The first stats line wrapped, pushing "run … finished" out of the panel's three rows;
    # the idle charts' placeholder wrapped onto two lines.
    from tests.tui.helpers import text_of

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        chart = app.screen.query_one("#loss-chart", LineChart)
        assert sum(bool(line.strip()) for line in text_of(app, chart)) == 2  # the title and "no run yet"
        app.screen.attach(recorded_run)
        await pilot.pause()
        rows = text_of(app, app.screen.query_one("#stats"))
        assert rows[0].strip().startswith("step 120/120") and rows[2].strip().startswith("run recorded  finished")


@pytest.mark.slow  # the whole app twice: about 3 s
async def test_at_80x24_the_charts_have_rows_to_draw_in_and_l_says_log_scale(recorded_run):
    # Four charts with 2 plot rows each, even with the form hidden, above 5 empty rows of samples;
    # and the footer's "l Log" read as the Log tab's key.
    from tests.tui.helpers import text_of

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        screen.attach(recorded_run)
        await pilot.press("f")
        loss = screen.query_one("#loss-chart", LineChart)
        assert loss.region.height >= 10  # title, 8 plot rows or more, x axis
        assert screen.query_one("#ppl-chart").region.height == loss.region.height
        assert not screen.query_one("#lr-chart").display and not screen.query_one("#tps-chart").display
        assert "l Log scale" in text_of(app)[-1]
    async with make_app().run_test(size=(120, 40)) as pilot:  # a tall terminal keeps all four
        assert pilot.app.screen.query_one("#lr-chart").region.height >= 8
