"""``runs list`` summarises a run from the head and tail of its metrics file, as the whole file would."""

from pathlib import Path

import pytest

from tui_transformer.train.events import EvalResult, RunFailed, RunFinished, RunStarted, StepMetrics, to_json
from tui_transformer.train.metrics import read_events, read_first_and_last_events
from tui_transformer.train.runs import run_info


def started(resumed_from_step: int = 0) -> RunStarted:
    return RunStarted("/runs/r", "r", {}, "cpu", "tiny", "tiny: chosen by name", 1000, "", resumed_from_step)


def steps(first: int, last: int) -> list[StepMetrics]:
    return [StepMetrics(s, 5000, 0, 3.0, 20.1, 1e-3, 0.5, 7000.0, 2048 * s, 0.3 * s, 1.0) for s in range(first, last + 1)]


def evals(n: int, step: int) -> list[EvalResult]:
    return [EvalResult(step, 3.1, 22.2, 3.0, "normal") for _ in range(n)]


LONG = 1500  # steps: about 300 KB, several times the 64 KB tail
HISTORIES = {
    "interrupted": [started(), *steps(1, LONG)],
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
        assert info.state == "failed: loss is NaN"
    elif finished and finished[0].reason == "stopped":
        assert info.state == "stopped"
    elif finished:
        assert info.state == "finished (max_steps)"
    else:
        assert info.state == "interrupted"


def test_the_tail_skips_the_middle_and_the_cut_line(tmp_path):
    run = write_run(tmp_path / "r", HISTORIES["finished"])
    metrics = run / "metrics.jsonl"
    first, recent = read_first_and_last_events(metrics, tail_bytes=4096)
    assert first == [HISTORIES["finished"][0]]
    assert recent[-1] == HISTORIES["finished"][-1]
    assert 5 < len(recent) < 30, "only the tail was read, and its cut first line was dropped"
    assert recent == list(read_events(metrics))[-len(recent):]
    # a small file: the tail is everything after the first line, nothing twice
    small = write_run(tmp_path / "s", HISTORIES["short"]) / "metrics.jsonl"
    assert read_first_and_last_events(small) == ([HISTORIES["short"][0]], HISTORIES["short"][1:])
