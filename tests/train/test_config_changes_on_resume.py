"""A resume says what differs from what the checkpoint was trained with, and a config.toml damaged
by accident does not pass for an edit.

16 of 300 single-bit flips of config.toml parsed as another valid config (batch_size 16 -> 17,
seed 1337 -> 1327) and a resume adopted them; a hand edit (lr 0.002 -> 0.003) was adopted silently too.
config.toml now ends with the sha256 of its lines: a file changed outside the program is named, its
changes are listed, and the resume trains with the checkpoint's own settings (flags still override).
"""

import pytest

from tests.train.test_run_faults import TINY, runs_dir
from tui_transformer.cli import main
from tui_transformer.train import checkpoint as ckpt
from tui_transformer.train.config import TrainConfig
from tui_transformer.train.config_file import read


@pytest.fixture
def run(corpus):
    assert main(["train", "--no-ui", "--data", str(corpus), *TINY, "--name", "c", "--max-steps", "2",
                 "--lr", "0.002", "--quiet"]) == 0
    return runs_dir() / "c"


def resume(capsys, *flags) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["train", "--no-ui", "--resume", "c", *flags])
    return code, "".join(capsys.readouterr())


def trained_with(run) -> TrainConfig:
    return TrainConfig.from_dict(ckpt.load(ckpt.find(str(run)))["config"])


@pytest.mark.slow  # trains and resumes a run in-process: seconds
def test_a_flipped_bit_in_config_toml_is_named_and_not_adopted(run, capsys):
    text = (run / "config.toml").read_text()
    assert "seed = 1337\n" in text
    (run / "config.toml").write_text(text.replace("seed = 1337\n", "seed = 1327\n"))  # '3' ^ 1 = '2': one bit
    code, out = resume(capsys, "--max-steps", "3")
    assert code == 0, out
    assert "config.toml was changed outside tui-transformer" in out and "seed 1337 → 1327" in out, out
    assert trained_with(run).seed == 1337 and read(run / "config.toml").seed == 1337


@pytest.mark.slow  # trains and resumes a run in-process: seconds
def test_a_hand_edit_is_listed_and_a_flag_makes_the_change(run, capsys):
    text = (run / "config.toml").read_text()
    (run / "config.toml").write_text(text.replace("lr = 0.002", "lr = 0.003"))
    code, out = resume(capsys, "--max-steps", "3")
    assert code == 0 and "lr 0.002 → 0.003" in out and trained_with(run).lr == 0.002, out
    code, out = resume(capsys, "--max-steps", "4", "--lr", "0.003")
    assert code == 0 and trained_with(run).lr == 0.003, out
    assert "differ from those the checkpoint was trained with: lr 0.002 → 0.003" in out, out


@pytest.mark.slow  # trains and resumes a run in-process: seconds
def test_an_untouched_resume_says_only_what_its_flags_change(run, capsys):
    code, out = resume(capsys, "--max-steps", "3")
    assert code == 0 and "changed outside" not in out
    assert "differ from those the checkpoint was trained with: max_steps 2 → 3" in out, out
