"""The one K/M/G size parser, and the three places that read sizes through it."""

import argparse

import pytest

from tui_transformer.sizes import parse_size


@pytest.mark.parametrize("text, value", [
    ("5000", 5000), ("0", 0), ("1_000", 1000), (" 42 ", 42),
    ("500k", 500_000), ("500K", 500_000), ("100 k", 100_000),
    ("2m", 2_000_000), ("1.5M", 1_500_000),
    ("2g", 2_000_000_000), ("1.5G", 1_500_000_000),
])
def test_each_suffix_multiplies_by_its_power_of_1000(text, value):
    assert parse_size(text) == value


def test_b_is_billion_exactly_like_g():
    assert parse_size("1b") == parse_size("1B") == parse_size("1g") == 1_000_000_000
    assert parse_size("0.5b") == 500_000_000


@pytest.mark.parametrize("bad", ["", "  ", "ten", "-3", "+3", "1e6", "2GB", "2 kb", "5x", ".5k", "1.k", "k", "nan", "inf"])
def test_anything_else_is_a_value_error(bad):
    with pytest.raises(ValueError):
        parse_size(bad)


def test_the_cli_the_form_and_the_cache_limit_agree_and_keep_their_own_errors(monkeypatch, tmp_path):
    from tui_transformer.commands.train import count
    from tui_transformer.data.shard_cache import limits_from_env
    from tui_transformer.errors import ConfigError
    from tui_transformer.tui.widgets.train_form import parse_count

    monkeypatch.setenv("TUI_TRANSFORMER_MAX_CACHE_BYTES", "1b")
    assert count("1b") == parse_count("1b", "tokens") == limits_from_env()[1] == 1_000_000_000
    with pytest.raises(argparse.ArgumentTypeError, match="expected a number like 5000, 100k or 100M"):
        count("lots")
    with pytest.raises(ConfigError, match="tokens must be a whole number like 1000 or 500k"):
        parse_count("lots", "tokens")
    monkeypatch.setenv("TUI_TRANSFORMER_MAX_CACHE_BYTES", "2GB")
    with pytest.raises(ConfigError, match=r"TUI_TRANSFORMER_MAX_CACHE_BYTES must be a number \(optionally with K, M or G\)"):
        limits_from_env()
