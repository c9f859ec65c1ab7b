"""A run whose files are damaged or missing, from the command line: one true line each, and a way on.

* a flipped byte in latest.pt: `train --resume`, `generate` and `eval` refuse it in one line that
  names the file and the run's other checkpoint; `train --resume RUN --from best` continues;
* latest.pt gone but best.pt there: it used to say "has no checkpoint yet";
* a changed byte in the run's tokenizer.tiktoken (generate, eval) or in the cache's copy (--resume):
  it used to say "trained with 'bpe-300' (vocab 300), but this run uses 'bpe-300' (vocab 300)";
  now it names the damaged file and where a good copy comes from;
* an empty config.toml: it used to be blamed on a model setting.
"""

import json
import os
from pathlib import Path

import pytest

from tui_transformer.cli import main
from tui_transformer.train import checkpoint as ckpt
from tui_transformer.train.events import LogMessage, RunStarted
from tui_transformer.train.metrics import read_events

TINY = ["--preset", "tiny", "--tokenizer", "bpe-300", "--d-model", "32", "--n-layers", "2", "--n-heads", "2",
        "--d-ff", "64", "--seq-len", "16", "--batch-size", "8", "--eval-batches", "2", "--device", "cpu", "--quiet"]


def one_error_line(capsys, *parts: str) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    for part in parts:
        assert part in err, err
    return err


@pytest.fixture
def run(corpus, capsys) -> Path:
    """A finished 4-step run with latest.pt and best.pt."""
    assert main(["train", "--no-ui", "--data", str(corpus), *TINY, "--name", "r", "--max-steps", "4",
                 "--eval-interval", "2"]) == 0
    capsys.readouterr()
    path = Path(os.environ["TUI_TRANSFORMER_RUNS"]) / "r"
    assert (path / "checkpoints" / "best.pt").is_file() and (path / "checkpoints" / "latest.pt").is_file()
    return path


def flip(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def damage_last_token(ranks_file: Path) -> None:
    """One changed character in the last line's base64: the file still parses, one token's bytes differ."""
    lines = ranks_file.read_bytes().splitlines(keepends=True)
    lines[-1] = (b"R" if lines[-1][:1] == b"Q" else b"Q") + lines[-1][1:]
    ranks_file.write_bytes(b"".join(lines))


def sessions(run: Path) -> list[RunStarted]:
    return [e for e in read_events(run / "metrics.jsonl") if isinstance(e, RunStarted)]


def test_a_flipped_byte_in_latest_is_refused_everywhere_and_from_best_continues(run, tmp_path, capsys):
    latest, best = run / "checkpoints" / "latest.pt", run / "checkpoints" / "best.pt"
    flip(latest, 200)  # inside data.pkl, the first member: the plain values
    text = tmp_path / "probe.txt"
    text.write_text("the cat sat on the mat. " * 8)
    for argv in (["train", "--no-ui", "--resume", "r", "--max-steps", "8", "--quiet"],
                 ["generate", "--run", "r", "--prompt", "the", "--max-new-tokens", "3"],
                 ["eval", "--run", "r", "--text", str(text)]):
        assert main(argv) == 2, argv
        one_error_line(capsys, f"checkpoint {latest} is corrupt", "--from best", f"--checkpoint {best}")
    assert len(sessions(run)) == 1  # the refused resume wrote nothing

    best_step = ckpt.load(best)["step"]
    assert main(["train", "--no-ui", "--resume", "r", "--from", "best", "--max-steps", "6", "--quiet"]) == 0
    assert sessions(run)[-1].resumed_from_step == best_step
    warnings = [e.message for e in read_events(run / "metrics.jsonl") if isinstance(e, LogMessage)]
    assert f"resuming from best.pt (step {best_step}); this session's first save replaces the run's latest.pt" \
        in warnings
    assert ckpt.load(latest)["step"] == 6  # the damaged file is replaced
    capsys.readouterr()
    assert main(["eval", "--checkpoint", str(best), "--text", str(text), "--json"]) == 0  # as the message says
    assert json.loads(capsys.readouterr().out)["tokens"] > 0


def test_no_latest_but_a_best_says_so_and_from_best_resumes(run, capsys):
    best_step = ckpt.load(run / "checkpoints" / "best.pt")["step"]
    (run / "checkpoints" / "latest.pt").unlink()
    assert main(["train", "--no-ui", "--resume", "r", "--max-steps", "6", "--quiet"]) == 2
    one_error_line(capsys, "run r has no latest.pt", "but it has best.pt: resume from it with --from best")
    assert main(["train", "--no-ui", "--resume", "r", "--from", "best", "--max-steps", "6", "--quiet"]) == 0
    assert sessions(run)[-1].resumed_from_step == best_step  # nothing to replace: no warning needed
    assert ckpt.load(run / "checkpoints" / "latest.pt")["step"] == 6


def test_from_needs_resume_and_a_checkpoint_that_exists(run, capsys):
    assert main(["train", "--no-ui", "--preset", "tiny", "--from", "best"]) == 2
    one_error_line(capsys, "--from best picks the checkpoint that --resume continues from; add --resume RUN")
    (run / "checkpoints" / "best.pt").unlink()
    (run / "checkpoints" / "latest.pt").unlink()
    assert main(["train", "--no-ui", "--resume", "r", "--from", "best", "--quiet"]) == 2
    one_error_line(capsys, "run r has no checkpoint yet")
    with pytest.raises(SystemExit) as exited:  # argparse's usage error
        main(["train", "--no-ui", "--resume", "r", "--from", "worst"])
    assert exited.value.code == 2 and "invalid choice: 'worst'" in capsys.readouterr().err


def test_a_flipped_byte_in_the_runs_tokenizer_copy_says_the_file_is_damaged(run, capsys):
    copy = run / "tokenizer.tiktoken"
    damage_last_token(copy)
    assert main(["generate", "--run", "r", "--prompt", "the", "--max-new-tokens", "3"]) == 2
    err = one_error_line(capsys, f"does not match tokenizer file {copy}", "damaged or replaced",
                         "the tokenizer cache holds the original: copy ")  # the cache's bpe-300 of this corpus
    assert "but this run uses 'bpe-300'" not in err


def test_an_empty_config_toml_is_called_empty(run, capsys):
    (run / "config.toml").write_text("")
    assert main(["train", "--no-ui", "--resume", "r", "--max-steps", "6"]) == 2
    err = one_error_line(capsys, f"{run / 'config.toml'} is empty")
    assert "pos_encoding" not in err and "d_model" not in err


def test_a_damaged_tokenizer_in_the_cache_is_trained_again_on_resume(corpus, tmp_path, monkeypatch, capsys):
    """On --resume the tokenizer comes from the cache; the cache's copy is checked against the sha256
    recorded when it was trained, so a damaged one is made again instead of refusing the run."""
    monkeypatch.setenv("TUI_TRANSFORMER_CACHE", str(tmp_path / "own-cache"))  # this test damages its cache
    assert main(["train", "--no-ui", "--data", str(corpus), *TINY, "--name", "c", "--max-steps", "2"]) == 0
    (cached,) = (tmp_path / "own-cache" / "tokenizers").glob("bpe-300-*.tiktoken")
    pristine = cached.read_bytes()
    damage_last_token(cached)
    assert main(["train", "--no-ui", "--resume", "c", "--max-steps", "4", "--quiet"]) == 0
    assert cached.read_bytes() == pristine
