"""``runs list`` summarises a run from the head and tail of its metrics file, as the whole file would."""

from pathlib import Path

import pytest

from tui_transformer.train.events import (EvalResult, LogMessage, RunFailed, RunFinished, RunStarted, StepMetrics,
                                          to_json)
from tui_transformer.train.run_state import RunState
from tui_transformer.train.runs import run_info


def started(resumed_from_step: int = 0) -> RunStarted:
    return RunStarted("/runs/r", "r", {}, "cpu", "tiny", "tiny: chosen by name", 1000, "", resumed_from_step)


def steps(first: int, last: int) -> list[StepMetrics]:
    return [StepMetrics(s, 5000, 0, 3.0, 20.1, 1e-3, 0.5, 7000.0, 2048 * s, 0.3 * s, 1.0) for s in range(first, last + 1)]


def evals(n: int, step: int) -> list[EvalResult]:
    return [EvalResult(step, 3.1, 22.2, 3.0, "normal") for _ in range(n)]


LONG = 1500  # steps: about 300 KB, several times the 64 KB head and tail
OPENING = [LogMessage("info", "opening data 'builtin' and tokenizer 'bpe-8192'")]  # the trainer logs before RunStarted
HISTORIES = {
    "interrupted": [*OPENING, started(), *steps(1, LONG)],
    "logs before the start": [*OPENING * 3, started(), *steps(1, LONG), RunFinished(LONG, "stopped", 2048 * LONG, 3.1)],
    "finished": [started(), *steps(1, LONG), RunFinished(LONG, "max_steps", 2048 * LONG, 3.1)],
    "resumed, then failed": [started(), *steps(1, LONG), started(LONG), *steps(LONG + 1, LONG + 9),
                             RunFailed(LONG + 9, "loss is NaN")],
    "resumed, nothing since": [started(), *steps(1, LONG), started(LONG)],
    "a tail of only evals": [started(), *steps(1, 40), *evals(800, 40), RunFinished(40, "stopped", 2048 * 40, 3.1)],
    "short": [started(), *steps(1, 3)],
}


def write_run(folder: Path, events) -> Path:
    folder.mkdir()
    (folder / "config.toml").write_text('preset = "tiny"\n')
    (folder / "metrics.jsonl").write_text("".join(to_json(event) + "\n" for event in events))
    return folder


@pytest.mark.parametrize("history", HISTORIES)
def test_the_summary_from_head_and_tail_equals_the_whole_files(tmp_path, history):
    run = write_run(tmp_path / "r", HISTORIES[history])
    whole = HISTORIES[history]
    finished = [e for e in whole if isinstance(e, RunFinished)]
    failed = [e for e in whole if isinstance(e, RunFailed)]
    info = run_info(run)
    assert info.preset == "tiny"
    assert info.last_step == max([e.step for e in whole if isinstance(e, StepMetrics)] +
                                 [e.resumed_from_step for e in whole if isinstance(e, RunStarted)])
    if failed:
        assert (info.state, info.reason, info.label) == (RunState.FAILED, "loss is NaN", "failed: loss is NaN")
    elif finished and finished[0].reason == "stopped":
        assert (info.state, info.label) == (RunState.STOPPED, "stopped")
    elif finished:
        assert (info.state, info.reason, info.label) == (RunState.FINISHED, "max_steps", "finished (max_steps)")
    else:
        assert (info.state, info.reason, info.label) == (RunState.INTERRUPTED, "", "interrupted")
