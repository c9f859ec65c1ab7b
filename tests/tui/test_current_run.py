"""One current run for the whole dashboard: every screen follows it, the tab bar shows it, its states agree.

The runs are real run directories (a tiny model's checkpoints and the recorded metrics), opened the
way a learner opens them: with the Runs screen's keys.
"""

import shutil

import pytest
from textual import events
from textual.widgets import Button

from tests.tui.helpers import RECORDED, fake_session_run, make_app, text_of, write_run
from tui_transformer.tui.screens.learn import LearnScreen
from tui_transformer.tui.screens.playground import PlaygroundScreen
from tui_transformer.tui.screens.runs import RunsScreen
from tui_transformer.tui.training_session import TrainingSession
from tui_transformer.tui.widgets.run_list import YOUR_RUN, RunSelect
from tui_transformer.tui.widgets.run_table import RunTable
from tui_transformer.tui.widgets.tab_bar import TabBar


@pytest.fixture
def two_runs(tmp_path, monkeypatch):
    """Runs ``alpha`` and ``beta`` under a fresh runs folder, each with a checkpoint and the recorded metrics."""
    runs = tmp_path / "runs"
    for name in ("alpha", "beta"):
        write_run(runs, name, ("latest",))
        shutil.copy(RECORDED, runs / name / "metrics.jsonl")
    monkeypatch.setenv("TUI_TRANSFORMER_RUNS", str(runs))
    return runs


async def settle(app, pilot) -> None:
    """Until the workers a step started (a listing, then the load it picks) are done and their results drawn."""
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def open_from_runs_screen(app, pilot, name: str, key: str) -> None:
    """``5``, the cursor on run ``name``, then ``key`` (o, g or e)."""
    await pilot.press("f5")  # (F1-F5 switch from anywhere: the Playground's prompt takes digits)
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, RunsScreen)
    table = screen.query_one(RunTable)
    table.move_cursor(row=table.get_row_index(name))
    await pilot.press(key)
    await settle(app, pilot)


def bar_text(app) -> str:
    return str(app.screen.query_one(TabBar).render())


@pytest.mark.slow
async def test_every_screen_follows_the_current_run_and_a_pin_holds_until_cleared(two_runs):
    # Learn kept explaining an older run, the header kept the run trained before, and the Runs screen
    # drove the other screens' pickers in a retry loop. Now one value says which run, and all follow it.
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_from_runs_screen(app, pilot, "alpha", "o")
        assert app.current_mode == "train" and app.current_run.path == two_runs / "alpha"
        assert app.sub_title.endswith("alpha: finished") and "run alpha  finished" in str(
            app.screen.query_one("#stats").render())
        for key, screen_type in (("f2", PlaygroundScreen), ("f4", LearnScreen)):
            await pilot.press(key)
            await settle(app, pilot)
            assert isinstance(app.screen, screen_type)
            assert app.screen.query_one(RunSelect).picked.startswith(str(two_runs / "alpha"))

        await open_from_runs_screen(app, pilot, "beta", "o")  # another run: every screen moves to it
        assert app.sub_title.endswith("beta: finished")
        for key in ("f2", "f3", "f4", "f5", "f1"):
            await pilot.press(key)
            await settle(app, pilot)
            assert "run beta · finished" in bar_text(app), key
        playground, learn = app.get_screen("playground"), app.get_screen("learn")
        assert playground.model_label == "beta · latest" and "your run" in str(
            playground.query_one("#pg-model-label").render())
        assert learn.run_dir == two_runs / "beta"

        await pilot.press("f2")  # the learner pins alpha in the Playground: it holds, and says so
        picker = playground.query_one(RunSelect)
        picker.value = str(two_runs / "alpha" / "checkpoints" / "latest.pt")
        await settle(app, pilot)
        assert playground.model_label == "alpha · latest"
        assert str(playground.query_one("#pg-model-label").render()).startswith("pinned · alpha · latest")
        await pilot.press("f4")
        await settle(app, pilot)
        assert learn.run_dir == two_runs / "beta", "a pin in the Playground is the Playground's alone"
        await pilot.press("f2")
        picker.value = YOUR_RUN  # "your run": the current run again
        await settle(app, pilot)
        assert playground.model_label == "beta · latest" and playground.pin.pinned is None


@pytest.mark.slow
async def test_a_rename_moves_the_current_run_and_the_header_with_it(two_runs):
    # After `runs rename X main`, the header said main and the run line X.
    from tui_transformer.tui.screens.text_prompt import TextPromptScreen

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_from_runs_screen(app, pilot, "beta", "o")
        await open_from_runs_screen(app, pilot, "beta", "r")
        assert isinstance(app.screen, TextPromptScreen)
        prompt = app.screen.query_one("Input")
        prompt.value = "main"
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.current_run.path == two_runs / "main" and app.sub_title.endswith("main: finished")
        assert "run main · finished" in bar_text(app)
        await pilot.press("f1")
        await settle(app, pilot)
        assert "run main  finished" in str(app.screen.query_one("#stats").render())


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_the_tab_bar_is_on_every_screen_and_marks_it(size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        for number, name in enumerate(("Train", "Play", "Bench", "Learn", "Runs"), 1):
            await pilot.press(f"f{number}")
            await pilot.pause()
            bar = app.screen.query_one(TabBar)
            assert bar.region.height == 1 and bar.region.width == size[0] and bar.region.y <= 1
            line = text_of(app)[bar.region.y]
            assert "1 Train" in line and "5 Runs" in line and "no run yet" in line
            assert f"[{number} {name}" in line  # the screen shown, bracketed (and drawn in reverse)
            assert line.count("[") == 1


async def test_pause_and_resume_read_the_same_everywhere(monkeypatch, notes):
    # Paused, the run line said running, the ETA stayed, the footer said "space Pause", and r (shown as
    # Resume) answered "a run is training here: stop it first".
    monkeypatch.setattr(TrainingSession, "run", fake_session_run)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await pilot.press("s")
        for _ in range(100):  # the fake trainer's first step (it runs on a thread: no message to wait on here)
            await pilot.pause(0.05)
            if screen.history.last_step is not None:
                break

        def reads() -> tuple[str, str, str, str]:
            footer = " ".join(text_of(app)[-1].split())
            return (app.sub_title, bar_text(app), str(screen.query_one("#stats").render()), footer)

        await pilot.press("space")
        await pilot.pause(0.2)
        header, bar, stats, footer = reads()
        assert header.endswith("fake: paused") and bar.endswith("run fake · paused")
        assert "ETA paused" in stats and "run fake  paused" in stats
        assert "space Resume" in footer and "Pause" not in footer
        assert str(screen.query_one("#pause", Button).label) == "Resume"
        await pilot.press("r")  # Resume, as the footer says
        await pilot.pause(0.2)
        header, bar, stats, footer = reads()
        assert header.endswith("fake: running") and bar.endswith("run fake · running") and "run fake  running" in stats
        assert "space Pause" in footer and not app.training.pause.is_set()
        assert [line.message for line in screen.history.log][-2:] == ["paused", "resumed"]
        assert not [text for _, text in notes if "stop it first" in text], notes
        app.stop_training()
        await app.workers.wait_for_complete()


async def test_q_then_u_at_once_quits_without_a_traceback():
    # Pressed fast, u opened the Runs screen while the app was closing: NoMatches for its table.
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.post_message(events.Key("q", "q"))  # both in the queue before either is handled
        app.post_message(events.Key("u", "u"))
        await pilot.pause()
    assert app.return_code == 0 and app.current_mode == "train"

