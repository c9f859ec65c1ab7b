"""The training form: value parsing, inline errors, and the config it builds."""

import pytest
from textual.widgets import Input, Select, Static

from tests.tui.helpers import make_app
from tui_transformer.errors import ConfigError
from tui_transformer.presets import PRESETS
from tui_transformer.tui.widgets.train_form import TrainForm, budget_overrides, parse_count, parse_duration, parse_lr


def test_parsers_accept_friendly_values_and_reject_bad_ones():
    assert parse_count("1_000", "steps") == 1000
    assert parse_count("500k", "tokens") == 500_000
    assert parse_count("1.5M", "tokens") == 1_500_000
    assert parse_duration("90") == 90 and parse_duration("10m") == 600 and parse_duration("1.5h") == 5400
    assert parse_lr("3e-4") == 3e-4
    for bad in ("", "0", "-3", "1.5", "ten"):
        with pytest.raises(ConfigError):
            parse_count(bad, "steps")
    for bad in ("0", "2", "abc", "nan"):
        with pytest.raises(ConfigError):
            parse_lr(bad)
    with pytest.raises(ConfigError, match="duration"):
        parse_duration("5 days")
    assert budget_overrides("tokens", "2M") == {"max_steps": None, "max_tokens": 2_000_000, "max_time": None,
                                                "epochs": None}


async def test_invalid_values_are_explained_inline_and_block_the_start(notes):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        lr = screen.query_one("#lr", Input)
        lr.value = "fast"
        await pilot.pause()
        error = screen.query_one("#lr-error", Static)
        assert error.has_class("-shown") and "learning rate" in str(error.render())
        assert lr.has_class("-invalid")
        await pilot.press("s")
        await pilot.pause()
        assert any(severity == "error" and "learning rate" in text for severity, text in notes)
        assert not app.training_active and app.training is None
        lr.value = "3e-3"
        await pilot.pause()
        assert not error.has_class("-shown") and not lr.has_class("-invalid")


async def test_preset_fills_the_form_and_the_form_overrides_the_preset():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        form = screen.query_one(TrainForm)
        screen.query_one("#preset", Select).value = "seed"
        await pilot.pause()
        seed = PRESETS["seed"]
        assert screen.query_one("#tokenizer", Select).value == seed.tokenizer
        assert screen.query_one("#accum", Input).value == str(seed.accumulation_steps)
        screen.query_one("#budget-kind", Select).value = "time"
        screen.query_one("#budget", Input).value = "10m"
        screen.query_one("#accum", Input).value = "4"
        screen.query_one("#data", Select).value = "builtin"
        await pilot.pause()
        config, reason = screen.build_config()
        assert config.preset == "seed" and "seed" in reason
        assert config.max_time == 600 and config.max_steps is None and config.epochs is None
        assert config.accumulation_steps == 4 and config.data == "builtin"
        assert config.model == seed.model
        assert form.errors() == []


async def test_data_path_field_appears_for_path_and_must_exist(tmp_path):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        row = screen.query_one("#data-path-row")
        assert not row.has_class("-shown")
        screen.query_one("#data", Select).value = "path"
        await pilot.pause()
        assert row.has_class("-shown")
        with pytest.raises(ConfigError, match="empty"):
            screen.build_config()
        screen.query_one("#data-path", Input).value = str(tmp_path / "missing.txt")
        await pilot.pause()
        assert "does not exist" in str(screen.query_one("#data-path-error", Static).render())
        (tmp_path / "corpus.txt").write_text("hello world")
        screen.query_one("#data-path", Input).value = str(tmp_path / "corpus.txt")
        await pilot.pause()
        config, _ = screen.build_config()
        assert config.data == str(tmp_path / "corpus.txt")


async def test_auto_preset_follows_the_probed_device():
    from tui_transformer.tui.messages import DeviceProbed

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert screen.query_one("#tokenizer", Select).value == PRESETS["tiny"].tokenizer  # cpu: tiny
        app.post_message(DeviceProbed("2.x", "cuda"))
        await pilot.pause()
        assert screen.query_one("#tokenizer", Select).value == PRESETS["seed"].tokenizer
        config, reason = screen.build_config()
        assert config.model == PRESETS["seed"].model and "accelerator" in reason


async def test_escape_leaves_a_field_and_the_footer_says_so():
    # A focused field took every key, Escape did nothing, and the footer went blank but for ^p palette.
    from tests.tui.helpers import text_of
    from tui_transformer.tui.screens.help import HelpScreen

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        field = app.screen.query_one("#eval-interval", Input)
        field.focus()
        field.value = ""
        await pilot.press("s")
        assert field.value == "s" and not app.training_active  # a letter in a field is text, as expected
        assert "esc Leave field (keys work again)" in text_of(app)[-1]
        await pilot.press("escape")
        assert app.focused is None
        assert "s Start" in text_of(app)[-1]
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)


@pytest.mark.slow  # the whole app: about 2 s
async def test_the_advanced_section_sets_the_batch_the_model_size_and_the_run_name():
    # The form had no batch size, model width or depth, and no run name.
    from textual.widgets import Collapsible

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        advanced = screen.query_one("#advanced", Collapsible)
        assert advanced.collapsed  # out of the way of a first run
        tiny = PRESETS["tiny"]
        assert [screen.query_one(f"#{field}", Input).value for field in ("batch", "d-model", "layers", "run-name")] == \
            [str(tiny.batch_size), str(tiny.model.d_model), str(tiny.model.n_layers), ""]
        assert (screen.query_one("#optimizer", Select).value, screen.query_one("#schedule", Select).value) == \
            (tiny.optimizer, tiny.schedule)
        for field, value in (("batch", "8"), ("d-model", "64"), ("layers", "2"), ("run-name", "my-first-run")):
            screen.query_one(f"#{field}", Input).value = value
        screen.query_one("#optimizer", Select).value = "muon"
        screen.query_one("#schedule", Select).value = "wsd"
        await pilot.pause()
        config, _ = screen.build_config()
        assert (config.batch_size, config.model.d_model, config.model.d_ff, config.model.n_layers, config.run_name) == \
            (8, 64, 256, 2, "my-first-run")
        assert (config.optimizer, config.schedule) == ("muon", "wsd")
        screen.query_one("#run-name", Input).value = ""
        await pilot.pause()
        assert screen.build_config()[0].run_name is None  # blank: a name is made up


@pytest.mark.slow  # the whole app: about 2 s a case
@pytest.mark.parametrize("field, value, message", [
    ("batch", "0", "batch size must be a whole number of at least 1"),
    ("d-model", "100", "model width (d_model) must be a multiple of 8 to split over the preset's 4 heads"),
    ("layers", "two", "layers (n_layers) must be a whole number"),
    ("run-name", "my run", "run name 'my run' may only use letters, digits"),
])
async def test_advanced_values_are_checked_as_typed_with_a_clear_message(field, value, message):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        screen.query_one(f"#{field}", Input).value = value
        await pilot.pause()
        error = screen.query_one(f"#{field}-error", Static)
        assert error.has_class("-shown") and str(error.render()).startswith(message)
        with pytest.raises(ConfigError, match="must|may only"):
            screen.build_config()
