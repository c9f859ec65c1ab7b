"""The Lessons screen: the list, a lesson trained through the app's worker to its verdict, the keys, the
tab bar that leads there, and the modern-recipe Learn page's ranking of the learner's runs.

The lesson trained here is the real induction lesson cut to two runs of 3 steps of a small model:
real runs, real verdict. Its first run is held before its first step (the dashboard's own pause),
so that what the screen shows while a lesson trains, and the refusal of a second training, are
read at a moment made certain.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from tests.tui.helpers import make_app, plain, text_of
from tui_transformer.lessons import induction
from tui_transformer.lessons.lesson import Lesson
from tui_transformer.lessons.registry import LESSONS
from tui_transformer.lessons.runner import DONE, lesson_sweep
from tui_transformer.presets import PRESETS
from tui_transformer.train import config_file
from tui_transformer.train.events import EvalResult, RunFinished, RunStarted, StepMetrics
from tui_transformer.train.metrics import MetricsWriter
from tui_transformer.tui.current_run import CurrentRun
from tui_transformer.tui.learn.modern_recipe import ranked_runs, recipe_table, recipe_words
from tui_transformer.tui.learn.registry import PAGES
from tui_transformer.tui.screens import lessons as lessons_screen
from tui_transformer.tui.screens.lessons import LessonsScreen
from tui_transformer.tui.training_session import TrainingSession
from tui_transformer.tui.widgets.tab_bar import tab_bar_text

TINY = dict(max_steps=3, eval_interval=3, eval_batches=1, sample_interval=3, checkpoint_interval=3, batch_size=4,
            model_d_model=32, device="cpu")
T0 = 1_790_000_000.0  # fixed times: the snapshot's runs


def tiny_induction() -> Lesson:
    return dataclasses.replace(induction.LESSON, arms=induction.LESSON.arms[:2], base=induction.LESSON.base | TINY)


def unavailable_lesson() -> Lesson:
    return dataclasses.replace(induction.LESSON, name="future", title="A future lesson",
                               unavailable=lambda: "it needs a setting this version lacks")


async def wait_until(pilot, condition, timeout_s=120.0):
    for _ in range(int(timeout_s / 0.05)):
        if condition():
            await pilot.pause(0.6)  # one tick of the screen's progress timer
            return
        await pilot.pause(0.05)  # an explicit delay: pause() alone waits for an idle process, never true while training
    raise AssertionError("timed out")


async def lessons_ready(app, pilot) -> LessonsScreen:
    await pilot.press("6")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, LessonsScreen)
    await screen.workers.wait_for_complete()  # the lessons' runs read
    await pilot.pause()
    return screen


def detail(app) -> str:
    return "\n".join(text_of(app, app.screen.query_one("#lesson-detail")))


@pytest.fixture
def held_before_the_first_step(monkeypatch):
    """The first run a sweep trains from the dashboard waits before its first step until it is unpaused."""
    original = TrainingSession.run_sweep

    def run_sweep(self, post, on_sweep_run):
        def notice(index, action, run_dir, best_val_bpb):
            if index == 0:
                self.pause.set()
            on_sweep_run(index, action, run_dir, best_val_bpb)

        return original(self, post, notice)

    monkeypatch.setattr(TrainingSession, "run_sweep", run_sweep)


async def test_a_lesson_trains_from_the_screen_to_its_verdict(monkeypatch, held_before_the_first_step, notes):
    monkeypatch.setattr(lessons_screen, "LESSONS", (tiny_induction(), unavailable_lesson(), *LESSONS[1:3]))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await lessons_ready(app, pilot)
        listed = "\n".join(text_of(app, screen.query_one("#lessons-list")))
        assert "Induction heads" in listed and "A future lesson" in listed and "unavailable" in listed
        assert f"not started · {LESSONS[1].minutes:g} min" in listed  # positions, measured
        assert "Can a transformer learn" in detail(app) and "induction-seed1" in detail(app)

        await pilot.press("down", "s")  # the unavailable lesson: refused, and its detail says why
        assert notes[-1] == ("error", "A future lesson cannot run yet: it needs a setting this version lacks")
        assert "Not available: it needs a setting" in detail(app)

        await pilot.press("up", "s")
        await wait_until(pilot, lambda: "running · setting up" in detail(app))
        assert app.training_active and "training · run 1/2" in "\n".join(text_of(app, screen.query_one("#lessons-list")))
        await pilot.press("down", "down", "s")  # another lesson while this one trains: refused
        assert notes[-1] == ("warning", "a run is training here: stop it first (x on Train)")
        await pilot.press("up", "up", "s")
        assert "is training: its curves are on Train" in notes[-1][1]
        assert "x stops it" in detail(app) and "s starts it" not in detail(app)  # the keys that work now

        app.set_paused(False)
        await wait_until(pilot, lambda: not app.training_active and screen.views["induction"].state == DONE)
        shown = detail(app)
        assert "Verdict" in shown and screen.views["induction"].verdict.headline in shown
        assert "✓ induction-seed0" in shown and "✓ induction-seed1" in shown
        assert notes[-1][1] == screen.views["induction"].verdict.headline  # said in a notification too
        assert app.current_run.name == "induction-seed1"  # each run became the current run: Train drew it
        await pilot.press("1")  # Train's form shows the lesson's settings, not the form's own (d_model 128, batch 16)
        await pilot.pause()
        assert [app.screen.query_one(f"#{field}").value for field in ("d-model", "batch", "tokenizer")] == \
            ["32", "4", "letters-32"]
        await pilot.press("6")
        await pilot.pause()

        await pilot.press("r")  # its runs, overlaid on the Runs screen
        await wait_until(pilot, lambda: len(app.screen.marked) == 2, timeout_s=20)
        assert app.current_mode == "runs" and sorted(app.screen.marked) == ["induction-seed0", "induction-seed1"]


async def test_o_opens_the_verdicts_page_on_its_run_and_r_without_runs_says_so(monkeypatch, notes):
    """The keys ask the app through its typed interface: recorded, not performed."""
    from tui_transformer.lessons.verdict import Verdict

    app = make_app()
    asked = []
    monkeypatch.setattr(type(app), "open_run", lambda self, run, mode="train": asked.append((run, mode)) or True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await lessons_ready(app, pilot)
        pages = []
        monkeypatch.setattr(type(app), "on_open_learn_page", lambda self, message: pages.append(message.title))
        await pilot.press("r")
        assert notes[-1] == ("warning", "Induction heads has no runs yet: s starts it")
        await pilot.press("o")  # no verdict yet: the lesson's own page
        await pilot.pause()
        assert pages == ["Circuits"] and asked == []
        view = screen.views["induction"]
        screen.views["induction"] = dataclasses.replace(
            view, verdict=Verdict("induction", True, "formed", open_page="Circuits", open_run="induction-seed2"))
        await pilot.press("o")
        await pilot.pause()
        assert asked == [("induction-seed2", "learn")] and pages == ["Circuits", "Circuits"]


def test_every_lesson_names_a_learn_page_that_exists():
    titles = {page.title for page in PAGES}
    assert {lesson.name: lesson.learn for lesson in LESSONS if lesson.learn not in titles} == {}


@pytest.mark.parametrize("width", [80, 120])
def test_the_tab_bar_names_six_screens_and_keeps_a_lesson_run_in_sight(width):
    run = CurrentRun(path=Path("/runs/induction-seed0"), state="running", trained_here=True)
    for mode in ("train", "lessons"):
        bar = tab_bar_text(mode, run, width).plain
        assert len(bar) == width and bar.endswith("induction-seed0 · running")
        assert ("[6 Lessons]" in bar) == (mode == "lessons") and "5 Runs" in bar
    assert tab_bar_text("lessons", CurrentRun(), width).plain.rstrip().endswith("no run yet: s starts one"
                                                                                + (", o opens one" if width > 80 else ""))


def test_the_modern_recipe_panel_ranks_the_speedrun_runs_with_their_recipes(tmp_path):
    from tui_transformer.presets import MODERN
    from tui_transformer.train.runs import list_runs

    root = tmp_path / "runs"
    write_run(root, "speedrun-classic", {}, bpb=2.50, sweep="speedrun")
    write_run(root, "speedrun-modern", MODERN, bpb=2.30, sweep="speedrun")
    write_run(root, "other", {"model_norm": "rmsnorm"}, bpb=1.0)  # better, but not the lesson's
    ranked, from_lesson = ranked_runs(list_runs(root))
    assert from_lesson and [run.name for run in ranked] == ["speedrun-modern", "speedrun-classic"]
    lines = plain(recipe_table(ranked, "speedrun-modern"), 160).splitlines()
    modern = next(line for line in lines if "speedrun-modern" in line)
    assert "relu2 · untied · muon · wsd" in modern  # what tiny adopted over classic
    assert "2.3000" in modern and "-0.2000" in modern
    assert "classic" in next(line for line in lines if "speedrun-classic" in line)
    assert recipe_words({"model": {"activation": "swiglu"}, "optimizer": "adamw"}) == ["swiglu"]


def test_snapshot_the_induction_lesson_done_with_its_verdict(snap_compare):
    """The induction lesson's three runs on disk, as the trainer leaves them: one formed its head."""
    lesson_sweep(induction.LESSON)  # its manifest, as starting it writes
    for seed, icl in ((0, 3.2), (1, -0.1), (2, -0.2)):
        write_lesson_run(f"induction-seed{seed}", seed, icl)
    app = make_app()

    async def run_before(pilot) -> None:
        await lessons_ready(app, pilot)

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_snapshot_the_lessons_at_80x24(snap_compare):
    app = make_app()

    async def run_before(pilot) -> None:
        await lessons_ready(app, pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def write_run(root: Path, name: str, overrides: dict, *, bpb: float, sweep: str | None = None) -> Path:
    """A finished run folder with one eval reaching ``bpb``."""
    config = PRESETS["tiny"].with_overrides(data="builtin", tokenizer="bpe-512", run_name=name, sweep=sweep, **overrides)
    run_dir = root / name
    run_dir.mkdir(parents=True)
    config_file.write(config, run_dir / "config.toml")
    writer = MetricsWriter(run_dir)
    writer.write(RunStarted(str(run_dir), name, config.to_dict(), "cpu", "tiny", "", 1000, time=T0))
    writer.write(EvalResult(100, 3.0, math.exp(3.0), 2.9, "normal", bpb, time=T0))
    writer.write(RunFinished(100, "max_time", 1000, 3.0, time=T0))
    writer.close()
    return run_dir


def write_lesson_run(name: str, seed: int, icl_at_end: float) -> None:
    """An induction lesson run: evals every 100 steps whose in-context learning rises to ``icl_at_end``."""
    from tui_transformer.paths import runs_dir

    config = lesson_sweep(induction.LESSON).configs[seed]
    run_dir = runs_dir() / name
    (run_dir / "checkpoints").mkdir(parents=True)
    config_file.write(config, run_dir / "config.toml")
    writer = MetricsWriter(run_dir)
    writer.write(RunStarted(str(run_dir), name, config.to_dict(), "cpu", "tiny", "", 20_000, time=T0))
    for step in range(100, 900, 100):  # the lesson's 800 steps; a head that forms does so at step 500
        forms, formed = icl_at_end > 2, icl_at_end > 2 and step >= 500
        writer.write(StepMetrics(step, 800, 1, 3.0, 20.0, 3e-3, 0.5, 1000.0, 2048 * step, step / 30, None, time=T0))
        writer.write(EvalResult(step, 2.4 if formed else 3.4, 10.0, 2.0, "normal", None,
                                icl_at_end if formed else (0.9 if forms else -0.1), 0.95 if formed else 0.1,
                                time=T0))
    writer.write(RunFinished(800, "max_steps", 2048 * 800, 2.4, time=T0))
    writer.close()


@pytest.mark.parametrize("width", [60, 100])
def test_a_verdicts_chart_is_drawn_under_its_findings_at_the_width_it_is_given(width):
    from rich.console import Console

    from tui_transformer.lessons.verdict import Chart, Verdict
    from tui_transformer.tui.screens.lessons import LessonView, lesson_detail

    chart = Chart("val loss by FLOPs", {name: ([1e10, 1e11, 1e12], [6.0 + i, 5.0, 4.4 - i / 10])
                                        for i, name in enumerate(["d32", "d64", "d128", "d192", "d256"])},
                  log_x=True, log_y=True)
    verdict = Verdict("scaling", True, "a middle size learned best", ["d64: best val loss 4.200"], charts=[chart])
    console = Console(width=width, record=True, color_system=None)
    console.print(lesson_detail(LESSONS[0], LessonView(DONE, (), verdict), None))
    lines = console.export_text().splitlines()
    title = next(i for i, line in enumerate(lines) if line.startswith("val loss by FLOPs"))
    assert title > next(i for i, line in enumerate(lines) if "d64: best val loss" in line)
    legend = " ".join(lines[title:title + 2])  # at 60 columns the legend wraps; no name is cut
    assert all(f"━ {name}" in legend for name in chart.series) and "[log-log]" in lines[title]
    axis = next(line for line in lines[title:] if "└" in line)
    assert "1e+10" in axis and "1e+12" in axis and max(map(len, lines[title:title + 10])) <= width
