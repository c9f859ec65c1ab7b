"""``activation``: the exact GELU by default, GPT-2's tanh approximation on request."""

import math

import pytest
import torch

from tui_transformer.errors import ConfigError
from tui_transformer.model import ModelConfig
from tui_transformer.model.feedforward import FeedForward


def test_gelu_tanh_is_gpt2s_formula_and_the_default_is_exact():
    x = torch.linspace(-4, 4, 101, dtype=torch.float64)
    tanh_form = 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    exact = x * 0.5 * (1 + torch.erf(x / math.sqrt(2)))
    for activation, want in (("gelu_tanh", tanh_form), ("gelu", exact)):
        ff = FeedForward(1, 1, activation=activation).double()
        with torch.no_grad():  # up = identity, down = identity: the FFN is the activation itself
            ff.up.weight.fill_(1), ff.up.bias.zero_(), ff.down.weight.fill_(1), ff.down.bias.zero_()
        assert torch.allclose(ff(x.view(-1, 1, 1)).flatten(), want, atol=1e-12)
    assert (tanh_form - exact).abs().max() > 1e-4  # the two differ: an import must pick the right one


def test_an_unknown_activation_is_refused():
    with pytest.raises(ConfigError, match="activation must be one of gelu, gelu_tanh"):
        ModelConfig(activation="relu")
