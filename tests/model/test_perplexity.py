"""Perplexity is exp of the mean next-token cross-entropy."""

import math

import pytest
import torch
import torch.nn.functional as F

from tests.model.model_helpers import tiny_model
from tui_transformer.errors import ConfigError
from tui_transformer.model.perplexity import perplexity


def test_perplexity_is_exp_of_the_mean_cross_entropy_over_all_tokens():
    model = tiny_model()
    g = torch.Generator().manual_seed(0)
    batches = [torch.randint(0, 61, (2, 9), generator=g), torch.randint(0, 61, (3, 9), generator=g)]
    with torch.no_grad():
        losses = [F.cross_entropy(model(b[:, :-1]).reshape(-1, 61), b[:, 1:].reshape(-1), reduction="sum")
                  for b in batches]
    expected = math.exp(sum(float(l) for l in losses) / (2 * 8 + 3 * 8))
    assert math.isclose(perplexity(model, batches), expected, rel_tol=1e-5)
    pairs = [(b[:, :-1], b[:, 1:]) for b in batches]
    assert math.isclose(perplexity(model, pairs), expected, rel_tol=1e-5)


def test_a_model_that_knows_nothing_scores_the_vocabulary_size():
    model = tiny_model()
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()  # every logit 0: the uniform distribution
    assert math.isclose(perplexity(model, [torch.randint(0, 61, (2, 10))]), 61, rel_tol=1e-4)


def test_no_tokens_is_an_error():
    with pytest.raises(ConfigError):
        perplexity(tiny_model(), [])
