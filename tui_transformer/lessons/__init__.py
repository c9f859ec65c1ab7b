"""Lessons: experiments a learner runs in minutes, each answering one question with their own runs.

A lesson (:mod:`.lesson`) is a question, what to expect and why, a few runs (a sweep of arms named
after the lesson) and a verdict computed from those runs' own numbers (:mod:`.verdict`). The
lessons are listed in :mod:`.registry`, one file each; :mod:`.runner` runs one and reads its state.
This package never imports textual: the CLI (``tui-transformer lesson``) and the dashboard share it.
"""
