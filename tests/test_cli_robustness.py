"""The CLI against wrong input found by hand: each case is one `error:` line and exit 2, never a traceback."""

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tui_transformer.cli import main
from tui_transformer.train import config_file
from tui_transformer.train.config import TrainConfig
from tui_transformer.train.events import RunStarted, to_json


def _one_error_line(capsys, message: str) -> None:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err, err


@pytest.mark.parametrize("flags, message", [
    (["--lr", "inf"], "lr must be a positive number up to 1e+06"),  # trained one step, then diverged
    (["--lr", "1e38"], "lr must be a positive number up to 1e+06"),  # overflowed inside AdamW: a traceback
    (["--weight-decay", "nan"], "weight_decay must be a finite number >= 0"),  # diverged at step 2
    (["--weight-decay", "-0.1"], "weight_decay must be a finite number >= 0"),
    (["--grad-clip", "nan"], "grad_clip must be >= 0"),  # silently trained without clipping
])
def test_non_finite_optimizer_flags_are_refused_before_training(flags, message, capsys):
    assert main(["train", "--no-ui", "--preset", "tiny", "--data", "/nonexistent", *flags]) == 2
    _one_error_line(capsys, message)


@pytest.mark.parametrize("toml, message", [
    ("max_time = inf\n", "max_time must be a positive, finite number of seconds"),
    ("max_time = nan\n", "max_time must be a positive, finite number of seconds"),
    ("beta1 = 1.5\n", "beta1 must be in [0, 1)"),
    ("beta2 = nan\n", "beta2 must be in [0, 1)"),
])
def test_out_of_range_values_in_a_config_file_are_refused(toml, message, tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    assert main(["train", "--no-ui", "--preset", "tiny", "--data", "/nonexistent", "--config", str(path)]) == 2
    _one_error_line(capsys, message)


@pytest.mark.parametrize("flags, message", [
    (["--seed", "-1"], "seed must be a whole number from 0 to 2**63 - 1, got -1"),  # NumPy's traceback
    (["--seed", str(2**70)], "seed must be a whole number from 0 to 2**63 - 1"),  # torch's overflow
    (["--max-steps", "1.5"], "expected a whole number like 5000, 100k or 1.5M, got '1.5'"),  # became 1
    (["--data", ""], "argument --data: must not be empty"),  # taken as auto
    (["--run-dir", "/dev/null"], "cannot set up run /dev/null/"),  # NotADirectoryError traceback
])
def test_bad_train_values_are_one_line_before_anything_runs(flags, message, capsys):
    try:
        code = main(["train", "--no-ui", "--preset", "tiny", "--data", "builtin", "--max-steps", "1", *flags])
    except SystemExit as exit:  # argparse's own refusals exit from inside the parser
        code = exit.code
    assert code == 2
    _one_error_line(capsys, message)


def test_an_argument_error_is_one_line_and_a_pointer_to_help(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["train", "--max-steps", "lots"])
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines() == ["error: argument --max-steps: expected a number like 5000, 100k or 100M, got 'lots'",
                                "(see `tui-transformer train --help`)"]


def test_generate_takes_the_same_seed_rule_as_train(capsys):
    assert main(["generate", "--checkpoint", "/nonexistent.pt", "--prompt", "x", "--seed", "-1"]) == 2
    _one_error_line(capsys, "seed must be a whole number from 0 to 2**63 - 1, got -1")


@pytest.mark.parametrize("variable", ["TUI_TRANSFORMER_RUNS", "TUI_TRANSFORMER_CACHE"])
def test_a_location_that_is_a_file_is_named(variable, monkeypatch, capsys):
    monkeypatch.setenv(variable, "/dev/null")
    assert main(["train", "--no-ui", "--preset", "tiny", "--data", "builtin", "--max-steps", "1"]) == 2
    _one_error_line(capsys, f"/dev/null is not a folder; {variable} must name a folder")


def test_runs_list_skips_a_damaged_metrics_line_that_still_parses_as_json(capsys):
    """Random bytes appended to metrics.jsonl can read as a JSON number: `runs list` crashed on it."""
    run = Path(os.environ["TUI_TRANSFORMER_RUNS"]) / "damaged"
    run.mkdir(parents=True)
    config_file.write(TrainConfig(), run / "config.toml")
    started = RunStarted(run_dir=str(run), run_name="damaged", config={}, device="cpu", preset="tiny",
                         preset_reason="", n_params=1, data_notice="", resumed_from_step=0)
    (run / "metrics.jsonl").write_text(to_json(started) + "\n12345\n[1, 2]\n\"text\"\n")
    assert main(["runs", "list", "--json"]) == 0
    (listed,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert listed["name"] == "damaged" and listed["preset"] == "tiny" and listed["state"] == "interrupted"


@pytest.mark.parametrize("command", [["generate", "--prompt", "x"], ["eval", "--text", "/dev/null"]])
@pytest.mark.parametrize("device", ["bogus", "cuda:abc", "CPU"])
def test_an_unknown_device_is_named_as_such(command, device, capsys):
    """It was reported as a corrupt checkpoint (torch failed to map the storage to the device)."""
    assert main([*command, "--checkpoint", "/nonexistent.pt", "--device", device]) == 2
    _one_error_line(capsys, f"unknown device {device!r}")


def test_train_refuses_a_malformed_cuda_index(capsys):
    assert main(["train", "--no-ui", "--preset", "tiny", "--device", "cuda:abc"]) == 2
    _one_error_line(capsys, "device must be auto, cpu, cuda, cuda:N or mps")


def test_a_run_that_fails_in_setup_leaves_no_directory_and_frees_its_name(tmp_path, capsys):
    """A data error used to leave runs/<name>/ with only metrics.jsonl: not listed, not resumable,
    and `--name` refused ever after ("already exists; use --resume")."""
    text = tmp_path / "note.txt"
    text.write_text("hello world\n")
    args = ["train", "--no-ui", "--preset", "tiny", "--data", str(text), "--tokenizer", "cl100k_base",
            "--d-model", "32", "--n-layers", "1", "--seq-len", "16", "--device", "cpu", "--name", "first"]
    for _ in range(2):  # the second attempt meets the same data error, not a taken name
        assert main(args) == 2
        _one_error_line(capsys, f"split of file {text} has no windows of 17 tokens")
    assert not (Path(os.environ["TUI_TRANSFORMER_RUNS"]) / "first").exists()


def _address_space(limit: int):
    return lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@pytest.mark.skipif(not Path("/proc/meminfo").exists(), reason="the CPU's free memory is read from /proc")
@pytest.mark.parametrize("flags", [["--batch-size", "1000000"], ["--seq-len", "100000"]])
def test_a_step_too_large_for_memory_is_one_line_before_the_run_exists(flags, tmp_path):
    """--batch-size 1000000 failed allocating; --seq-len 100000 ran for minutes with no output.

    The trainer runs in a process whose address space is capped (torch takes about 3 GB of it), so
    that a regression fails there with an allocation error instead of swapping the machine.
    """
    text = tmp_path / "note.txt"
    text.write_text("hello world, this is a short note.\n" * 50)
    cmd = [sys.executable, "-m", "tui_transformer", "train", "--no-ui", "--preset", "tiny", "--data", str(text),
           "--tokenizer", "cl100k_base", "--device", "cpu", "--name", "huge", *flags]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, preexec_fn=_address_space(6 * 1024**3))
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.startswith("error: a training step of ") and "GB of memory" in proc.stderr
    assert "lower --batch-size" in proc.stderr and "Traceback" not in proc.stderr
    assert not (Path(os.environ["TUI_TRANSFORMER_RUNS"]) / "huge").exists()


def test_tokenizing_works_when_the_token_cache_cannot_be_written(tmp_path):
    """A full disk made saving the token stream raise, and `train` died with a numpy traceback
    before its first step; the stream is only a shortcut, so the data must still come back."""
    from tui_transformer.data import get_tokenizer
    from tui_transformer.data.token_cache import load_or_tokenize

    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")  # so any write under it fails
    tokenizer = get_tokenizer("cl100k_base")
    stream, cached = load_or_tokenize(blocker / "tokens", "key", tokenizer, lambda: ["hello world"])
    assert list(stream) == [tokenizer.eot_id, *tokenizer.encode("hello world")] and not cached
