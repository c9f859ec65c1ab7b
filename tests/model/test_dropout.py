"""Dropout: plain nn.Dropout after the embedding and in every block; it drops in training, never in eval."""

import pytest
import torch
from torch import nn

from tests.model.model_helpers import tiny_model
from tui_transformer.model.tools.hooks import run_with_cache

TOKENS = torch.randint(0, 61, (4, 16), generator=torch.Generator().manual_seed(0))


def test_the_model_has_one_after_the_embedding_and_two_per_block():
    model = tiny_model(dropout=0.1)
    layers = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    assert {type(m) for m in layers} == {nn.Dropout}
    assert len(layers) == 1 + 2 * model.config.n_layers and all(m.p == 0.1 for m in layers)


def test_in_eval_mode_it_changes_nothing():
    dropping = tiny_model(dropout=0.5).eval()
    plain = tiny_model(dropout=0.0).eval()
    plain.load_state_dict(dropping.state_dict())
    with torch.no_grad():
        assert torch.equal(dropping(TOKENS), plain(TOKENS))


def test_in_training_it_zeroes_a_share_p_and_scales_the_survivors():
    p = 0.25
    model = tiny_model(dropout=p, pos_encoding="learned").train()
    with torch.no_grad():
        undropped = model.pos(model.embed(TOKENS), 0)
        torch.manual_seed(7)
        _, seen = run_with_cache(model, TOKENS, ["blocks.0.hook_resid_pre"])
    dropped = seen["blocks.0.hook_resid_pre"]
    zeroed = dropped == 0
    assert zeroed.float().mean().item() == pytest.approx(p, abs=0.03)  # 4·16·32 units
    assert torch.allclose(dropped[~zeroed], undropped[~zeroed] / (1 - p))
    with torch.no_grad():
        torch.manual_seed(8)
        assert not torch.equal(model(TOKENS), model(TOKENS)), "two training passes draw different masks"
