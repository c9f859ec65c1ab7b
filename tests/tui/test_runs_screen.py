"""The Runs screen, driven by keys: sort, filter, mark, sweeps, the overlay, the diff, actions, live growth.

The runs are real run folders written by the core's own writers (``config_file.write`` and
``MetricsWriter``, what the trainer writes), with fixed times so the snapshot is stable. A run
in training is one whose lock is held the way the trainer holds it (``RunDirectory.resume``).
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import Input, Static

from tests.tui.helpers import ScreenHost, make_app, plain
from tui_transformer.presets import PRESETS
from tui_transformer.train import config_file
from tui_transformer.train.events import Alert, EvalResult, RunFinished, RunStarted, StepMetrics
from tui_transformer.train.metrics import MetricsWriter
from tui_transformer.train.run_compare import metric_history
from tui_transformer.train.runs import RunDirectory
from tui_transformer.train.smoothing import curve, debiased_ema
from tui_transformer.tui.screens.runs import RunsScreen
from tui_transformer.tui.widgets.overlay_chart import PALETTE, OverlayChart
from tui_transformer.tui.widgets.run_table import RunTable
from tui_transformer.tui.widgets.slider import Slider

T0 = 1_790_000_000.0  # a fixed start time: the table's "started" column is part of the snapshot


def record_run(runs: Path, name: str, *, rate: float, steps: int = 40, finished: bool = True, alerts: int = 0,
               **overrides) -> Path:
    """A run folder as the trainer leaves it: config.toml and metrics.jsonl, with a loss falling at ``rate``."""
    config = PRESETS["tiny"].with_overrides(data="builtin", tokenizer="bpe-512", run_name=name, **overrides)
    run_dir = runs / name
    (run_dir / "checkpoints").mkdir(parents=True)
    config_file.write(config, run_dir / "config.toml")
    writer = MetricsWriter(run_dir)
    writer.write(RunStarted(str(run_dir), name, config.to_dict(), "cpu", "tiny", "tiny: chosen by name", 123_456,
                            time=T0))
    for step in range(1, steps + 1):
        writer.write(loss_step(step, rate))
        if step % 10 == 0:
            val = 1.0 + 4.0 * math.exp(-rate * step) + 0.05
            writer.write(EvalResult(step, val, math.exp(val), val - 0.05, "normal", val / math.log(2) / 3, time=T0))
    for i in range(alerts):
        writer.write(Alert(steps, "plateau", "the loss has stayed near 3.2", "Model and training", time=T0))
    if finished:
        writer.write(RunFinished(steps, "max_steps", 256 * steps, None, time=T0))
    writer.close()
    return run_dir


def loss_step(step: int, rate: float) -> StepMetrics:
    loss = 1.0 + 4.0 * math.exp(-rate * step) + 0.2 * math.sin(step)  # noisy: smoothing has work to do
    speed = 1000.0 + 50.0 * (step % 3)  # varies, so a smoothed tokens/s curve differs from the raw one
    return StepMetrics(step, 40, 1, loss, math.exp(loss), 1e-3, 0.5, speed, 256 * step, 0.5 * step, None, time=T0)


@pytest.fixture
def runs(tmp_path) -> Path:
    """Three recorded runs in the test's runs folder: a two-run sweep over positions, and a lower lr."""
    root = tmp_path / "runs"
    record_run(root, "pos-1", rate=0.05, sweep="pos", model_pos_encoding="sinusoidal")
    record_run(root, "pos-2", rate=0.08, sweep="pos", model_pos_encoding="rope", alerts=2)
    record_run(root, "slow-lr", rate=0.02, lr=1e-4)
    return root


class RunsApp(ScreenHost):
    """The Runs screen alone."""

    def on_mount(self) -> None:
        self.push_screen(RunsScreen())


async def ready(app: App, pilot) -> RunsScreen:
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, RunsScreen)
    screen.list_runs()
    await settled(screen, pilot)
    return screen


async def settled(screen: RunsScreen, pilot) -> None:
    await pilot.pause()
    await screen.workers.wait_for_complete()
    await pilot.pause()


def names(screen: RunsScreen) -> list[str]:
    return [run.name for run in screen.query_one(RunTable).shown]


async def select(screen: RunsScreen, pilot, name: str) -> None:
    table = screen.query_one(RunTable)
    table.move_cursor(row=names(screen).index(name))
    await pilot.pause()


async def test_sort_by_columns_by_key_and_reverse(runs):
    app = RunsApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(app, pilot)
        assert set(names(screen)) == {"pos-1", "pos-2", "slow-lr"}
        await pilot.press("s")  # the first column: name
        assert names(screen) == ["pos-1", "pos-2", "slow-lr"]
        await pilot.press("S")
        assert names(screen) == ["slow-lr", "pos-2", "pos-1"]
        for _ in range(5):  # name -> state -> preset -> steps -> best val -> best bpb
            await pilot.press("s")
        table = screen.query_one(RunTable)
        assert table.sort_key == "best_val_bpb"
        assert names(screen) == ["pos-2", "pos-1", "slow-lr"], "the fastest-falling loss has the lowest bpb"
        assert "best bpb ▲" in str(table.columns["best_val_bpb"].label)


async def test_typing_a_filter_keeps_the_matching_runs_and_escape_returns_to_the_table(runs):
    app = RunsApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("slash", *"pos")
        assert screen.query_one("#runs-filter", Input).value == "pos"
        assert sorted(names(screen)) == ["pos-1", "pos-2"]
        await pilot.press("space", *"max")  # every word must match: "max" is in the state, finished (max_steps)
        assert sorted(names(screen)) == ["pos-1", "pos-2"]
        await pilot.press(*"x")
        assert names(screen) == []
        await pilot.press(*["backspace"] * 8, *"slow")
        assert names(screen) == ["slow-lr"]
        await pilot.press("escape")
        assert screen.focused is screen.query_one(RunTable)
        await pilot.press("space")  # a screen key again, not a letter of the filter
        await settled(screen, pilot)
        assert len(screen.marked) == 1


async def test_marks_keep_their_colour_and_the_sweep_key_marks_the_sweep(runs):
    app = RunsApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(app, pilot)
        chart = screen.query_one(OverlayChart)

        def colours() -> dict[str, str]:
            return {run.name: run.style for run in chart.runs}

        await select(screen, pilot, "slow-lr")
        await pilot.press("space")
        await settled(screen, pilot)
        assert colours() == {"slow-lr": PALETTE[0]}
        await select(screen, pilot, "pos-2")
        await pilot.press("w")  # pos-2's sweep: pos-1 and pos-2
        await settled(screen, pilot)
        assert colours()["slow-lr"] == PALETTE[0], "marking others never repaints a marked run"
        assert set(colours()) == {"slow-lr", "pos-1", "pos-2"}
        assert {colours()["pos-1"], colours()["pos-2"]} == {PALETTE[1], PALETTE[2]}
        pos2 = colours()["pos-2"]
        await select(screen, pilot, "slow-lr")
        await pilot.press("space")  # unmark: its colour is free again
        await settled(screen, pilot)
        assert colours()["pos-2"] == pos2 and "slow-lr" not in colours()
        await pilot.press("space")
        await settled(screen, pilot)
        assert colours() == {"pos-1": colours()["pos-1"], "pos-2": pos2, "slow-lr": PALETTE[0]}
        assert [line.style for line in chart.drawn_lines()] == [run.style for run in chart.runs]
        await select(screen, pilot, "pos-1")
        await pilot.press("w")  # the whole sweep already marked: the key unmarks it
        await settled(screen, pilot)
        assert set(colours()) == {"slow-lr"}


async def test_the_overlay_draws_the_marked_runs_smoothed_as_the_ema_says(runs):
    app = RunsApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(app, pilot)
        await select(screen, pilot, "pos-1")
        await pilot.press("space")
        await settled(screen, pilot)
        chart = screen.query_one(OverlayChart)
        await pilot.press("m", "m", "m", "m")  # val bpb -> val loss -> train loss -> learning rate -> tokens/s
        assert chart.metric == "tokens_per_sec" and "tokens/s by tokens" in plain(chart.render())
        _, speeds = curve(metric_history(runs / "pos-1"), "tokens_per_sec", "tokens")
        assert chart.smoothing > 0 and chart.drawn_lines()[0].series.ys == pytest.approx(debiased_ema(speeds, chart.smoothing))
        assert chart.drawn_lines()[0].series.ys != pytest.approx(speeds)
        await pilot.press("m", "m", "m")  # round to train loss
        assert chart.metric == "loss"
        history = metric_history(runs / "pos-1")
        xs, raw = curve(history, "loss", "tokens")
        slider = screen.query_one(Slider)
        slider.focus()
        await pilot.press("home")  # no smoothing: the raw losses
        assert chart.drawn_lines()[0].series.ys == raw
        for _ in range(9):
            await pilot.press("right")
        assert chart.smoothing == 0.09
        await pilot.press("shift+right", "shift+right", "shift+right", "shift+right", "shift+right")
        assert chart.smoothing == 0.59
        drawn = chart.drawn_lines()[0].series
        assert drawn.xs == xs == [256.0 * step for step in range(1, 41)]
        assert drawn.ys == pytest.approx(debiased_ema(raw, 0.59)) and drawn.ys != raw
        await pilot.press("escape")  # out of the slider: the screen's keys again
        screen.query_one(RunTable).focus()
        await pilot.press("x")
        assert chart.x_axis == "time" and chart.drawn_lines()[0].series.xs == [0.5 * step for step in range(1, 41)]
        await pilot.press("l")
        assert chart.log and "[log]" in plain(chart.render())


async def test_the_config_diff_lists_only_the_fields_that_differ(runs):
    app = RunsApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(app, pilot)
        diff = screen.query_one("#runs-diff", Static)
        assert "mark two or more runs" in plain(diff.content)
        await select(screen, pilot, "pos-1")
        await pilot.press("w")
        await settled(screen, pilot)
        rows = [row.split() for row in plain(diff.content, width=40).splitlines()[1:] if row.strip()]
        # one setting differs between the sweep's runs: a row per run, named by what tells them apart
        assert plain(diff.content, width=40).splitlines()[0].strip() == "settings that differ · pos-*"
        assert rows[0] == ["run", "pos_encoding"]
        assert {tuple(row) for row in rows[1:]} == {("1", "sinusoidal"), ("2", "rope")}


def test_a_diff_of_more_settings_than_runs_has_a_row_per_setting():
    from tui_transformer.tui.screens.runs import diff_table

    base = PRESETS["tiny"]
    configs = {"a": base.with_overrides(lr=1e-3, model_d_model=64, seed=1), "b": base.with_overrides(lr=2e-3, seed=2)}
    rows = [row.split() for row in plain(diff_table(configs, {}, 60), width=60).splitlines()[1:] if row.strip()]
    assert rows[0] == ["setting", "a", "b"]
    assert rows[1:] == [["seed", "1", "2"], ["lr", "0.001", "0.002"], ["d_model", "64", "128"]]


@pytest.mark.parametrize("width", [60, 34])
def test_a_diff_of_four_sweep_runs_says_which_column_is_which_run(width):
    # With 4 marked runs the diff read "setting po… p… a… s…": every column cut, no run told apart.
    from tui_transformer.tui.screens.runs import diff_table

    base = PRESETS["tiny"]
    settings = [("sinusoidal", 1e-3, "bpe-512"), ("rope", 2e-3, "cl100k_base"), ("alibi", 1e-3, "bpe-512"),
                ("rope", 3e-3, "bpe-512")]
    configs = {f"sweep-1205-232015-{i + 1}": base.with_overrides(model_pos_encoding=pos, lr=lr, tokenizer=tokenizer,
                                                                 seed=i, model_d_model=64 * (i + 1))
               for i, (pos, lr, tokenizer) in enumerate(settings)}
    lines = [line.rstrip() for line in plain(diff_table(configs, {}, width), width=width).splitlines() if line.strip()]
    assert " ".join(lines).startswith("settings that differ · sweep-1205-232015-*")  # the shared part, said once
    assert not any("…" in line for line in lines)  # nothing is cut
    if width == 60:  # it fits: a column per run, headed by its number in the sweep
        assert lines[1].split() == ["setting", "1", "2", "3", "4"]
        assert ["tokenizer", "bpe-512", "cl100k_base", "bpe-512", "bpe-512"] in [line.split() for line in lines]
    else:  # too narrow for four columns: a paragraph per run, each starting with its label
        text = " ".join(lines)
        for i, (pos, lr, tokenizer) in enumerate(settings):
            assert f"{i + 1}  tokenizer {tokenizer} · seed {i} · lr {lr:g} · d_model {64 * (i + 1)} · pos_encoding {pos}" in text


async def test_deleting_a_running_run_is_refused_and_a_finished_one_is_deleted_after_yes(runs, notes):
    held = RunDirectory.resume(runs / "pos-1")  # pos-1 is being trained
    try:
        app = RunsApp()
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await ready(app, pilot)
            await select(screen, pilot, "pos-1")
            assert screen.query_one(RunTable).selected.label == "running"
            await pilot.press("d")
            await settled(screen, pilot)
            assert notes[-1] == ("error", f"run pos-1 is being trained right now by this process (pid {os.getpid()}: "
                                          "it is training here); stop it first, or wait for it to end")  # it names the trainer
            assert (runs / "pos-1" / "config.toml").is_file()
            await select(screen, pilot, "slow-lr")
            await pilot.press("d")
            await pilot.press("n")  # the confirm: keep it
            await settled(screen, pilot)
            assert (runs / "slow-lr").is_dir()
            await pilot.press("d")
            await pilot.press("y")
            await settled(screen, pilot)
            assert not (runs / "slow-lr").exists() and sorted(names(screen)) == ["pos-1", "pos-2"]
            assert notes[-1] == ("information", "deleted slow-lr")
    finally:
        held.close()


async def test_rename_and_note_persist(runs):
    app = RunsApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(app, pilot)
        await select(screen, pilot, "pos-2")
        await pilot.press("space")
        await settled(screen, pilot)
        colour = screen.query_one(OverlayChart).runs[0].style
        await pilot.press("r")
        prompt = app.screen.query_one(Input)
        prompt.value = ""
        await pilot.press(*"rope", "enter")
        await settled(screen, pilot)
        assert (runs / "rope" / "metrics.jsonl").is_file() and not (runs / "pos-2").exists()
        assert "rope" in names(screen)
        assert [(run.name, run.style) for run in screen.query_one(OverlayChart).runs] == [("rope", colour)]
        await select(screen, pilot, "rope")
        await pilot.press("n", *"best so far", "enter")
        await settled(screen, pilot)
        assert (runs / "rope" / "note.txt").read_text() == "best so far\n"
        assert screen.query_one(RunTable).selected.note == "best so far"


async def test_a_running_run_s_curve_grows_as_it_logs(runs):
    held = RunDirectory.resume(runs / "pos-1")
    try:
        app = RunsApp()
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await ready(app, pilot)
            await select(screen, pilot, "pos-1")
            await pilot.press("space", "m", "m")  # train loss: a point per step
            await settled(screen, pilot)
            chart = screen.query_one(OverlayChart)
            assert len(chart.drawn_lines()[0].series) == 40
            writer = MetricsWriter(runs / "pos-1")  # the trainer goes on
            for step in range(41, 46):
                writer.write(loss_step(step, 0.05))
            writer.close()
            screen.poll_live()  # what the screen's one-second timer calls
            await pilot.pause()
            assert len(chart.drawn_lines()[0].series) == 45
            assert chart.drawn_lines()[0].series.xs[-1] == 256 * 45
    finally:
        held.close()


async def test_5_u_and_f5_open_runs_and_o_follows_the_run_on_train(runs):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        for key, back in (("5", "1"), ("u", "t"), ("f5", "f1")):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, RunsScreen)
            await pilot.press(back)
        await pilot.press("5")
        screen = app.screen
        await settled(screen, pilot)
        await select(screen, pilot, "pos-2")
        await pilot.press("o")
        await pilot.pause()
        await pilot.pause()
        assert app.current_mode == "train" and app.current_run.path == runs / "pos-2"


def test_snapshot_three_runs_two_marked(snap_compare, runs):
    app = RunsApp()

    async def run_before(pilot) -> None:
        screen = await ready(app, pilot)
        screen.query_one("#runs-filter", Input).cursor_blink = False
        await pilot.press("s")  # by name: the runs were written in the same instant, so their listing order is not fixed
        await select(screen, pilot, "pos-1")
        await pilot.press("w")
        await settled(screen, pilot)

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_snapshot_a_sweep_of_four_marked_at_80x24(snap_compare, tmp_path):
    """80x24, the whole app: the legend wraps, the diff lists each run, the footer keeps every action."""
    for i, pos in enumerate(("sinusoidal", "rope", "alibi", "rope")):
        record_run(tmp_path / "runs", f"sweep-1205-232015-{i + 1}", rate=0.03 + 0.02 * i, sweep="sweep-1205-232015",
                   model_pos_encoding=pos, lr=1e-3 * (i + 1))
    app = make_app()

    async def run_before(pilot) -> None:
        await pilot.press("5")
        screen = app.screen
        await settled(screen, pilot)
        screen.query_one("#runs-filter", Input).cursor_blink = False
        await pilot.press("s")  # by name
        await select(screen, pilot, "sweep-1205-232015-1")
        await pilot.press("w")
        await settled(screen, pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_g_loads_the_run_in_the_playground_and_a_run_without_checkpoint_says_so(runs, notes):
    from tests.tui.helpers import write_run
    from tui_transformer.tui.screens.playground import PlaygroundScreen

    write_run(runs, "with-ckpt", ("latest",))
    newest = write_run(runs, "newer-ckpt", ("latest",))  # what the Playground would load by itself
    os.utime(newest, (time.time() + 60, time.time() + 60))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5")
        screen = app.screen
        await settled(screen, pilot)
        await select(screen, pilot, "slow-lr")
        await pilot.press("g")
        assert notes[-1] == ("warning", "slow-lr has no checkpoint yet to load") and app.screen is screen
        await select(screen, pilot, "with-ckpt")
        await pilot.press("g")
        playground = app.screen
        assert isinstance(playground, PlaygroundScreen)
        for _ in range(20):  # its listing, the pick, then the load of with-ckpt
            await playground.workers.wait_for_complete()
            await pilot.pause(0.1)
            if playground.model_label:
                break
        assert playground.model_label == "with-ckpt · latest"


# ---- layout at 80x24 and 120x40 ---------------------------------------------------------------

async def test_a_run_started_elsewhere_appears_without_leaving_the_screen(runs):
    # It appeared only after leaving the screen and coming back.
    app = RunsApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(app, pilot)
        record_run(runs, "from-the-cli", rate=0.05)
        screen.refresh_running()  # what the screen's timer calls every few seconds
        await settled(screen, pilot)
        assert "from-the-cli" in names(screen)
        (runs / "slow-lr" / "config.toml").unlink()  # gone (deleted elsewhere): no longer a run
        screen.refresh_running()
        await settled(screen, pilot)
        assert "slow-lr" not in names(screen)


async def test_the_started_column_is_whole_at_120_columns(tmp_path):
    # With a sweep's long run names it read "12-05 2": the column ran past the screen's edge.
    from tests.tui.helpers import text_of

    for i in range(3):
        record_run(tmp_path / "runs", f"sweep-1205-232015-{i + 1}", rate=0.05, sweep="sweep-1205-232015")
    app = RunsApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(app, pilot)
        started = time.strftime("%m-%d %H:%M", time.localtime(T0))
        assert all(started in line for line in text_of(app, screen.query_one(RunTable))[1:4])


async def test_end_and_right_keep_the_name_column_in_sight(runs):
    from tests.tui.helpers import text_of

    app = RunsApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("end", *["right"] * 12)
        await pilot.wait_for_scheduled_animations()  # the table scrolls smoothly
        table = screen.query_one(RunTable)
        assert table.scroll_x > 0  # the columns on the right are in view
        assert any("slow-lr" in line for line in text_of(app, table))


async def test_the_legend_names_a_sweeps_runs_by_what_tells_them_apart(tmp_path):
    root = tmp_path / "runs"
    for i in range(4):
        record_run(root, f"sweep-1205-232015-{i + 1}", rate=0.03 + 0.02 * i, sweep="sweep-1205-232015", lr=1e-3 * (i + 1))
    app = RunsApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("w")
        await settled(screen, pilot)
        chart = screen.query_one(OverlayChart)
        title = plain(chart.render(), width=chart.content_size.width).splitlines()[0]
        # the legend was cut to "━ sweep-1205-232" after one run
        assert "sweep-1205-232015-*" in title and all(f"━ {i}" in title for i in range(1, 5))


@pytest.mark.slow  # the whole app: about 2 s
async def test_the_footer_at_80_columns_keeps_note_delete_and_learn(runs):
    from tests.tui.helpers import text_of

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")
        await settled(app.screen, pilot)
        footer = text_of(app)[-1]
        for key in ("space Mark", "? Help", "q Quit", "o Train", "e Learn", "r Rename", "n Note", "d Delete"):
            assert key in footer
