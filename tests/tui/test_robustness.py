"""The dashboard used the wrong way: odd states, damaged runs, bad input. Each test is a bug found by hand."""

import torch
from textual.widgets import Input, OptionList

from tests.tui.helpers import PlaygroundApp, fake_session_run, make_app, write_run
from tui_transformer.tui.screens.learn import LearnScreen
from tui_transformer.tui.screens.run_picker import RunPickerScreen
from tui_transformer.tui.screens.train import TrainScreen
from tui_transformer.tui.training_session import TrainingSession


async def test_learn_explains_a_run_that_has_only_its_best_checkpoint_so_far(monkeypatch, tmp_path, notes):
    # A run in its first minutes: the first evaluation wrote best.pt, the first latest.pt is still to come.
    # Learn listed it (it has a checkpoint) and then failed to load it ("has no checkpoint yet").
    run_dir = write_run(tmp_path / "runs", "young", checkpoints=("best",))
    monkeypatch.setenv("TUI_TRANSFORMER_RUNS", str(tmp_path / "runs"))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        screen = app.screen
        assert isinstance(screen, LearnScreen)
        for _ in range(3):  # the run list, then the model, then the live panel
            await screen.workers.wait_for_complete()
            await pilot.pause()
        assert not [note for note in notes if note[0] == "error"], notes
        assert screen.run_dir == run_dir and screen.model.config.d_model == 32


async def test_run_picker_says_why_when_the_runs_cannot_be_listed(monkeypatch):
    # It kept showing "looking for runs…" for good. A failure that real files cannot produce reliably here
    # (the tests may run as root, which reads any file), hence the stand-in.
    def unreadable(*args, **kwargs):
        raise PermissionError("[Errno 13] Permission denied: '/runs'")

    monkeypatch.setattr("tui_transformer.train.runs.list_runs", unreadable)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("o")
        picker = app.screen
        assert isinstance(picker, RunPickerScreen)
        await picker.workers.wait_for_complete()
        await pilot.pause()
        shown = [str(option.prompt) for option in picker.query_one(OptionList).options]
        assert len(shown) == 1 and "could not list the runs folder" in shown[0] and "Permission denied" in shown[0]
        assert app.focused is picker.query_one("#path", Input)  # typing a run directory still works


async def test_open_and_resume_keys_are_refused_while_a_run_trains(monkeypatch, notes):
    # The buttons were disabled, but r and o opened the picker anyway, and the choice was refused afterwards.
    monkeypatch.setattr(TrainingSession, "run", fake_session_run)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s")
        for _ in range(100):
            await pilot.pause(0.05)
            if app.training is not None and app.training.run_name:
                break
        try:
            for key in ("r", "o"):
                await pilot.press(key)
                await pilot.pause()
                assert isinstance(app.screen, TrainScreen), key
            assert [text for _, text in notes].count("a run is training here: stop it first (x)") == 2, notes
        finally:  # a failure must not leave the fake trainer running (pytest would never exit)
            app.stop_training()
            await app.workers.wait_for_complete()
            await pilot.pause()


async def test_a_seed_that_is_not_a_number_is_explained(notes):
    # The seed field lets a lone "-" in; generating then said "invalid literal for int() with base 10: '-'".
    from tui_transformer.data import get_tokenizer
    from tui_transformer.model import DecoderTransformer, ModelConfig

    tokenizer = get_tokenizer("cl100k_base")
    model = DecoderTransformer(ModelConfig(vocab_size=tokenizer.vocab_size, d_model=32, n_heads=2, n_layers=2,
                                           d_ff=64, max_seq_len=32))
    app = PlaygroundApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        await screen.workers.wait_for_complete()
        screen.set_model(model, tokenizer, "tiny-test")
        screen.query_one("#pg-seed", Input).value = "-"
        await pilot.press("ctrl+g")
        assert notes[-1] == ("error", "seed must be a whole number, or empty for a random one, got '-'")
        assert not any(worker.group == "generate" for worker in screen.workers)
        await screen.workers.wait_for_complete()


async def test_attaching_to_a_metrics_line_with_wrong_types_skips_it(recorded_run):
    """A complete line whose fields had the wrong types (a damaged file) killed the app at the next redraw."""
    with (recorded_run / "metrics.jsonl").open("a") as file:
        file.write('{"event": "Sample", "step": 1, "prompt": 5, "text": null}\n')
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        screen.attach(recorded_run)
        await pilot.pause()
        screen.redraw()
        await pilot.pause()
        assert screen.history.samples and all(isinstance(s.text, str) for s in screen.history.samples)
        assert app.is_running


async def test_a_run_deleted_while_attached_is_said_once_and_its_charts_stay(recorded_run, notes):
    import shutil

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        screen.attach(recorded_run)
        await pilot.pause()
        steps = len(screen.history.train_loss)
        shutil.rmtree(recorded_run)
        screen.poll_attached()
        screen.poll_attached()
        await pilot.pause()
        assert [text for severity, text in notes if severity == "warning"] == [
            f"{recorded_run / 'metrics.jsonl'} was deleted or moved; the charts keep what was read"]
        assert len(screen.history.train_loss) == steps > 0 and app.is_running
