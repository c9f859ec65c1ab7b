"""Small truths of the command line's output: piped tables, one-run comparisons, typos of a command."""

import os
from pathlib import Path

import pytest

from tests.tui.helpers import write_run
from tui_transformer.cli import main


def test_runs_list_piped_is_plain_full_lines(capsys):
    runs = Path(os.environ["TUI_TRANSFORMER_RUNS"])
    write_run(runs, "a-run-with-a-rather-long-name-to-show", checkpoints=("latest",))
    assert main(["runs", "list"]) == 0  # capsys is no terminal: as piped
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"runs in {runs}"
    header, row = lines[1].split(), lines[2].split()
    assert header == ["name", "preset", "step", "val", "bpb", "alerts", "state", "updated", "note"]
    assert row[0] == "a-run-with-a-rather-long-name-to-show" and row[1] == "classic"  # nothing cut or wrapped
    assert not any(c in "".join(lines) for c in "│┃━─")  # no box drawing in a pipe
    assert len(lines) == 3


def test_runs_compare_of_one_run_says_so(capsys):
    write_run(Path(os.environ["TUI_TRANSFORMER_RUNS"]), "only", checkpoints=("latest",))
    assert main(["runs", "compare", "only"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: runs compare needs two runs or more; got one (only)") and "runs export only" in err


@pytest.mark.parametrize("argv, suggestion", [(["trian"], "train"), (["runs", "lsit"], "list"),
                                              (["interpret", "lense", "--run", "x"], "lens")])
def test_a_typo_of_a_command_suggests_the_right_one(capsys, argv, suggestion):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert f"(did you mean `{suggestion}`?)" in capsys.readouterr().err


def test_a_command_far_from_any_gets_no_suggestion(capsys):
    with pytest.raises(SystemExit):
        main(["zzzzz"])
    assert "did you mean" not in capsys.readouterr().err
