"""``generate`` without ``--prompt`` reads prompts (piped: line by line); escapes, long prompts, the end of text."""

import io
import os
from pathlib import Path

import pytest
import torch

from tests.tui.helpers import write_run
from tui_transformer.cli import main
from tui_transformer.train import checkpoint


@pytest.fixture
def run():
    return write_run(Path(os.environ["TUI_TRANSFORMER_RUNS"]), "g", checkpoints=("latest",))


def test_the_loop_reads_two_piped_prompts_and_a_command_between(run, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("The cat\n/temp 0\n/tokens 4\nA dog\n/bogus 1\n"))
    assert main(["generate", "--run", "g", "--max-new-tokens", "3", "--seed", "1"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("The cat") and lines[1].startswith("A dog")
    assert "temperature 0," in err and "4 tokens" in err  # the command's new settings, on stderr
    assert "error: unknown command /bogus" in err
    assert main(["generate", "--run", "g", "--prompt", "A dog", "--max-new-tokens", "4", "--temperature", "0"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == lines[1], "the loop's /temp 0 and /tokens 4 were applied"


def test_control_characters_are_shown_escaped(run, capsys):
    assert main(["generate", "--run", "g", "--prompt", "x\x1b[2J\ry", "--max-new-tokens", "2", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("x\\x1b[2J\\ry") and "\x1b" not in out and "\r" not in out


def test_a_prompt_longer_than_the_context_is_cut_with_a_note(run, capsys):
    assert main(["generate", "--run", "g", "--prompt", " word" * 100, "--max-new-tokens", "2", "--seed", "1"]) == 0
    out, err = capsys.readouterr()
    assert "the prompt is 100 tokens, longer than the model's context of 32: it continues from the last 24" in err
    assert out.startswith("…") and out.count("word") == 24


def test_the_stop_at_end_of_text_is_said(run, capsys):
    path = run / "checkpoints" / "latest.pt"
    payload = checkpoint.load(path)
    from tui_transformer.data import get_tokenizer

    eot = get_tokenizer("cl100k_base").eot_id
    state = payload["model"]
    direction = torch.zeros(state["ln_f.weight"].shape)
    direction[0] = 1.0
    state["ln_f.weight"].zero_()
    state["ln_f.bias"].copy_(direction)  # every position reads the same vector ...
    state["embed.weight"][eot] = 100 * direction  # ... which the tied head scores highest at <|endoftext|>
    checkpoint.save({k: v for k, v in payload.items() if k not in ("format", "version")}, path)
    assert main(["generate", "--run", "g", "--prompt", "The", "--max-new-tokens", "5", "--temperature", "0"]) == 0
    out, err = capsys.readouterr()
    assert out == "The\n" and "stopped at <|endoftext|> after 0 tokens" in err


def test_list_presets_needs_no_model(capsys):
    assert main(["generate", "--list-presets"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines()] == ["greedy", "precise", "balanced", "creative",
                                                              "very-creative"]


def test_generate_without_a_model_is_one_line(capsys):
    assert main(["generate", "--prompt", "x"]) == 2
    assert capsys.readouterr().err.strip() == "error: generate needs a model: --run RUN or --checkpoint FILE"
