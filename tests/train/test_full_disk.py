"""A real full disk (a small tmpfs, filled): setup, the caches and every write say so in one line,
name the file the user knows (never a temp file) and leave nothing half-made."""

import pytest

from tests.full_disk import full_tmpfs
from tests.train.test_run_faults import TINY
from tui_transformer.cli import main


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and "Traceback" not in err, err
    assert ".tmp-" not in err, err
    return err


@pytest.mark.parametrize("free", [0, 8192])  # nothing fits / config.toml fits but the run's other files not
def test_a_new_run_on_a_full_disk_is_one_line_and_leaves_no_folder(free, corpus, tmp_path, capsys):
    """It gave `OSError: [Errno 28]` from atomic.py through write_run_files, and left X/ with
    config.toml and run.lock."""
    with full_tmpfs(tmp_path / "disk", free) as disk:
        code = main(["train", "--no-ui", "--data", str(corpus), *TINY, "--max-steps", "2", "--run-dir", str(disk),
                     "--name", "X", "--quiet"])
        assert code == 2
        assert "No space left on device" in one_error_line(capsys)
        assert not (disk / "X").exists()


@pytest.mark.slow  # builds the builtin corpus (seconds of parsing the standard library)
def test_the_builtin_corpus_cache_on_a_full_disk_is_one_line(tmp_path, monkeypatch, capsys):
    with full_tmpfs(tmp_path / "disk", 0) as disk:
        monkeypatch.setenv("TUI_TRANSFORMER_CACHE", str(disk / "cache"))
        assert main(["tokenizer", "train", "--data", "builtin", "--vocab-size", "257"]) == 2
        err = one_error_line(capsys)
        assert "No space left on device" in err and str(disk / "cache") in err
        assert not any(disk.rglob(".tmp-*"))
