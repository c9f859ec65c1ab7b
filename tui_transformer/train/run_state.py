"""The states a run can be in: one vocabulary for ``runs list``, the dashboard and the headless CLI.

::

    new ──> starting ──> running ──> finished     a budget (steps, tokens, time, epochs) was reached
                            │ ├────> stopped      the user stopped it (x, Ctrl-C, SIGTERM); resumable
                            │ └────> failed       an error, or the loss diverged
                            └──────> interrupted  killed with no ending written; resumable from its
                                                  last checkpoint

``damaged`` is a run folder that lacks what every run has (its config.toml): listed so that it
does not vanish, with what is wrong. ``new`` is a run folder with nothing trained yet; ``starting`` is a run being set up (building the
corpus, training the tokenizer) before its first event.
"""

from __future__ import annotations

from enum import StrEnum

from tui_transformer.train.events import RunFailed, RunFinished

STOPPED_REASON = "stopped"  # RunFinished.reason when the user stopped the run


class RunState(StrEnum):
    NEW = "new"
    STARTING = "starting"
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    DAMAGED = "damaged"  # a run folder missing a file it needs (config.toml); listed, with the reason


def ended_state(finished: RunFinished | None, failed: RunFailed | None) -> RunState | None:
    """How a run ended, from its ending events; None when it has not ended."""
    if failed is not None:
        return RunState.FAILED
    if finished is not None:
        return RunState.STOPPED if finished.reason == STOPPED_REASON else RunState.FINISHED
    return None
