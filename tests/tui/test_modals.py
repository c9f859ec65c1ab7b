"""Every dialog's text is whole at 80x24: it wraps inside the dialog instead of being cut at its edge."""

import re

import pytest

from tests.tui.helpers import fake_session_run, make_app, text_of
from tui_transformer.tui.screens.confirm import ConfirmScreen
from tui_transformer.tui.screens.help import HELP_TEXT, HelpScreen
from tui_transformer.tui.screens.run_picker import RunPickerScreen
from tui_transformer.tui.training_session import TrainingSession

BORDERS = re.compile(r"[\u2500-\u259f]")  # box drawing and block elements: the dialog's frame


def words_shown(app, dialog) -> str:
    """The dialog's text as one line of words, its frame and line breaks removed."""
    return " ".join(BORDERS.sub(" ", "\n".join(text_of(app, dialog))).split())


async def test_the_quit_dialog_shows_its_whole_question_at_80x24(monkeypatch):
    # It read "A run is training. Stop it (its checkpoint is saved) a", at 120x40 too.
    monkeypatch.setattr(TrainingSession, "run", fake_session_run)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s")
        try:
            for _ in range(100):
                await pilot.pause(0.05)
                if app.training is not None and app.training.run_name:
                    break
            await pilot.press("q")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen)
            shown = words_shown(app, app.screen.query_one("Vertical"))
            assert "A run is training. Stop it (its checkpoint is saved) and quit?" in shown, shown
            assert "Stop and quit (y)" in shown and "Keep training (n)" in shown
            await pilot.press("n")
        finally:
            app.stop_training()
            await app.workers.wait_for_complete()
            await pilot.pause()


async def test_a_long_picker_heading_wraps_at_80x24(tmp_path, monkeypatch):
    monkeypatch.setenv("TUI_TRANSFORMER_RUNS", str(tmp_path))
    hint = "continue training from its last checkpoint, with the config saved in the run, and its data"
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(RunPickerScreen("Resume a run", hint))
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert f"Resume a run: {hint}" in words_shown(app, app.screen.query_one("Vertical"))


async def test_help_wraps_its_prose_at_80x24():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        shown = words_shown(app, app.screen.query_one("VerticalScroll"))
        first_paragraph = HELP_TEXT.splitlines()[2]
        assert first_paragraph in shown, shown


def test_snapshot_help_80x24(snap_compare):
    """The help dialog at 80x24: its prose wraps inside the frame."""
    from tests.tui.helpers import make_app

    assert snap_compare(make_app(), terminal_size=(80, 24), press=["question_mark"])


@pytest.mark.slow  # the whole app: about 2 s
@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_help_keeps_each_key_on_one_line(size):
    # The key column wrapped "1 / t" onto a second line "/ F1".
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        lines = text_of(app, app.screen.query_one("VerticalScroll"))
        train = next(line for line in lines if "Train mode" in line)
        assert "1/t/F1" in train
        assert not any(line.split("│")[1].strip().startswith("/") for line in lines if line.count("│") > 2)
