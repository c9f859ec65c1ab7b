"""Empty and odd values: each is one clear line, the same way for every flag, and names what the user gave.

Before: `--preset ''`, `--name ''`, `--run-dir ''` and `tokenizer train --data ''` were taken as "not
given"; `generate --run ''` was a TypeError; `generate --checkpoint /dev/null` said "no run called
'/dev/null'"; `--cache-dir /dev/null` said "File exists"; a folder at latest.pt "does not exist";
`interpret heads --tokens-from /dev/null` was a NotImplementedError from bincount; a write error named
an internal temp file; and a run missing config.toml vanished from `runs list`.
"""

import json

import pytest

from tests.train.test_run_faults import TINY, runs_dir
from tui_transformer.cli import main


def refused(capsys, argv) -> str:
    """Run ``argv``; it must exit 2 with one ``error:`` line (argparse adds its pointer to --help)."""
    try:
        code = main(argv)
    except SystemExit as exited:  # argparse's refusal
        code = exited.code
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: ") and "Traceback" not in err, err
    assert len(err.splitlines()) == 1 or err.splitlines()[1].startswith("(see `"), err
    return err.splitlines()[0]


@pytest.mark.parametrize("argv, flag", [
    (["train", "--no-ui", "--preset", ""], "--preset"),
    (["train", "--no-ui", "--name", ""], "--name"),
    (["train", "--no-ui", "--run-dir", " "], "--run-dir"),
    (["train", "--no-ui", "--data", ""], "--data"),
    (["tokenizer", "train", "--data", ""], "--data"),
    (["generate", "--run", "", "--prompt", "hi"], "--run"),
    (["generate", "--checkpoint", "", "--prompt", "hi"], "--checkpoint"),
    (["eval", "--run", "", "--text", "x"], "--run"),
    (["data", "status", "--cache-dir", ""], "--cache-dir"),
])
def test_an_empty_value_is_refused_alike(argv, flag, capsys):
    assert refused(capsys, argv) == f"error: argument {flag}: must not be empty"


def test_odd_paths_are_named_for_what_they_are(tmp_path, capsys):
    assert "/dev/null is not a checkpoint file" in refused(capsys, ["generate", "--checkpoint", "/dev/null",
                                                                   "--prompt", "hi"])
    assert "/dev/null is not a folder" in refused(capsys, ["data", "status", "--cache-dir", "/dev/null"])
    assert "/dev/null is not a folder" in refused(capsys, ["data", "prefetch", "1", "--cache-dir", "/dev/null"])


@pytest.fixture
def run(corpus):
    assert main(["train", "--no-ui", "--data", str(corpus), *TINY, "--name", "r", "--max-steps", "2",
                 "--quiet"]) == 0
    return runs_dir() / "r"


@pytest.mark.slow  # trains a run in-process first: seconds
def test_a_folder_at_latest_pt_is_called_a_folder(run, capsys):
    for name in ("latest.pt", "best.pt"):
        (run / "checkpoints" / name).unlink()
    (run / "checkpoints" / "latest.pt").mkdir()
    err = refused(capsys, ["generate", "--run", "r", "--prompt", "hi"])
    assert "latest.pt is a folder" in err and "does not exist" not in err


@pytest.mark.slow  # trains a run in-process first: seconds
def test_interpret_tokens_from_an_empty_file_is_one_line(run, tmp_path, capsys):
    (tmp_path / "empty.txt").write_text("")
    for source in ("/dev/null", str(tmp_path / "empty.txt")):
        argv = ["interpret", "heads", "--run", "r", "--tokens-from", source, "--length", "6"]
        assert "holds no text" in refused(capsys, argv)


@pytest.mark.slow  # trains a run in-process first: seconds
def test_a_write_error_names_the_file_not_its_temp(run, capsys):
    (run / "note.txt").mkdir()  # the note cannot replace a folder
    err = refused(capsys, ["runs", "note", "r", "a note"])
    assert "note.txt" in err and ".tmp-" not in err


@pytest.mark.slow  # trains a run in-process first: seconds
def test_a_run_missing_config_toml_is_listed_as_damaged(run, capsys):
    (run / "config.toml").unlink()
    capsys.readouterr()
    assert main(["runs", "list", "--json"]) == 0
    (listed,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert listed["name"] == "r" and listed["state"].startswith("damaged: no config.toml")
    assert main(["runs", "list"]) == 0 and "damaged" in capsys.readouterr().out
