"""ModelConfig refuses values that would build a broken model, naming the value and what is allowed."""

import math

import pytest

from tui_transformer.errors import ConfigError
from tui_transformer.model.config import ModelConfig


@pytest.mark.parametrize("rope_base", [math.nan, math.inf, 1.0, 0.5, -10000.0])
def test_rope_base_must_be_finite_and_above_one(rope_base):
    # a NaN base trained into a NaN loss at step 1
    with pytest.raises(ConfigError, match="rope_base must be a finite number above 1"):
        ModelConfig(vocab_size=32, d_model=16, n_heads=2, n_layers=1, d_ff=32, max_seq_len=8,
                    pos_encoding="rope", rope_base=rope_base)


def test_a_usual_rope_base_is_accepted():
    assert ModelConfig(vocab_size=32, d_model=16, n_heads=2, n_layers=1, d_ff=32, max_seq_len=8,
                       pos_encoding="rope", rope_base=500000.0).rope_base == 500000.0
