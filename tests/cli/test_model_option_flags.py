"""The model options reach the config from `train` flags and from `sweep --vary`, booleans spelt any usual way."""

import pytest

from tui_transformer.cli import build_parser
from tui_transformer.commands.train import overrides_from
from tui_transformer.errors import ConfigError
from tui_transformer.train.config import TrainConfig
from tui_transformer.train.sweep import parse_vary


def test_train_flags_set_the_model_options():
    args = build_parser().parse_args(["train", "--norm", "rmsnorm", "--bias", "no", "--qk-norm", "YES",
                                      "--activation", "swiglu", "--zero-init-proj", "1", "--logit-softcap", "15",
                                      "--tie-weights", "false"])
    model = TrainConfig().with_overrides(**overrides_from(args)).model
    assert (model.norm, model.bias, model.qk_norm, model.activation, model.zero_init_proj, model.logit_softcap,
            model.tie_weights) == ("rmsnorm", False, True, "swiglu", True, 15.0, False)


def test_a_bad_boolean_flag_is_refused_in_one_line(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--bias", "maybe"])
    assert "expected true or false (or yes/no, 1/0), got 'maybe'" in capsys.readouterr().err


def test_sweep_varies_the_model_options_by_name():
    assert parse_vary("norm=layernorm,rmsnorm").values == ("layernorm", "rmsnorm")
    assert parse_vary("qk-norm=false,yes").values == (False, True)
    assert parse_vary("logit_softcap=0,15").values == (0.0, 15.0)
    with pytest.raises(ConfigError, match="bias: 'maybe' is not a bool"):
        parse_vary("bias=true,maybe")
