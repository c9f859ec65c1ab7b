"""Every lesson, in the order a learner takes them, and the lookup by name."""

from __future__ import annotations

from tui_transformer.errors import UserError
from tui_transformer.lessons import (batch_accumulation, induction, learning_rate, overfitting, positions, scaling,
                                     speedrun, tokenizers)
from tui_transformer.lessons.lesson import Lesson

LESSONS: tuple[Lesson, ...] = (induction.LESSON, positions.LESSON, learning_rate.LESSON, overfitting.LESSON,
                               scaling.LESSON, batch_accumulation.LESSON, tokenizers.LESSON, speedrun.LESSON)


def get_lesson(name: str) -> Lesson:
    """The lesson called ``name``; a UserError listing them all when there is none."""
    for lesson in LESSONS:
        if lesson.name == name:
            return lesson
    raise UserError(f"no lesson called {name!r}; the lessons: {', '.join(lesson.name for lesson in LESSONS)}")
