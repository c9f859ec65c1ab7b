"""Lessons: every lesson's runs build; each runs a few steps and gives a verdict; the induction lesson,
at full length, forms the head and its verdict reads the numbers."""

import dataclasses
import json

import pytest
import torch

from tui_transformer.cli import main
from tui_transformer.errors import UserError
from tui_transformer.lessons.registry import LESSONS, get_lesson
from tui_transformer.train.events import StepMetrics
from tui_transformer.lessons.runner import DONE, NOT_STARTED, PARTLY_RUN, base_config, lesson_state, run_lesson
from tui_transformer.train.sweep import plan_arms

AVAILABLE = [lesson for lesson in LESSONS if lesson.unavailable() is None]
FEW_STEPS = dict(max_steps=2, eval_interval=1, eval_batches=1, sample_interval=2, checkpoint_interval=2)


@pytest.mark.parametrize("lesson", AVAILABLE, ids=lambda lesson: lesson.name)
def test_every_run_of_every_lesson_builds_its_config(lesson):
    plan = plan_arms(lesson.name, base_config(lesson), list(lesson.arms))
    assert [plan.run_name(i) for i in range(len(lesson.arms))] == [f"{lesson.name}-{arm.label}" for arm in lesson.arms]
    assert all(config.sweep == lesson.name for config in plan.configs)
    assert lesson.question.endswith("?") and lesson.learn in lesson.expect


@pytest.mark.slow  # a few seconds a lesson: each run sets up a model and data
@pytest.mark.parametrize("lesson", AVAILABLE, ids=lambda lesson: lesson.name)
def test_each_lesson_runs_a_few_steps_and_gives_a_verdict(lesson, corpus):
    text = {} if lesson.base["data"].startswith("synthetic:") else {"data": str(corpus)}
    short = dataclasses.replace(lesson, arms=lesson.arms[:1])  # every arm builds (above); one runs here
    assert lesson_state(short) == NOT_STARTED
    runs = run_lesson(short, overrides=FEW_STEPS | text)
    assert lesson_state(short) == DONE and [r.label for r in runs.records] == [a.label for a in short.arms]
    verdict = short.verdict(runs)
    assert verdict.shown in (True, False) and verdict.headline and verdict.lines


@pytest.mark.slow  # about 9 s: four short runs set up
def test_a_lesson_not_finished_says_so_and_continues_where_it_stopped():
    import threading

    lesson = dataclasses.replace(get_lesson("induction"), arms=get_lesson("induction").arms[:2])
    stop = threading.Event()
    seen = []

    def started(index, total, values, action):
        seen.append(action)

    def stop_in_the_second(event):  # after its first step: it keeps a checkpoint to resume from
        if isinstance(event, StepMetrics) and len(seen) == 2:
            stop.set()

    run_lesson(lesson, on_run_start=started, on_event=stop_in_the_second, stop=stop, overrides=FEW_STEPS)
    assert lesson_state(lesson) == PARTLY_RUN
    assert lesson.verdict(run_lesson(lesson, on_run_start=lambda *a: seen.append(a[3]))).shown is not None
    assert seen == ["start", "start", "skip", "resume"] and lesson_state(lesson) == DONE


def test_an_unknown_lesson_and_an_unavailable_one_are_one_line_each(capsys):
    with pytest.raises(UserError, match="the lessons: induction"):
        get_lesson("nope")
    speedrun = get_lesson("speedrun")
    if speedrun.unavailable() is not None:
        assert main(["lesson", "run", "speedrun"]) != 0
        assert "cannot run yet" in capsys.readouterr().err


def test_lesson_list_shows_every_lesson_and_its_state(capsys):
    assert main(["lesson", "list"]) == 0
    out = capsys.readouterr().out
    assert all(lesson.name in out for lesson in LESSONS) and NOT_STARTED in out


@pytest.mark.slow  # about 20-28 s: 800 steps of the lesson's d64 model on one thread
def test_the_induction_lesson_forms_the_head_and_its_verdict_reads_the_numbers(capsys):
    from tui_transformer.interpret.induction import induction_report
    from tui_transformer.train.checkpoint import load_for_inference

    lesson = get_lesson("induction")
    seed0 = dataclasses.replace(lesson, arms=lesson.arms[:1])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model: thread hand-offs cost more than they give
    try:
        runs = run_lesson(seed0)
    finally:
        torch.set_num_threads(threads)
    verdict = seed0.verdict(runs)
    last = runs.records[0].evals[-1]
    assert verdict.shown is True and verdict.open_page == "Circuits" and verdict.open_run == "induction-seed0"
    numbers = verdict.numbers["runs"][0]
    assert numbers["icl_after"] == last.in_context_learning > 1.0
    assert numbers["prefix_after"] == last.induction_score > 0.5
    assert 100 <= numbers["phase_change_step"] <= 800 and numbers["icl_before"] < 1.0 and numbers["prefix_before"] < 0.5
    before = next(e for e in runs.records[0].evals if e.step == numbers["before_step"])
    assert (numbers["icl_before"], numbers["prefix_before"]) == (before.in_context_learning, before.induction_score)
    assert f"phase change at step {numbers['phase_change_step']}" in verdict.lines[0]
    model, _, _ = load_for_inference(runs.records[0].path, "cpu")
    report = induction_report(model, range(32), length=16, batch=8, seed=5)
    assert report.prefix_matching[1].max() > 0.5 and report.in_context_learning > 1.0
    assert main(["lesson", "show", "induction", "--json"]) == 0  # the whole lesson, of which seed0 has run
    shown = json.loads(capsys.readouterr().out)
    assert shown["shown"] is True and "in 1 of 1 runs" in shown["headline"]


def test_the_induction_verdict_tells_a_plateau_and_a_copy_without_a_head_from_a_formed_head():
    from pathlib import Path

    from tui_transformer.lessons import induction
    from tui_transformer.lessons.verdict import LessonRuns, RunRecord
    from tui_transformer.train.events import EvalResult

    def run(label, probe):  # probe: (in-context learning, prefix matching) at steps 100, 200, ...
        evals = [EvalResult(step=100 * (i + 1), val_loss=3.0, val_ppl=20.0, train_loss=3.0, verdict="",
                            in_context_learning=icl, induction_score=prefix) for i, (icl, prefix) in enumerate(probe)]
        return RunRecord(label, f"induction-{label}", Path(label), {}, "finished (max_steps)", True, [], {}, evals,
                         [], {}, None)

    plateau = run("plateau", [(0.2, 0.04), (0.7, 0.02), (1.1, 0.02)])  # measured: up to 1.1 nats, no head
    elsewhere = run("elsewhere", [(0.5, 0.04), (3.1, 0.04)])  # copies with no prefix-matching head
    head = run("head", [(0.6, 0.1), (0.9, 0.12), (1.8, 0.3), (3.2, 0.95)])
    assert induction.verdict(LessonRuns([plateau, elsewhere], total=2)).shown is False
    verdict = induction.verdict(LessonRuns([plateau, elsewhere, head], total=3))
    assert verdict.shown is True and verdict.open_run == "induction-head" and "1 of 3 runs" in verdict.headline
    plateau_n, elsewhere_n, head_n = verdict.numbers["runs"]
    assert plateau_n["phase_change_step"] is None and not plateau_n["formed"]
    assert elsewhere_n["phase_change_step"] == 200 and not elsewhere_n["formed"] and "another route" in verdict.lines[1]
    assert (head_n["phase_change_step"], head_n["before_step"], head_n["icl_before"], head_n["prefix_after"]) == (
        400, 200, 0.9, 0.95)
