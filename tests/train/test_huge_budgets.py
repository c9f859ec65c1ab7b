"""A budget too large to mean anything is refused in one line, wherever it is given.

`--max-steps 99999999999999999999999` trained with max_steps 99999999999999991611392 (through a
float), an LR of 4e-25 and an ETA of 2.7e23 s; the form took 99999999999999999999 steps silently.
"""

import pytest

from tui_transformer.cli import main
from tui_transformer.errors import ConfigError
from tui_transformer.train.config import MAX_STEPS, MAX_TOKENS, TrainConfig
from tui_transformer.tui.widgets.train_form import budget_overrides


@pytest.mark.parametrize("flag, value", [("--max-steps", "99999999999999999999999"), ("--max-steps", "1e30"),
                                         ("--max-tokens", "1e30"), ("--epochs", "99999999999999999999"),
                                         ("--tokens-per-epoch", "1e30")])
def test_a_huge_budget_flag_is_refused(flag, value, capsys):
    try:
        code = main(["train", "--no-ui", "--data", "builtin", flag, value])
    except SystemExit as exited:  # argparse's own refusal of a value it cannot read as a count
        code = exited.code
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: ") and "Traceback" not in err, err
    assert "at most" in err or "expected a number" in err, err


def test_a_huge_budget_in_a_config_file_is_refused(tmp_path, capsys):
    (tmp_path / "c.toml").write_text("max_steps = 99999999999999999999\n")
    assert main(["train", "--no-ui", "--config", str(tmp_path / "c.toml")]) == 2
    assert "max_steps" in capsys.readouterr().err


def test_the_limits_themselves_are_accepted():
    assert TrainConfig(max_steps=MAX_STEPS, max_tokens=MAX_TOKENS).max_steps == MAX_STEPS
    with pytest.raises(ConfigError, match="at most"):
        TrainConfig(max_steps=MAX_STEPS + 1)


def test_the_forms_budget_field_refuses_a_huge_count():
    with pytest.raises(ConfigError, match="at most"):
        budget_overrides("steps", "99999999999999999999")
    with pytest.raises(ConfigError, match="at most"):
        budget_overrides("tokens", "9" * 20)
    assert budget_overrides("steps", "1M")["max_steps"] == 1_000_000
