import pytest

from tui_transformer.errors import ConfigError
from tui_transformer.presets import PRESETS, build_config, resolve_preset
from tui_transformer.train import config_file
from tui_transformer.train.config import TrainConfig


def test_seed_preset_matches_the_original_defaults():
    seed = PRESETS["seed"]
    m = seed.model
    assert (m.d_model, m.n_layers, m.n_heads, m.d_ff, m.max_seq_len, m.dropout) == (256, 6, 4, 1024, 128, 0.1)
    assert seed.tokenizer == "cl100k_base"
    assert (seed.batch_size, seed.accumulation_steps, seed.lr, seed.warmup_frac, seed.min_lr_ratio) == (8, 16, 3e-4, 0.05, 0.1)
    assert seed.tokens_per_epoch == 100_000_000


def test_auto_picks_by_device_and_says_why():
    config, reason = resolve_preset("auto", "cpu")
    assert config.preset == "tiny" and "no GPU" in reason
    config, reason = resolve_preset("auto", "cuda")
    assert config.preset == "seed" and "cuda" in reason
    assert resolve_preset("auto", "mps")[0].preset == "seed"
    with pytest.raises(ConfigError, match="unknown preset 'huge'"):
        resolve_preset("huge", "cpu")


def test_file_then_flags_override_the_preset(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('preset = "seed"\nlr = 0.01\nmax_steps = 7\n[model]\nn_layers = 2\n')
    config, _ = build_config(None, "cpu", path, {"lr": 0.02, "max_tokens": None, "model_d_model": 64})
    assert config.preset == "seed" and config.max_steps == 7 and config.lr == 0.02
    assert config.model.n_layers == 2 and config.model.d_model == 64 and config.model.d_ff == 1024


def test_toml_round_trip_omits_none(tmp_path):
    config = PRESETS["tiny"].with_overrides(max_time=90.5, sample_prompt='say "hi"\n', run_name=None)
    text = config_file.dumps(config)
    assert "run_name" not in text and "max_tokens" not in text
    path = tmp_path / "config.toml"
    config_file.write(config, path)
    assert config_file.read(path) == config


@pytest.mark.parametrize("text, message", [
    ("lr = [", "not valid TOML"),
    ("colour = 3", "unknown training setting"),
    ("[model]\nwidth = 3", "unknown model setting"),
    ("batch_size = 0", "batch_size must be a positive integer"),
    ('lr = "fast"', "lr must be float, got 'fast'"),
    ("max_steps = 1.5", "max_steps must be int, got 1.5"),
    ("[model]\nd_model = true", "d_model must be int, got True"),
])
def test_bad_config_files_give_one_line_errors(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        build_config("tiny", "cpu", path, {})


def test_missing_config_file():
    with pytest.raises(ConfigError, match="config file not found"):
        config_file.read("/nonexistent/x.toml")
    assert TrainConfig().preset == "tiny"
