"""``metrics.jsonl`` survives the damage a killed run or a bad disk leaves behind."""

import pytest

from tui_transformer.errors import UserError
from tui_transformer.train.events import LogMessage, to_json
from tui_transformer.train.metrics import METRICS_FILE, MetricsWriter, read_events
from tui_transformer.train.runs import resolve_run

FIRST, SECOND = LogMessage("info", "first"), LogMessage("info", "second")


def test_a_resumed_writer_starts_on_a_fresh_line_after_a_torn_one(tmp_path):
    (tmp_path / METRICS_FILE).write_text(to_json(FIRST) + "\n" + to_json(FIRST)[:20])  # killed mid-line
    writer = MetricsWriter(tmp_path)
    writer.write(SECOND)
    writer.close()
    assert [e.message for e in read_events(tmp_path / METRICS_FILE)] == ["first", "second"]


def test_damaged_bytes_cost_their_line_only(tmp_path):
    path = tmp_path / METRICS_FILE
    path.write_bytes(to_json(FIRST).encode() + b"\n\xff\xfe\x80garbage\n" + to_json(SECOND).encode() + b"\n")
    assert [e.message for e in read_events(path)] == ["first", "second"]


def test_a_failed_write_says_why_once_then_the_writer_is_quiet(tmp_path):
    (tmp_path / METRICS_FILE).symlink_to("/dev/full")  # ENOSPC on every write
    writer = MetricsWriter(tmp_path)
    with pytest.raises(UserError, match="is the disk full"):
        writer.write(FIRST)
    writer.write(SECOND)  # the failure event of the run that stops: no second error
    writer.close()


def test_a_run_folder_that_lost_its_config_is_named_as_such(tmp_path):
    (tmp_path / "r" / "checkpoints").mkdir(parents=True)
    with pytest.raises(UserError, match="looks like a run but has no config.toml"):
        resolve_run(tmp_path / "r")


def test_a_line_with_fields_of_the_wrong_type_is_skipped(tmp_path):
    path = tmp_path / METRICS_FILE
    path.write_text(to_json(FIRST) + "\n"
                    + '{"event": "Sample", "step": 1, "prompt": 5, "text": null}\n'
                    + '{"event": "StepMetrics", "step": "7", "max_steps": 9}\n'
                    + to_json(SECOND) + "\n")
    assert [e.message for e in read_events(path)] == ["first", "second"]
