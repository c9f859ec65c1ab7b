"""Running a lesson and reading where it stands: its runs are a sweep of arms named after it.

``run_lesson`` starts the lesson's sweep, or continues it (finished runs are skipped, a stopped one
resumes from its checkpoint), exactly as ``sweep --resume`` does; ``lesson_runs`` reads the runs
that exist; ``lesson_state`` says "not started", "partly run" or "done".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tui_transformer.errors import UserError
from tui_transformer.lessons.lesson import Lesson
from tui_transformer.lessons.verdict import LessonRuns, Verdict, read_record
from tui_transformer.train import sweep as sweeps
from tui_transformer.train.config import TrainConfig

NOT_STARTED, PARTLY_RUN, DONE = "not started", "partly run", "done"


def base_config(lesson: Lesson, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """The classic preset with the lesson's shared settings (and ``overrides``, e.g. fewer steps in a test).

    Classic, not tiny: each lesson changes one thing on the textbook recipe (the learning-rate lesson's
    ``lr`` is then the rate of every weight, where tiny's Muon has its own for the blocks' matrices)."""
    from tui_transformer.presets import PRESETS

    return PRESETS["classic"].with_overrides(**(lesson.base | (overrides or {})))


def lesson_plan(lesson: Lesson, root: Path | None = None, overrides: dict[str, Any] | None = None) -> sweeps.Plan:
    """The lesson's sweep: as its manifest recorded it once started, else as the lesson defines it."""
    if sweeps.manifest_path(lesson.name, root).exists():
        return sweeps.resume_plan(lesson.name, root)
    return sweeps.plan_arms(lesson.name, base_config(lesson, overrides), list(lesson.arms))


def lesson_sweep(lesson: Lesson, overrides: dict[str, Any] | None = None) -> sweeps.Plan:
    """The sweep to train: the lesson's, continued when it was started before, else started now (its manifest
    written). The dashboard trains it in its training worker; :func:`run_lesson` trains it here."""
    refuse_unavailable(lesson)
    base = base_config(lesson, overrides)
    root = sweeps.parent_folder(base)
    if sweeps.manifest_path(lesson.name, root).exists():
        return sweeps.resume_plan(lesson.name, root)
    return sweeps.new_sweep(lesson.name, base, list(lesson.arms))


def run_lesson(lesson: Lesson, on_run_start=None, on_event=None, stop=None, pause=None,
               overrides: dict[str, Any] | None = None) -> LessonRuns:
    """Train the lesson's runs that are not finished (see :func:`~tui_transformer.train.sweep.run_sweep`)."""
    plan = lesson_sweep(lesson, overrides)
    sweeps.run_sweep(plan, on_run_start=on_run_start, on_event=on_event, stop=stop, pause=pause)
    return lesson_runs(lesson, sweeps.parent_folder(plan.configs[0]))


def lesson_runs(lesson: Lesson, root: Path | None = None) -> LessonRuns:
    """The lesson's runs that exist so far, read from their files."""
    from tui_transformer.train.runs import CONFIG_FILE

    plan = lesson_plan(lesson, root)
    records = []
    for index, values in enumerate(plan.grid):
        path = sweeps.run_path(plan, index)
        if (path / CONFIG_FILE).is_file():
            records.append(read_record(plan.labels[index], path, values))
    return LessonRuns(records, total=len(plan.grid))


def lesson_state(lesson: Lesson, root: Path | None = None, runs: LessonRuns | None = None) -> str:
    """``"not started"``, ``"partly run"`` or ``"done"`` (``runs``: its :func:`lesson_runs`, when already read)."""
    if not sweeps.manifest_path(lesson.name, root).exists():
        return NOT_STARTED
    return DONE if (runs or lesson_runs(lesson, root)).done else PARTLY_RUN


def lesson_verdict(lesson: Lesson, root: Path | None = None) -> Verdict:
    """The verdict of the lesson's runs so far."""
    refuse_unavailable(lesson)
    return lesson.verdict(lesson_runs(lesson, root))


def refuse_unavailable(lesson: Lesson) -> None:
    """A UserError saying why the lesson cannot run in this version, if it cannot."""
    why_not = lesson.unavailable()
    if why_not:
        raise UserError(f"lesson {lesson.name} cannot run yet: {why_not}")
