"""``tui-transformer generate`` says which checkpoint it used (a run name hides which file that is)."""

import os
from pathlib import Path

from tests.tui.helpers import write_run
from tui_transformer.cli import main


def test_generate_names_the_checkpoint_on_stderr_and_keeps_stdout_for_the_text(capsys):
    run_dir = write_run(Path(os.environ["TUI_TRANSFORMER_RUNS"]), "named", checkpoints=("best", "latest"))
    assert main(["generate", "--run", "named", "--prompt", "The", "--max-new-tokens", "3", "--seed", "1",
                 "--device", "cpu"]) == 0
    out, err = capsys.readouterr()
    assert err.strip() == f"generating with {run_dir / 'checkpoints' / 'latest.pt'}"
    assert out.startswith("The") and "generating" not in out


def test_help_texts_have_no_rest_double_backticks(capsys):
    import pytest

    for command in (["generate"], ["train"], ["eval"], ["data"], ["tokenizer"], ["bench", "kv"]):
        with pytest.raises(SystemExit):
            main([*command, "--help"])
        out = capsys.readouterr().out
        assert "``" not in out and "`tui-transformer" in out, command
