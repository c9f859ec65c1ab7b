"""The app shell: modes, help, header, command palette, themes, errors and quitting."""

from textual.command import CommandPalette

from tests.tui.helpers import fake_session_run, make_app
from tui_transformer.train.events import RunStarted
from tui_transformer.tui.screens.benchmark import BenchmarkScreen
from tui_transformer.tui.screens.confirm import ConfirmScreen
from tui_transformer.tui.screens.help import HelpScreen
from tui_transformer.tui.screens.playground import PlaygroundScreen
from tui_transformer.tui.screens.train import TrainScreen
from tui_transformer.tui.training_session import TrainingSession


async def test_number_and_letter_keys_switch_modes():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, TrainScreen) and app.current_mode == "train"
        for key, mode, screen_type in [("2", "playground", PlaygroundScreen), ("3", "benchmark", BenchmarkScreen),
                                       ("1", "train", TrainScreen), ("b", "benchmark", BenchmarkScreen),
                                       ("t", "train", TrainScreen), ("p", "playground", PlaygroundScreen)]:
            await pilot.press(key)
            await pilot.pause()
            assert app.current_mode == mode and isinstance(app.screen, screen_type), key
            if mode == "playground":
                await pilot.press("escape")  # there every printable key is the prompt's until escape
            else:
                app.screen.set_focus(None)  # letters go to a focused editor, not to the mode bindings
        app.screen.query_one("#pg-prompt").focus()  # typing a prompt: digits are text, F-keys still switch
        await pilot.press("1")
        assert app.current_mode == "playground"
        await pilot.press("f1")
        assert app.current_mode == "train"
        await app.workers.wait_for_complete()


async def test_help_opens_and_closes():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, TrainScreen)


async def test_header_shows_device_torch_and_run_state():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.sub_title == "cpu · torch 2.x · no run"


async def test_the_real_probe_fills_the_header():
    import torch

    from tui_transformer.tui.app import TuiTransformerApp

    # the device "auto" picks on this machine, worked out here rather than by the code under test
    device = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    app = TuiTransformerApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.sub_title == f"{device} · torch {torch.__version__} · no run"


async def test_command_palette_offers_the_main_actions_and_switches_theme():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for wanted in ("Start training", "Stop training", "Open a run", "Run the benchmark",
                       "Switch theme (dark / light)", "Help"):
            assert wanted in titles
        dark = app.current_theme.dark
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"switch theme")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.current_theme.dark != dark
    again = make_app()  # the choice is remembered (in the test's own config folder)
    async with again.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert again.theme == app.theme


async def test_pause_then_quit_asks_and_stops_the_trainer_cooperatively(monkeypatch):
    monkeypatch.setattr(TrainingSession, "run", fake_session_run)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        await pilot.press("s")
        for _ in range(100):
            await pilot.pause(0.05)
            if screen.history.last_step is not None:
                break
        assert app.training_active and screen.history.state == "running"
        await pilot.press("space")
        assert app.training.pause.is_set() and app.sub_title.endswith("fake: paused")
        await pilot.pause(0.1)
        paused_at = screen.history.last_step.step
        await pilot.pause(0.2)
        assert screen.history.last_step.step == paused_at  # no steps while paused
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # keep training
        assert app.training_active and not app.training.stop.is_set()
        await pilot.press("q", "y")
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
    assert app.training.stop.is_set() and app.training.finished_cleanly  # stopped while paused, cleanly
    assert app.return_code == 0


async def test_quitting_when_idle_exits_at_once():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0 and not app.is_running


async def test_a_failing_run_becomes_a_notification_not_a_crash(notes):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        screen.config_overrides = {"data": "/nonexistent/corpus.txt"}
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        assert any(severity == "error" and "/nonexistent/corpus.txt" in text for severity, text in notes), notes
        assert not app.training_active and app.is_running
        assert app.sub_title.endswith("failed")
        errors = [line.message for line in screen.history.log if line.level == "error"]
        assert len(errors) == 1 and "/nonexistent/corpus.txt" in errors[0], errors  # said once, not twice
        await pilot.press("s")  # the screen accepts a new start after the failure
        await pilot.pause()
        await app.workers.wait_for_complete()


async def test_resume_picks_a_run_and_continues_it_with_its_saved_config(monkeypatch, tmp_path):
    from tui_transformer.presets import PRESETS
    from tui_transformer.train import config_file

    runs = tmp_path / "runs"
    run_dir = runs / "earlier"
    run_dir.mkdir(parents=True)
    config_file.write(PRESETS["tiny"].with_overrides(lr=4e-3, data="builtin"), run_dir / "config.toml")
    monkeypatch.setenv("TUI_TRANSFORMER_RUNS", str(runs))
    monkeypatch.setattr(TrainingSession, "run", fake_session_run)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")  # the only run, highlighted
        for _ in range(100):
            await pilot.pause(0.05)
            if app.training is not None and app.training.run_name:
                break
        session = app.training
        assert session.resume == str(run_dir) and session.config.lr == 4e-3 and session.config.data == "builtin"
        app.stop_training()
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        assert not app.training_active and app.sub_title.endswith("fake: stopped")


async def test_stop_shows_one_state_in_the_header_the_stats_and_the_log(monkeypatch):
    # After x the header said "stopped", the status line "finished", and the ETA stayed on screen.
    monkeypatch.setattr(TrainingSession, "run", fake_session_run)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        for _ in range(100):
            await pilot.pause(0.05)
            if app.training is not None and app.training.run_name and app.screen.history.last_step:
                break
        await pilot.pause(0.2)
        screen = app.screen
        assert "ETA" in str(screen.query_one("#stats").render())
        await pilot.press("x")
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        stats = str(screen.query_one("#stats").render())
        assert app.sub_title.endswith("fake: stopped") and "run fake  stopped" in stats, (app.sub_title, stats)
        assert "ETA" not in stats and "finished" not in stats
        assert screen.history.log[-1].message.startswith("stopped at step")


def test_help_has_a_section_for_every_screen_with_its_footer_keys():
    # The Playground and the Benchmark had no section.
    from tui_transformer.tui.app import TuiTransformerApp
    from tui_transformer.tui.essential_keys import HELP_AND_QUIT
    from tui_transformer.tui.screens.help import HELP_TEXT

    from tui_transformer.tui.screens.learn import LearnScreen

    sections = {part.split("\n", 1)[0]: part for part in HELP_TEXT.split("\n## ")[1:]}
    # Learn's screen is made by a function, which imports it (and torch) on first use
    screen_types = {**TuiTransformerApp.SCREENS, "learn": LearnScreen}
    for mode, screen_type in screen_types.items():
        section = sections.get(mode.capitalize())
        assert section is not None, mode
        for binding in screen_type.BINDINGS:
            if binding.show and binding.key not in {key.key for key in HELP_AND_QUIT}:  # under "Everywhere"
                assert f"`{binding.key}`" in section, (mode, binding.key)


async def test_footers_keep_help_quit_and_the_main_action_at_80_and_120_columns():
    # At 120 columns the Train footer ended "q Qui"; at 80, ? and q were gone.
    from tests.tui.helpers import text_of

    main_action = {"train": "s Start", "playground": "^g Generate", "benchmark": "r KV bench", "learn": "^r Model",
                   "runs": "space Mark"}
    for size in ((120, 40), (80, 24)):
        app = make_app()
        async with app.run_test(size=size) as pilot:
            for mode, action in main_action.items():
                app.switch_mode(mode)
                await pilot.pause()
                if mode == "playground":
                    await pilot.press("escape")  # letters are the prompt's until escape (the footer hides them)
                else:
                    app.screen.set_focus(None)  # a focused editor takes the letter keys (the footer then hides them)
                for _ in range(50):  # a screen's first switch-to may take a few frames to draw on a busy machine
                    await pilot.pause(0.05)
                    footer = text_of(app)[-1]
                    if footer.strip():
                        break
                for key in (action, "? Help", "q Quit"):
                    assert key in footer, (size, mode, footer)


async def test_the_first_seconds_after_s_say_what_is_happening_and_no_early_eta(monkeypatch):
    # The stats line kept "step – (press s …)", the charts an ambiguous "waiting for data…", and
    # the first ETA read 1:35:31.
    import threading

    from tests.tui.helpers import text_of
    from tui_transformer.train.events import LogMessage, StepMetrics

    gate = threading.Event()

    def slow_setup(self, post):
        post(LogMessage(level="info", message="building the builtin corpus (first use)"))
        gate.wait(10)
        post(RunStarted(run_dir="/tmp/fake", run_name="fake", config={}, device="cpu", preset="tiny",
                        preset_reason="", n_params=1))
        for step, elapsed in ((1, 0.5), (2, 30.0)):
            gate.clear()
            gate.wait(10)
            post(StepMetrics(step=step, max_steps=1000, epoch=0, loss=3.0, ppl=20.0, lr=1e-3, grad_norm=1.0,
                             tokens_per_sec=1.0, tokens_seen=step, elapsed_s=elapsed, eta_s=5731.0 / step))
        gate.clear()
        gate.wait(10)  # still training while the test reads the screen: a run that returned has no ETA

    def stats_line() -> str:
        return str(app.screen.query_one("#stats").render()).splitlines()[0]

    async def shown_after(pilot) -> str:
        """The stats line once the trainer's next event has been drawn."""
        before = stats_line()
        gate.set()
        for _ in range(100):  # the event, then a redraw tick (slower on a busy machine)
            await pilot.pause(0.05)
            if stats_line() != before:
                break
        return stats_line()

    monkeypatch.setattr(TrainingSession, "run", slow_setup)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        for _ in range(100):
            await pilot.pause(0.05)
            if "building" in stats_line():
                break
        assert stats_line() == "step –  building the builtin corpus (first use)"
        assert any("building the builtin corpus" in line for line in text_of(app, app.screen.query_one("#loss-chart")))
        gate.clear()
        assert await shown_after(pilot) == "step –  model built: waiting for step 1…"
        assert "ETA measuring…" in await shown_after(pilot)
        assert "ETA 47:46" in await shown_after(pilot)  # 5731 s / 2, once it has trained 30 s
        gate.set()
        await app.workers.wait_for_complete()


async def test_the_header_keeps_a_long_run_names_ends_and_its_state_at_80_columns(tmp_path):
    # At 80x24 the header was cut: the torch build string took the room of the run's state. With six
    # tabs the row has no room for a 20-character name: it is cut in the middle, its state kept whole.
    from tests.tui.helpers import RECORDED, run_dir_of, text_of

    app = make_app()
    app.torch_version = "2.15.0+cu132"  # a CUDA wheel's long version string
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.open_run(run_dir_of(RECORDED, tmp_path, "tiny-20261201-121500"))
        await pilot.pause()
        assert "tiny-20261201-121500: finished" in app.sub_title and "torch" not in app.sub_title
        assert text_of(app)[0].rstrip().endswith(" tiny-20…1-121500 · finished")  # the tab bar, in the header's row
