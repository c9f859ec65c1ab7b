"""The training progress line on a terminal: ``step N/M``, the bar and the ETA survive any width."""

import re

import pytest

from tui_transformer.cli import main

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _train(corpus, name: str, *extra: str) -> list[str]:
    return ["train", "--no-ui", "--preset", "tiny", "--data", str(corpus), "--tokenizer", "bpe-300", "--name", name,
            "--d-model", "16", "--n-layers", "1", "--n-heads", "2", "--d-ff", "32", "--seq-len", "16",
            "--batch-size", "4", "--eval-batches", "1", "--eval-interval", "100", "--device", "cpu", *extra]


def _screen_lines(raw: str) -> list[str]:
    """What the terminal shows, line by line: escapes removed, each carriage return starting over."""
    return [part for line in ANSI.sub("", raw).split("\n") for part in line.split("\r") if part.strip()]


@pytest.mark.slow  # trains twice (about 9 s each on 2 busy cores)
@pytest.mark.parametrize("columns", [80, 120])
def test_the_progress_line_keeps_step_bar_and_eta_and_the_summary_comes_last(corpus, capsys, monkeypatch, columns):
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich draws its live bar as on a terminal
    monkeypatch.setenv("COLUMNS", str(columns))
    assert main(_train(corpus, f"w{columns}", "--max-steps", "12")) == 0
    lines = _screen_lines(capsys.readouterr().out)
    bars = [line for line in lines if "━" in line]
    assert bars, lines
    for line in bars:
        assert re.match(r"step\s+\d+/12 [━╸╺]+ ETA \d+:\d\d", line), line
        assert len(line.rstrip()) <= columns, line
    assert "step 12/12" in bars[-1] and "loss" in bars[-1]
    data = " ".join(lines)[" ".join(lines).index("data path"):][:200]  # the line, wrapped at 80 columns
    assert re.search(r"\d+ files, \d+ chunks,\s+[\d.]+ MB", data) and "token_reads" not in data, data  # words
    assert lines[-1].startswith("finished (max_steps) at step 12"), lines[-3:]
    if columns == 120:
        assert "tok/s" in bars[-1] and "lr" in bars[-1]  # the room for secondary fields is used


@pytest.mark.slow  # trains two tiny runs (about 10 s on 2 busy cores)
def test_sweep_draws_the_same_line_for_each_run(corpus, capsys, monkeypatch):
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("COLUMNS", "80")
    args = _train(corpus, "unused", "--max-steps", "4")
    args = ["sweep", "--vary", "lr=1e-3,3e-3", "--name", "sw", *args[args.index("--preset"):args.index("--name")],
            *args[args.index("--name") + 2:]]
    assert main(args) == 0
    lines = _screen_lines(capsys.readouterr().out)
    finals = [line for line in lines if line.startswith("step 4/4")]
    assert len(finals) >= 2 and all(re.match(r"step 4/4 [━╸╺]+ ETA \d+:\d\d", line) for line in finals), lines
    assert sum(line.startswith("finished (max_steps) at step 4") for line in lines) == 2
