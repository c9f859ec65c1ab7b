"""Counting: the parameter count has a closed form; the model agrees with it."""

import pytest

from tests.model.model_helpers import tiny_config
from tui_transformer.model import DecoderTransformer, count_parameters


@pytest.mark.parametrize("pos_encoding", ["sinusoidal", "learned", "rope"])
@pytest.mark.parametrize("tie_weights", [True, False])
def test_parameter_count_matches_the_closed_form(pos_encoding, tie_weights):
    cfg = tiny_config(pos_encoding=pos_encoding, tie_weights=tie_weights)
    model = DecoderTransformer(cfg)
    assert model.num_parameters() == count_parameters(cfg)
    # The formula written out for this config (V=61, D=32, F=64, L=2, T=96):
    d, f, v, layers, t = 32, 64, 61, 2, 96
    expected = v * d + layers * (4 * d * d + 4 * d + 2 * d * f + f + d + 4 * d) + 2 * d
    expected += t * d if pos_encoding == "learned" else 0
    expected += 0 if tie_weights else v * d
    assert model.num_parameters() == expected


def test_tied_head_shares_the_embedding():
    model = DecoderTransformer(tiny_config(tie_weights=True))
    assert model.lm_head is None
    untied = DecoderTransformer(tiny_config(tie_weights=False))
    assert untied.num_parameters() - model.num_parameters() == 61 * 32
