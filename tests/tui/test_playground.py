"""The Playground screen, driven by Pilot: real generation from a tiny model, stop, presets, errors.

The model is a random d32/L2 DecoderTransformer and the tokenizer the offline cl100k_base: real
components, small enough that a generation takes a fraction of a second.
"""

import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from textual.widgets import Select, Static, Switch, TextArea
from textual.worker import WorkerFailed

from tests.tui.helpers import PLAYGROUND_PROMPT, PlaygroundApp, playground_ready, settled_bars
from tui_transformer.model import SAMPLER_PRESETS, SamplingConfig, generate
from tui_transformer.tui.screens.playground import PlaygroundScreen
from tui_transformer.tui.widgets.next_token_bars import NextTokenBars
from tui_transformer.tui.widgets.run_list import YOUR_RUN, YOUR_RUN_LABEL, RunSelect
from tui_transformer.tui.widgets.slider import Slider
from tui_transformer.tui.widgets.token_view import TokenView

PROMPT_DEFAULT = "The"  # the prompt a fresh Playground starts with


def _output(screen: PlaygroundScreen) -> str:
    return str(screen.query_one("#pg-output", Static).content)


async def test_greedy_generation_streams_what_the_core_generates(tiny):
    model, tokenizer = tiny
    app = PlaygroundApp()
    async with app.run_test(size=(100, 36)) as pilot:
        screen = await playground_ready(app, pilot, tiny)
        screen.apply_preset("greedy")
        screen.query_one("#pg-max_new_tokens", Slider).value = 12
        await pilot.press("ctrl+g")
        await screen.workers.wait_for_complete()
        await pilot.pause()

        prompt_ids = tokenizer.encode(PLAYGROUND_PROMPT)
        expected = list(generate(model, prompt_ids, max_new_tokens=12, sampling=SamplingConfig(temperature=0.0)))
        assert _output(screen) == tokenizer.decode(prompt_ids + expected)
        stats = str(screen.query_one("#pg-stats", Static).content)
        assert "12 new tokens" in stats
        assert f"context {len(prompt_ids) + 12}/64" in stats
        assert screen.finish_reason == "max new tokens"
        # greedy: the filtered distribution is one token at 100 %, and it is the one drawn
        bars = screen.query_one(NextTokenBars)
        candidates, chosen = bars._last
        assert chosen == 0 and candidates[0][1] == pytest.approx(1.0) and len(candidates) == 1
        assert candidates[0][0] == tokenizer.decode([expected[-1]])


@contextmanager
def at_most_200_tokens_per_second(model):
    """A 5 ms pause before every forward pass, so that 512 tokens take over 2.5 s on any machine and a
    stop test cannot be beaten by a fast CPU finishing the whole generation first."""
    handle = model.register_forward_pre_hook(lambda module, args: time.sleep(0.005))
    try:
        yield
    finally:
        handle.remove()


async def test_stop_ends_a_long_generation_early(tiny):
    app = PlaygroundApp()
    async with app.run_test(size=(100, 36)) as pilot:
        screen = await playground_ready(app, pilot, tiny)
        screen.apply_preset("balanced")
        screen.query_one("#pg-max_new_tokens", Slider).value = 512  # slides the 64-token window many times
        with at_most_200_tokens_per_second(tiny[0]):
            await pilot.press("ctrl+g")
            while screen._stats is None or screen._stats.generated < 3:  # tokens are streaming
                await pilot.pause(0.05)
            await pilot.press("escape")
            await screen.workers.wait_for_complete()
        await pilot.pause()
        assert screen.finish_reason == "stopped"
        assert 3 <= screen._stats.generated < 512
        assert len(screen.query_one(NextTokenBars)._last[0]) == 10  # balanced keeps top-50: ten bars shown


async def test_cache_off_gives_the_same_greedy_text(tiny):
    app = PlaygroundApp()
    async with app.run_test(size=(100, 36)) as pilot:
        screen = await playground_ready(app, pilot, tiny)
        screen.apply_preset("greedy")
        screen.query_one("#pg-max_new_tokens", Slider).value = 8
        await pilot.press("ctrl+g")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        with_cache = _output(screen)
        await pilot.press("ctrl+t")
        assert screen.query_one("#pg-cache", Switch).value is False
        await pilot.press("ctrl+g")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert _output(screen) == with_cache


async def test_presets_set_the_sliders(tiny):
    app = PlaygroundApp()
    async with app.run_test(size=(100, 36)) as pilot:
        screen = await playground_ready(app, pilot, tiny)
        for name in SAMPLER_PRESETS:  # ctrl+n walks through the presets in order
            await pilot.press("ctrl+n")
            preset = SAMPLER_PRESETS[name]
            assert screen.query_one("#pg-preset", Select).value == name
            assert screen.sampler_values() == pytest.approx({
                "temperature": preset.temperature, "top_k": preset.top_k, "top_p": preset.top_p,
                "min_p": preset.min_p, "repetition_penalty": preset.repetition_penalty})
        # picking from the Select does the same
        screen.query_one("#pg-preset", Select).value = "precise"
        await pilot.pause()
        assert screen.query_one("#pg-temperature", Slider).value == SAMPLER_PRESETS["precise"].temperature
        # moving a slider away from the preset clears its name; a slider it does not set keeps it
        screen.query_one("#pg-max_new_tokens", Slider).focus()
        await pilot.press("right")
        assert screen.query_one("#pg-preset", Select).value == "precise"
        screen.query_one("#pg-temperature", Slider).focus()
        await pilot.press("right")
        assert screen.query_one("#pg-preset", Select).value is Select.NULL
        await pilot.pause(0.3)  # let the preview the change scheduled start, then finish
        await screen.workers.wait_for_complete()


async def test_prompt_tokens_are_shown_one_by_one(tiny):
    _, tokenizer = tiny
    app = PlaygroundApp()
    async with app.run_test(size=(100, 36)) as pilot:
        screen = await playground_ready(app, pilot, tiny, prompt="unbelievably")
        view = str(screen.query_one(TokenView).content)
        pieces = [tokenizer.decode([i]) for i in tokenizer.encode("unbelievably")]
        assert len(pieces) > 1
        assert view == f"{len(pieces)} tokens " + "".join(pieces)
        await pilot.click("#pg-prompt")
        await pilot.press("end", "enter", "x")
        assert str(screen.query_one(TokenView).content).endswith("↵x")  # a newline is drawn, not lost


async def test_errors_are_notifications_not_crashes(tiny, tmp_path: Path, notes):
    app = PlaygroundApp()
    async with app.run_test(size=(100, 36)) as pilot:
        await pilot.pause()
        screen = app.screen
        await screen.workers.wait_for_complete()  # presets and the checkpoint list
        await pilot.press("ctrl+g")  # no model yet
        assert notes[-1] == ("warning", "no model loaded: no checkpoints yet: train a run first (F1 for Train, then s)")
        worker = screen.query_one("#pg-run", RunSelect).load_value(str(tmp_path / "no-such-run"))  # a bad run
        with pytest.raises(WorkerFailed):
            await worker.wait()
        await pilot.pause()
        severity, message = notes[-1]
        assert severity == "error" and "no-such-run" in message
        assert app.is_running
        screen.set_model(*tiny, "tiny-test")
        screen.query_one("#pg-prompt", TextArea).text = ""
        await pilot.press("ctrl+g")
        assert notes[-1] == ("warning", "the prompt is empty: write at least one character")
        assert not screen.workers


@pytest.mark.slow  # trains a real 3-step run first: about 15 s measured here with other test suites running
async def test_generate_from_a_trained_run_picked_in_the_list_then_stop(tmp_path: Path, notes):
    from tui_transformer.presets import PRESETS
    from tui_transformer.train import run_training

    corpus = tmp_path / "corpus.txt"  # a small file keeps the run to seconds (the builtin corpus takes longer)
    corpus.write_text("\n\n".join(f"Paragraph {i}: the cat sat on the mat and looked at the dog." for i in range(300)))
    config = PRESETS["tiny"].with_overrides(
        data=str(corpus), tokenizer="cl100k_base", max_steps=3, batch_size=2, eval_interval=3, eval_batches=1,
        sample_interval=100, checkpoint_interval=3, run_name="pg-test", model_d_model=32, model_n_heads=2,
        model_n_layers=2, model_d_ff=64, model_max_seq_len=32, model_vocab_size=100277)
    summary = run_training(config)

    app = PlaygroundApp()
    async with app.run_test(size=(100, 36)) as pilot:
        await pilot.pause()
        screen = app.screen
        await screen.workers.wait_for_complete()
        picker = screen.query_one("#pg-run", Select)
        checkpoints = Path(summary.run_dir) / "checkpoints"
        assert [(label, value) for label, value in picker._options if value is not Select.NULL] == [
            (YOUR_RUN_LABEL, YOUR_RUN), ("pg-test · latest", str(checkpoints / "latest.pt")),
            ("pg-test · best", str(checkpoints / "best.pt"))]
        await pilot.click("#pg-run")  # open the list, then pick the first checkpoint with the keyboard
        await pilot.press("down", "down", "down", "enter")  # after the blank "pick a checkpoint" and "your run"
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert screen.model_label == "pg-test · latest" and screen.model.config.d_model == 32
        assert notes[-1] == ("information", "loaded pg-test · latest")

        screen.apply_preset("creative")
        screen.query_one("#pg-max_new_tokens", Slider).value = 512
        with at_most_200_tokens_per_second(screen.model):
            await pilot.press("ctrl+g")
            while screen._stats is None or screen._stats.generated < 2:
                await pilot.pause(0.05)
            await pilot.press("escape")
            await screen.workers.wait_for_complete()
        await pilot.pause()
        assert screen.finish_reason == "stopped" and 2 <= screen._stats.generated < 512
        assert _output(screen).startswith(PROMPT_DEFAULT)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_snapshot_after_a_greedy_generation(snap_compare, tiny, size):
    """After a greedy generation from a seeded random model; timings are masked (they vary)."""
    app = PlaygroundApp()

    async def run_before(pilot) -> None:
        screen = await playground_ready(app, pilot, tiny)
        screen.show_timings = False
        screen.query_one("#pg-prompt", TextArea).cursor_blink = False
        screen.apply_preset("greedy")
        screen.query_one("#pg-max_new_tokens", Slider).value = 12
        await pilot.press("ctrl+g")
        await screen.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def test_next_token_preview_follows_the_sampler_before_generating(tiny):
    model, tokenizer = tiny
    app = PlaygroundApp()
    async with app.run_test(size=(100, 36)) as pilot:
        screen = await playground_ready(app, pilot, tiny)
        screen.apply_preset("balanced")  # top-k 50, top-p 0.95: ten bars, most likely first
        candidates = await settled_bars(screen, pilot)
        probabilities = [p for _, p in candidates]
        assert len(candidates) == 10 and probabilities == sorted(probabilities, reverse=True)
        assert 0 < sum(probabilities) <= 1 + 1e-6
        screen.query_one("#pg-top_k", Slider).value = 3  # top-k 3 leaves three tokens, renormalised
        candidates = await settled_bars(screen, pilot)
        assert len(candidates) == 3 and sum(p for _, p in candidates) == pytest.approx(1.0)
        screen.apply_preset("greedy")  # temperature 0: one token at 100 %, the one greedy decoding picks
        candidates = await settled_bars(screen, pilot)
        first = next(generate(model, tokenizer.encode(PLAYGROUND_PROMPT), max_new_tokens=1))
        assert candidates == [(tokenizer.decode([first]), pytest.approx(1.0))]


async def test_the_playground_loads_the_run_in_view_by_itself_and_keeps_it(tmp_path, monkeypatch, notes):
    # With no model loaded the Playground waited for a mouse pick; ^r silently refreshed the list.
    from tests.tui.helpers import make_app, write_run

    runs = tmp_path / "runs"
    followed = write_run(runs, "followed", checkpoints=("best", "latest"))
    write_run(runs, "newer", checkpoints=("latest",))
    (followed / "metrics.jsonl").write_text("")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.screen.attach(followed)
        await pilot.press("p")
        screen = app.screen
        await screen.workers.wait_for_complete()
        await pilot.pause()
        await screen.workers.wait_for_complete()
        await pilot.pause()
        picker = screen.query_one("#pg-run", Select)
        assert screen.model_label == "followed · latest"  # the followed run, not the newest one
        assert picker.value == str(followed / "checkpoints" / "latest.pt")
        for keys in (["question_mark", "escape"], ["ctrl+p", "escape"], ["f1", "f2"]):
            await pilot.press(*keys)
            await pilot.pause()
            await screen.workers.wait_for_complete()
            await pilot.pause()
            assert picker.value == str(followed / "checkpoints" / "latest.pt"), keys
        await pilot.press("ctrl+r")
        assert picker.expanded and picker in app.focused.ancestors_with_self  # its list has the focus


async def test_generate_with_no_model_says_which_key_opens_the_picker(tmp_path, notes):
    from tests.tui.helpers import write_run

    app = PlaygroundApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.screen.workers.wait_for_complete()
        await pilot.press("ctrl+g")
        assert notes[-1] == ("warning", "no model loaded: no checkpoints yet: train a run first (F1 for Train, then s)")
    run_dir = write_run(tmp_path / "runs", "one", checkpoints=("latest",))
    (run_dir / "checkpoints" / "latest.pt").write_bytes(b"not a checkpoint")  # listed, but it fails to load
    app = PlaygroundApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.model is None
        await pilot.press("ctrl+g")
        assert notes[-1] == ("warning", "no model loaded: ctrl+r opens the checkpoint picker")


async def test_every_tab_stop_of_the_playground_shows_its_focus(tiny):
    # Two stops showed nothing: the controls' and the output's scroll containers.
    app = PlaygroundApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await playground_ready(app, pilot, tiny)
        seen = []
        for _ in range(14):
            await pilot.press("tab")
            seen.append(app.focused.id)
        assert "pg-controls" not in seen and "pg-output-scroll" in seen
        output = screen.query_one("#pg-output-scroll")
        screen.query_one("#pg-prompt").focus()
        await pilot.pause()
        unfocused = output.styles.border_top
        output.focus()
        await pilot.pause()
        assert output.styles.border_top != unfocused  # the frame takes the accent colour


async def test_next_token_labels_are_whole_and_counts_say_1_token(tiny):
    # The bars cut "<|endoftext|>" to "▶<|endoftex", and the token line said "1 tokens".
    from tests.tui.helpers import text_of

    app = PlaygroundApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await playground_ready(app, pilot, tiny, prompt="The")
        bars = screen.query_one(NextTokenBars)
        bars.show([("<|endoftext|>", 0.6), (" the", 0.4)], chosen=0)
        await pilot.pause()
        assert any("▶<|endoftext|> " in line for line in text_of(app, bars))
        assert str(screen.query_one("#pg-tokens").render()).startswith("1 token ")


async def test_inspect_at_80x24_keeps_the_output_and_the_whole_panel_on_screen(tiny):
    # With inspect open at 80x24 the output had 2 lines and the panel lost its bottom edge.
    from tests.tui.helpers import make_app
    from tui_transformer.tui.widgets.inspect_panel import InspectPanel

    app = make_app()  # the whole app: its breakpoints give the screen the 80-column layout
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        screen = await playground_ready(app, pilot, tiny)
        await pilot.press("ctrl+o")
        await pilot.pause()
        await screen.workers.wait_for_complete()
        await pilot.pause()
        panel, output = screen.query_one(InspectPanel), screen.query_one("#pg-output-scroll")
        assert output.content_region.height >= 4
        assert panel.region.bottom <= screen.query_one("Footer").region.y  # its frame ends above the footer


# ---- focus: where a typed letter goes ----------------------------------------------------------

async def _playground_of_the_app(pilot, app):
    await pilot.press("2")
    await pilot.pause()
    return app.screen, app.screen.query_one("#pg-prompt", TextArea)


@pytest.mark.slow  # the whole app: about 2 s
async def test_typing_continues_the_prompt_instead_of_prepending():
    # The cursor started at column 0: typing " cat" gave " catThe".
    from tests.tui.helpers import make_app

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        _, prompt = await _playground_of_the_app(pilot, app)
        await pilot.press("space", "c", "a", "t")
        assert prompt.text == PROMPT_DEFAULT + " cat"


@pytest.mark.slow  # the whole app: about 2 s
@pytest.mark.parametrize("leave", ["tab", "ctrl+r"])
async def test_after_leaving_the_prompt_letters_still_go_into_it_not_to_the_app(leave):
    # After tab (the output box) or ctrl+r (the picker), q quit and t/p/b/l/u switched screens.
    from tests.tui.helpers import make_app

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen, prompt = await _playground_of_the_app(pilot, app)
        await pilot.press(leave)
        if leave == "ctrl+r":
            await pilot.press("escape")  # closes the list; the picker keeps the focus
            assert app.focused is screen.query_one("#pg-run")
        else:
            assert app.focused is screen.query_one("#pg-output-scroll")
        await pilot.press("t", "q", "u", "b")
        assert app.current_mode == "playground" and app.is_running
        assert prompt.text == PROMPT_DEFAULT + "tqub" and app.focused is prompt
        assert "q" not in screen.active_bindings  # the footer does not offer a key that would type


@pytest.mark.slow  # the whole app: about 2 s
async def test_escape_leaves_the_prompt_then_letters_are_keys_and_enter_returns():
    from tests.tui.helpers import make_app

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen, prompt = await _playground_of_the_app(pilot, app)
        await pilot.press("escape")
        assert app.focused is not prompt and not screen.typing
        assert "q" in screen.active_bindings
        await pilot.press("enter")
        assert app.focused is prompt and screen.typing
        await pilot.press("escape", "b")
        assert app.current_mode == "benchmark" and prompt.text == PROMPT_DEFAULT
        await pilot.press("2", "x")  # coming back is coming back to writing
        assert app.current_mode == "playground" and prompt.text == PROMPT_DEFAULT + "x"


async def test_a_widgets_own_keys_stay_its_own_while_typing(tiny):
    # The redirect must not take the keys a focused control binds: m switches the head picker's mode.
    from tui_transformer.tui.widgets.head_picker import HeadPicker

    app = PlaygroundApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await playground_ready(app, pilot, tiny)
        await pilot.press("ctrl+b")
        picker = screen.query_one(HeadPicker)
        assert app.focused is picker
        mode = picker.ablation.mode
        await pilot.press("m")
        assert picker.ablation.mode != mode and screen.query_one("#pg-prompt", TextArea).text == PLAYGROUND_PROMPT
        await pilot.press("x")  # a letter it does not bind goes into the prompt
        assert screen.query_one("#pg-prompt", TextArea).text == PLAYGROUND_PROMPT + "x"
        await screen.workers.wait_for_complete()


def test_the_checkpoint_picker_tells_latest_from_best_and_one_sweep_run_from_another(tmp_path):
    # The picker cut the labels to "sweep-…-1 · l…": latest and best, and the sweep's runs, looked alike.
    from tui_transformer.train.runs import list_runs
    from tui_transformer.tui.screens.playground import PICKER_WIDTH, checkpoint_options

    runs = tmp_path / "runs"
    for name in ("sweep-1205-232015-1", "sweep-1205-232015-2"):
        checkpoints = runs / name / "checkpoints"
        checkpoints.mkdir(parents=True)
        (runs / name / "config.toml").write_text("")
        for which in ("latest", "best"):
            (checkpoints / f"{which}.pt").write_bytes(b"")
    labels = [label for label, _ in checkpoint_options(list_runs(runs))]
    assert all(len(label) <= PICKER_WIDTH for label in labels)
    assert set(labels) == {"swe…232015-1 · latest", "swe…232015-2 · latest", "swee…-232015-1 · best",
                           "swee…-232015-2 · best"}
