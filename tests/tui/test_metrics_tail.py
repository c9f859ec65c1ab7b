"""Following a growing metrics.jsonl: partial lines, damaged lines, wrong paths."""

import pytest

from tui_transformer.errors import UserError
from tui_transformer.train.events import LogMessage, StepMetrics, to_json
from tui_transformer.tui.metrics_tail import MetricsTail, metrics_path


def line(n):
    return to_json(StepMetrics(step=n, max_steps=9, epoch=0, loss=1.0, ppl=2.7, lr=1e-3, grad_norm=1.0,
                               tokens_per_sec=10.0, tokens_seen=n, elapsed_s=1.0, eta_s=None)) + "\n"


def test_reads_only_new_complete_lines(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text(line(1) + line(2))
    tail = MetricsTail(path)
    assert [e.step for e in tail.poll()] == [1, 2]
    assert tail.poll() == []
    half = line(3)
    with path.open("a") as handle:  # the writer is mid-line
        handle.write(half[:20])
    assert tail.poll() == []
    with path.open("a") as handle:
        handle.write(half[20:] + line(4))
    assert [e.step for e in tail.poll()] == [3, 4]


def test_damaged_and_unknown_lines_are_skipped_and_counted(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text(line(1) + "{not json\n" + '{"event": "FromTheFuture", "x": 1}\n' + "\n"
                    + to_json(LogMessage(level="info", message="hi")) + "\n")
    tail = MetricsTail(path)
    events = tail.poll()
    assert [type(e).__name__ for e in events] == ["StepMetrics", "LogMessage"]
    assert tail.skipped_lines == 2


def test_missing_file_yields_nothing_until_it_appears(tmp_path):
    tail = MetricsTail(tmp_path / "metrics.jsonl")
    assert tail.poll() == []
    (tmp_path / "metrics.jsonl").write_text(line(1))
    assert len(tail.poll()) == 1


def test_metrics_path_accepts_a_run_dir_or_the_file_and_explains_otherwise(tmp_path):
    (tmp_path / "metrics.jsonl").write_text("")
    assert metrics_path(tmp_path) == tmp_path / "metrics.jsonl"
    assert metrics_path(tmp_path / "metrics.jsonl") == tmp_path / "metrics.jsonl"
    with pytest.raises(UserError, match="no such run directory"):
        metrics_path(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="not a run directory"):
        metrics_path(tmp_path / "empty")


def test_throughput_is_read_from_the_steps_after_warmup(tmp_path):
    from tui_transformer.tui.throughput import tokens_per_second

    path = tmp_path / "metrics.jsonl"
    lines = []
    for n in range(1, 11):  # 100 tokens a step; the first two steps are slow (warm-up), then 1 s a step
        elapsed = 10.0 * n if n <= 2 else 20.0 + (n - 2)
        lines.append(to_json(StepMetrics(step=n, max_steps=10, epoch=0, loss=1.0, ppl=2.7, lr=1e-3, grad_norm=1.0,
                                         tokens_per_sec=0.0, tokens_seen=100 * n, elapsed_s=elapsed, eta_s=None)))
    path.write_text("\n".join(lines) + "\n")
    assert tokens_per_second(path) == pytest.approx(100.0)
    path.write_text(lines[0] + "\n")
    with pytest.raises(ValueError, match="need at least 3"):
        tokens_per_second(path)
