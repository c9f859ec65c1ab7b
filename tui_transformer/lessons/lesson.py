"""A lesson: one question, answered by a few runs the learner trains, and a verdict read from them.

A lesson is data plus one function::

    name, title, question          "induction", "Induction heads", "Can a model learn to copy?"
    expect                         what should happen, and why (a few sentences)
    learn                          the title of the Learn page that explains the idea
    minutes                        measured on 2 CPU cores (None until measured)
    base                           overrides of the classic preset that every run shares
    arms                           the runs: a label and its own overrides each (a sweep of arms)
    verdict(runs) -> Verdict       what the learner's own runs showed (see :mod:`.verdict`)

Its runs are a sweep of explicit arms named after the lesson (:func:`tui_transformer.train.sweep.plan_arms`):
ordinary runs called ``<lesson>-<label>``, listed in Runs, resumable like any sweep.
``unavailable`` says why a lesson cannot run yet (a setting it compares does not exist), or None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from tui_transformer.train.sweep import Arm

if TYPE_CHECKING:
    from tui_transformer.lessons.verdict import LessonRuns, Verdict


@dataclass(frozen=True)
class Lesson:
    name: str
    title: str
    question: str
    expect: str
    learn: str  # a Learn page's title
    base: dict[str, Any]  # with_overrides keys over the classic preset
    arms: tuple[Arm, ...]
    verdict: Callable[[LessonRuns], Verdict]
    minutes: float | None = None
    unavailable: Callable[[], str | None] = field(default=lambda: None)
