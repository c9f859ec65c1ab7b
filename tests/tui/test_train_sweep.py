"""A sweep started from the Train form: real runs trained one after another, and the queue that shows them.

The runs are real (3 steps of a d32 model over the small corpus), so the moments the queue is read at
are made certain with the dashboard's own pause: a spy on the worker's sweep notice pauses each run
before its first step, as a learner pressing space would, and the test presses space to go on.
"""

import json

import pytest
from textual.widgets import Input, Static

from tests.tui.helpers import make_app, plain, text_of
from tui_transformer.cli import main
from tui_transformer.tui.training_session import TrainingSession
from tui_transformer.tui.widgets.sweep_queue import SweepQueue

TINY = dict(tokenizer="bpe-300", device="cpu", model_d_model=32, model_n_layers=1, model_n_heads=2,
            model_d_ff=64, model_max_seq_len=16, batch_size=4, eval_interval=3, eval_batches=1,
            sample_interval=1000, sample_tokens=8, checkpoint_interval=1000)


async def wait_until(pilot, condition, timeout_s=120.0):
    for _ in range(int(timeout_s / 0.05)):
        if condition():
            await pilot.pause(0.15)  # one redraw tick of the 10 Hz timer
            return
        await pilot.pause(0.05)  # an explicit delay: pause() alone waits for an idle process, never true while training
    raise AssertionError("timed out")


@pytest.fixture
def paused_at_each_run(monkeypatch):
    """Every sweep run trained from the dashboard waits before its first step until space is pressed."""
    original = TrainingSession.run_sweep

    def run_sweep(self, post, on_sweep_run):
        def notice(index, action, run_dir, best_val_bpb):
            if action != "skip":
                self.pause.set()
            on_sweep_run(index, action, run_dir, best_val_bpb)

        return original(self, post, notice)

    monkeypatch.setattr(TrainingSession, "run_sweep", run_sweep)


def fill_form(screen, corpus, vary: str, name: str = "") -> None:
    screen.config_overrides = dict(TINY, data=str(corpus))
    screen.query_one("#budget", Input).value = "3"
    screen.query_one("#vary", Input).value = vary
    screen.query_one("#sweep-name", Input).value = name


def queue_rows(app) -> dict[str, str]:
    """The queue's lines on screen, by their mark and run number (``"✓1"``), for the runs shown."""
    lines = [line.strip() for line in text_of(app, app.screen.query_one(SweepQueue))]
    return {line.split()[0]: line for line in lines if line[:1] in "·▶✓■✗"}


def run_started(app, name):
    return lambda: app.screen.history.started is not None and app.screen.history.started.run_name == name


async def test_a_2x1_sweep_from_the_form_trains_two_runs_and_the_queue_follows_them(corpus, paused_at_each_run,
                                                                                      tmp_path):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert not screen.query_one(SweepQueue).display  # no sweep yet: no queue
        fill_form(screen, corpus, "lr=1e-3,3e-3", "grid")
        await pilot.press("s")
        await wait_until(pilot, run_started(app, "grid-1"))
        rows = queue_rows(app)
        assert set(rows) == {"▶1", "·2"}, rows  # run 1 running, run 2 waiting
        assert "0.001" in rows["▶1"] and "running" in rows["▶1"] and "0.003" in rows["·2"]
        assert "waiting" in rows["·2"]
        await pilot.press("space")  # go on: run 1 trains its 3 steps, run 2 starts and waits
        await wait_until(pilot, run_started(app, "grid-2"))
        rows = queue_rows(app)
        assert set(rows) == {"✓1", "▶2"}, rows
        best_1 = app.training.progress.runs[0].best_val_bpb
        assert best_1 is not None and f"{best_1:.3f}" in rows["✓1"] and "done" in rows["✓1"]
        assert screen.history.train_loss.xs == []  # the screen follows run 2 from empty panels
        await pilot.press("space")
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        rows = queue_rows(app)
        assert set(rows) == {"✓1", "✓2"}, rows
        assert "sweep grid · 2/2 done" in "\n".join(text_of(app))
        assert screen.history.train_loss.xs == [1, 2, 3]  # run 2's own steps
    for index, lr in ((1, 1e-3), (2, 3e-3)):
        events = [json.loads(line) for line in (tmp_path / "runs" / f"grid-{index}" / "metrics.jsonl").open()]
        started = next(event for event in events if event["event"] == "RunStarted")
        assert started["config"]["sweep"] == "grid" and started["config"]["lr"] == lr
        assert events[-1]["event"] == "RunFinished" and events[-1]["step"] == 3


@pytest.mark.parametrize("vary, name, field, message", [
    ("lrr=1e-3", "bad", "vary", "no setting called 'lrr' (did you mean lr?)"),  # read as typed
    ("lr=-1,1e-3", "bad", "vary", "sweep run 1 (lr=-1.0): lr must be a positive number"),  # when planned
    ("lr=1e-3,2e-3", "taken", "vary", "a sweep called 'taken' exists"),
    ("lr=1e-3,2e-3", "a b", "sweep-name", "sweep name 'a b' may only use letters"),
    ("", "nosuch", "sweep-name", "no sweep called 'nosuch'"),  # a name alone continues a sweep: none is there
])
async def test_bad_sweep_input_is_one_line_in_the_form_and_trains_nothing(vary, name, field, message, corpus,
                                                                          tmp_path):
    runs = tmp_path / "runs"
    (runs / ".sweeps").mkdir(parents=True)
    (runs / ".sweeps" / "taken.json").write_text("{}")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        fill_form(screen, corpus, vary, name)
        await pilot.press("s")
        await pilot.pause()
        error = screen.query_one(f"#{field}-error", Static)
        assert error.display and message in str(error.render()) and "\n" not in str(error.render())
        assert app.training is None and not app.training_active
        assert not screen.query_one(SweepQueue).display
    assert sorted(path.name for path in runs.rglob("*")) == [".sweeps", "taken.json"]  # nothing written


async def test_stop_during_a_sweep_leaves_it_resumable_by_the_cli_and_by_the_form(corpus, paused_at_each_run,
                                                                                   tmp_path, capsys):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        fill_form(screen, corpus, "lr=1e-3,3e-3", "halt")
        await pilot.press("s")
        await wait_until(pilot, run_started(app, "halt-1"))
        await pilot.press("space")
        await wait_until(pilot, run_started(app, "halt-2"))
        await pilot.press("x")  # stop: run 2 ends with its checkpoint, and the sweep with it
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        rows = queue_rows(app)
        assert set(rows) == {"✓1", "■2"} and "stopped" in rows["■2"], rows
        # the form continues it: its name alone, vary blank (the other fields do not matter: it has its own)
        screen.query_one("#vary", Input).value = ""
        await pilot.press("s")
        await wait_until(pilot, run_started(app, "halt-2"))
        rows = queue_rows(app)
        assert set(rows) == {"✓1", "▶2"}, rows  # run 1 skipped (done), run 2 resumed
        await pilot.press("x")
        await app.workers.wait_for_complete()
    runs = tmp_path / "runs"
    assert (runs / "halt-2" / "checkpoints" / "latest.pt").is_file()
    capsys.readouterr()
    assert main(["sweep", "--resume", "halt", "--json"]) == 0  # the CLI finishes what the dashboard began
    out, err = capsys.readouterr()
    assert "run 1/2 (lr=0.001): skip" in err and "run 2/2 (lr=0.003): resume" in err
    result = json.loads(out)
    assert sorted((row["run"], row["state"], row["steps"]) for row in result["ranked"]) == [
        ("halt-1", "finished (max_steps)", 3), ("halt-2", "finished (max_steps)", 3)]
    assert not (runs / "halt-3").exists()


@pytest.mark.parametrize("width", [27, 31])  # the sidebar's inside at 80x24 and at 120x40
def test_the_queue_fits_the_sidebar_and_says_each_runs_state(width):
    from tui_transformer.presets import PRESETS
    from tui_transformer.train.events import EvalResult, RunFinished
    from tui_transformer.train.sweep import parse_grid, plan
    from tui_transformer.tui.sweep_progress import SweepProgress
    from tui_transformer.tui.widgets.sweep_queue import queue_table

    progress = SweepProgress(plan("pe", PRESETS["tiny"], parse_grid("pos_encoding=sinusoidal,learned,rope; lr=1e-3,2e-3")))
    progress.run_starting(0, "start")
    for bpb in (3.5, 3.25, 3.4):  # the best of its evaluations counts, not the last
        progress.note(EvalResult(step=1, val_loss=1.0, val_ppl=2.7, train_loss=1.0, verdict="", val_bpb=bpb))
    progress.note(RunFinished(step=3, reason="max_steps", tokens_seen=1, final_val_loss=1.0))
    progress.run_starting(1, "start")
    progress.note(RunFinished(step=1, reason="stopped", tokens_seen=1, final_val_loss=None))
    lines = plain(queue_table(progress), width=width).rstrip("\n").splitlines()
    assert max(len(line.rstrip()) for line in lines) <= width
    text = "\n".join(lines)
    assert lines[0].startswith("sweep pe · 1/6 done") and "pos_encoding, lr" in text
    runs: list[list[str]] = []  # each run's lines: a long pair of values wraps inside its column
    for line in lines[1:]:
        if line[:1] in "·▶✓■✗":
            runs.append([line])
        elif runs:
            runs[-1].append(line)
    assert len(runs) == 6 and all(len(run) <= 2 for run in runs)
    first, second = " ".join(runs[0]), " ".join(runs[1])
    assert runs[0][0].startswith("✓1 sinusoidal,") and "0.001" in first and runs[0][0].rstrip().endswith("done 3.250")
    assert runs[1][0].startswith("■2 sinusoidal,") and "0.002" in second and runs[1][0].rstrip().endswith("stopped")
    assert all(run[0].rstrip().endswith("waiting") for run in runs[2:])
