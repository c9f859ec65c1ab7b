"""The Benchmark screen, driven by Pilot: a real tiny KV-cache bench, stop, save as JSON, errors, snapshot."""

import json

import pytest
from textual.app import App
from textual.widgets import DataTable, ProgressBar, Select, SelectionList, Static
from textual.worker import WorkerFailed

from tests.tui.helpers import ScreenHost
from tui_transformer.tui.screens.benchmark import BenchFinished, BenchmarkScreen, kv_rows
from tui_transformer.tui.widgets.bench_chart import BenchChart


class BenchApp(ScreenHost):
    def on_mount(self) -> None:
        self.push_screen(BenchmarkScreen())


async def _ready(app: BenchApp, pilot, lengths: tuple[int, ...]) -> BenchmarkScreen:
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, BenchmarkScreen)
    await screen.workers.wait_for_complete()  # the run list
    picker = screen.query_one("#bn-lengths", SelectionList)
    picker.deselect_all()
    for length in lengths:
        picker.select(length)
    screen.query_one("#bn-device", Select).value = "cpu"
    return screen


def _cells(screen: BenchmarkScreen) -> list[list[str]]:
    table = screen.query_one("#bn-kv", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


@pytest.mark.slow  # a real bench of the tiny dims: measured 15-30 s here while other suites ran (load 7-9)
async def test_tiny_kv_bench_fills_the_table_and_chart_then_saves_json(tmp_path, notes):
    app = BenchApp()
    async with app.run_test(size=(100, 34)) as pilot:
        screen = await _ready(app, pilot, (8, 16))
        await pilot.press("r")  # tiny preset dims: d128, 4 layers, vocab 8192
        await screen.workers.wait_for_complete()
        await pilot.pause()

        result = screen.results["kv"]
        assert result["lengths"] == [8, 16] and result["tokens_match"] and not result["stopped"]
        rows = _cells(screen)
        assert [row[0] for row in rows] == ["8", "16"]
        for row, folded in zip(rows, kv_rows(result)):
            for cell, variant in zip(row[1:4], ("none", "naive", "prealloc")):
                assert float(cell.replace(",", "")) == pytest.approx(folded[variant], rel=0.01, abs=1)
            assert row[4] == f"{folded['speedup']:.1f}×"
            assert row[5].endswith("MiB") and float(row[5].split()[0]) > 0  # the prealloc cache holds K and V
        assert screen.query_one(BenchChart)._data[0] == [8, 16]
        progress = screen.query_one("#bn-progress", ProgressBar)
        assert progress.total and progress.progress == progress.total  # the bar ends full

        await pilot.press("s")
        severity, message = notes[-1]
        saved = tmp_path / "config" / "benchmarks"
        assert severity == "information" and message.startswith(f"saved {saved}")
        assert json.loads((saved / message.split("/")[-1]).read_text())["kv"]["rows"] == result["rows"]


async def test_stop_ends_the_bench_early_and_keeps_what_it_measured():
    app = BenchApp()
    async with app.run_test(size=(100, 34)) as pilot:
        screen = await _ready(app, pilot, (8, 1024))
        await pilot.press("r")
        while not screen.query_one("#bn-progress", ProgressBar).progress:  # the bench is generating
            await pilot.pause(0.05)
        await pilot.press("escape")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        result = screen.results["kv"]
        assert result["stopped"]
        assert all(row["length"] == 8 for row in result["rows"])  # 1024 was never finished
        assert "stopped early" in str(screen.query_one("#bn-status", Static).content)


async def test_errors_are_notifications(tmp_path, notes):
    app = BenchApp()
    async with app.run_test(size=(100, 34)) as pilot:
        screen = await _ready(app, pilot, ())
        await pilot.press("r")
        assert notes[-1] == ("warning", "select at least one length")
        await pilot.press("s")
        assert notes[-1][0] == "warning"  # nothing to save yet
        worker = screen._run_kv(f"run:{tmp_path / 'missing-run'}", [8], "cpu", screen._stop)
        with pytest.raises(WorkerFailed):
            await worker.wait()
        await pilot.pause()
        severity, message = notes[-1]
        assert severity == "error" and "missing-run" in message
        assert app.is_running


SPEEDS_BY_LENGTH = ((64, (310.0, 420.0, 450.0)), (128, (160.0, 400.0, 445.0)), (256, (80.0, 370.0, 440.0)))
RECORDED = {  # the shape of run_kv_bench's result, with made-up numbers that never change
    "lengths": [64, 128, 256],
    "rows": [{"length": n, "variant": v, "tokens_per_s": tps, "cache_bytes": 0 if v == "none" else 8192 * (16 + n)}
             for n, speeds in SPEEDS_BY_LENGTH for v, tps in zip(("none", "naive", "prealloc"), speeds)],
    "speedups": [{"length": 64, "prealloc_vs_none": 1.45}, {"length": 128, "prealloc_vs_none": 2.78},
                 {"length": 256, "prealloc_vs_none": 5.5}],
    "flatness": {"early_position": 100, "late_position": 272, "ms_per_token_early": 2.1,
                 "ms_per_token_late": 2.3, "late_over_early": 1.095},
    "tokens_match": True,
    "stopped": False,
}


async def test_recorded_result_fills_table_chart_and_flatness_line():
    app = BenchApp()
    async with app.run_test(size=(100, 34)) as pilot:
        screen = await _ready(app, pilot, (64, 128, 256))
        screen.post_message(BenchFinished("kv", RECORDED))
        await pilot.pause()
        assert _cells(screen)[2] == ["256", "80", "370", "440", "5.5×", "2.12 MiB"]  # 8192 * 272 bytes
        assert str(screen.query_one("#bn-flat", Static).content) == (
            "speedup = tok/s with the preallocated cache ÷ tok/s with no cache, at that length\n"
            "one cached decode step: 2.10 ms at position 100, 2.30 ms at 272 (1.09×)")
        assert screen.query_one(BenchChart)._data == ([64, 128, 256], {
            "none": [310.0, 160.0, 80.0], "naive": [420.0, 400.0, 370.0], "prealloc": [450.0, 445.0, 440.0]})


def test_snapshot_with_recorded_results(snap_compare):
    """80x24 with a recorded result (the numbers of a real run are different every time)."""
    app = BenchApp()

    async def run_before(pilot) -> None:
        await pilot.pause()
        screen = app.screen
        await screen.workers.wait_for_complete()
        screen.post_message(BenchFinished("kv", RECORDED))
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_a_runs_dims_are_offered_and_used(tmp_path):
    from tui_transformer.paths import runs_dir
    from tui_transformer.presets import PRESETS
    from tui_transformer.train import config_file
    from tui_transformer.tui.screens.benchmark import model_shape

    run = runs_dir() / "small-run"
    run.mkdir(parents=True)
    config_file.write(PRESETS["tiny"].with_overrides(model_d_model=48, model_n_layers=3), run / "config.toml")
    app = BenchApp()
    async with app.run_test(size=(100, 34)) as pilot:
        screen = await _ready(app, pilot, (8,))
        picker = screen.query_one("#bn-model", Select)
        values = [value for _, value in picker._options]
        assert values == ["preset:tiny", "preset:seed", f"run:{run}"]
        assert picker.value == "preset:tiny"  # the list refresh keeps the choice
    shape = model_shape(f"run:{run}")
    assert (shape.d_model, shape.n_layers) == (48, 3)
    assert model_shape("preset:seed") == PRESETS["seed"].model


@pytest.mark.slow  # run_train_bench itself took 12.7 s on d32 here (load 7 on 2 cores): 3 models, 33 steps, a peak
async def test_training_bench_of_a_small_runs_dims_shows_mfu():
    from tui_transformer.paths import runs_dir
    from tui_transformer.presets import PRESETS
    from tui_transformer.train import config_file

    run = runs_dir() / "d32-run"
    run.mkdir(parents=True)
    config_file.write(PRESETS["tiny"].with_overrides(model_d_model=32, model_n_heads=2, model_n_layers=2, model_d_ff=64,
                                                     model_max_seq_len=32, model_vocab_size=512), run / "config.toml")
    app = BenchApp()
    async with app.run_test(size=(100, 34)) as pilot:
        screen = await _ready(app, pilot, (8,))
        screen.query_one("#bn-model", Select).value = f"run:{run}"
        await pilot.press("m")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        result = screen.results["train"]
        assert result["config"]["d_model"] == 32 and result["seq_len"] == 32
        table = screen.query_one("#bn-train", DataTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert [row[0] for row in rows] == ["ours-explicit", "ours-sdpa", "reference"]
        for row, measured in zip(rows, result["rows"]):
            assert row[3] == f"{measured['mfu']:.1%}" and measured["mfu"] > 0
        assert rows[2][4] == "1.00×"  # the reference against itself
        assert screen.query_one("#bn-tabs").active == "bn-tab-train"


async def test_a_bench_while_training_asks_to_pause_it_and_says_what_it_measured(tmp_path, monkeypatch):
    # A bench beside a training run gave wrong ratios (naive 498 tok/s, prealloc 221) and slowed the run by 35 %.
    from tests.tui.helpers import fake_session_run, make_app, text_of, write_run
    from tui_transformer.tui.screens.confirm import ConfirmScreen
    from tui_transformer.tui.training_session import TrainingSession

    ran = []
    monkeypatch.setattr(BenchmarkScreen, "_run_kv", lambda self, *args: ran.append(args))
    monkeypatch.setattr(TrainingSession, "run", fake_session_run)
    followed = write_run(tmp_path / "runs", "followed", checkpoints=("latest",))
    (followed / "metrics.jsonl").write_text("")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.screen.attach(followed)
        await pilot.press("3")
        screen = app.screen
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert screen.query_one("#bn-model", Select).value == f"run:{followed}"  # the run on the Train screen
        await pilot.press("1", "s")
        try:
            for _ in range(100):
                await pilot.pause(0.05)
                if app.training is not None and app.training.run_name:
                    break
            await pilot.press("3", "r")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen) and not ran
            assert "Pause the training while the bench runs?" in " ".join(" ".join(text_of(app)).split())
            await pilot.press("y")
            await pilot.pause()
            assert len(ran) == 1 and app.training.pause.is_set()
            screen.post_message(BenchFinished("kv", RECORDED, "d48 L2 H2 · T 48 · vocab 512"))
            await pilot.pause()
            assert not app.training.pause.is_set()  # resumed after the bench
            status = str(screen.query_one("#bn-status", Static).render())
            assert "on d48 L2 H2" in status and "measured while a run trained" not in status
            assert "speedup = tok/s with the preallocated cache" in str(screen.query_one("#bn-flat", Static).render())
            lengths = screen.query_one("#bn-lengths", SelectionList)
            prompts = [str(lengths.get_option_at_index(i).prompt) for i in range(lengths.option_count)]
            assert prompts[3] == "✓ 64" and prompts[0] == "  8"  # a check mark, not only a colour
        finally:
            app.stop_training()
            await app.workers.wait_for_complete()
            await pilot.pause()
