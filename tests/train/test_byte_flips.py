"""Byte flips in the plain files a run owns (config.toml, metrics.jsonl): one clear error or a run
that still reads, never a traceback. (Checkpoints, token streams and shards carry digests and are
tested with their own modules.)"""

import random
import shutil
from pathlib import Path

from tui_transformer.errors import UserError
from tui_transformer.train import config_file
from tui_transformer.train.config import TrainConfig
from tui_transformer.train.metrics import read_events
from tui_transformer.train.runs import list_runs, load_run_config, run_info

RECORDED = Path(__file__).parent.parent / "tui" / "data" / "recorded_run.jsonl"


def _flip(data: bytes, position: int, bit: int) -> bytes:
    damaged = bytearray(data)
    damaged[position] ^= 1 << bit
    return bytes(damaged)


def test_every_byte_flip_of_config_toml_is_a_clear_error_or_caught_by_its_digest(tmp_path):
    """A flip inside a value can parse as another valid config (batch_size 16 -> 17); the digest
    comment at the file's end tells every such file from what the program wrote, so a resume does
    not adopt it (see train.resume_config)."""
    run = tmp_path / "run"
    run.mkdir()
    config_file.write(TrainConfig(), run / "config.toml")
    original = (run / "config.toml").read_bytes()
    outcomes = {"refused": 0, "read": 0}
    for position in range(len(original)):
        (run / "config.toml").write_bytes(_flip(original, position, position % 8))
        try:
            config = load_run_config(run)
        except UserError as error:
            assert "\n" not in str(error).strip(), "one line"
            outcomes["refused"] += 1
        else:
            assert isinstance(config, TrainConfig)  # a flip inside a value can make another valid value
            assert not config_file.written_as_is(run / "config.toml"), f"flip at {position} passed the digest"
            outcomes["read"] += 1
    print(f"config.toml: {len(original)} flips, {outcomes} (every one read also caught by the digest)")
    assert outcomes["refused"] > outcomes["read"] > 0, outcomes


def test_sampled_byte_flips_of_metrics_jsonl_never_break_listing_or_reading(tmp_path):
    run = tmp_path / "runs" / "recorded"
    run.mkdir(parents=True)
    config_file.write(TrainConfig(), run / "config.toml")
    original = RECORDED.read_bytes()
    rng = random.Random(0)
    for position in rng.sample(range(len(original)), 300):
        (run / "metrics.jsonl").write_bytes(_flip(original, position, rng.randrange(8)))
        events = list(read_events(run / "metrics.jsonl"))  # a damaged line is skipped, never raised
        assert len(events) >= original.count(b"\n") - 2
        info = run_info(run)
        assert info.name == "recorded" and info.last_step >= 0
        assert [r.name for r in list_runs(tmp_path / "runs")] == ["recorded"]
    shutil.rmtree(run)
