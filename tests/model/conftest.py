"""Tiny models for the model tests: small enough that every test runs in about a second."""

import pytest
import torch

from tui_transformer.model import DecoderTransformer, ModelConfig


def tiny_config(**overrides) -> ModelConfig:
    settings = dict(vocab_size=61, d_model=32, n_heads=4, n_layers=2, d_ff=64, max_seq_len=96, dropout=0.0,
                    tie_weights=False)  # an untied head keeps greedy from echoing the last token
    settings.update(overrides)
    return ModelConfig(**settings)


def tiny_model(seed: int = 0, **overrides) -> DecoderTransformer:
    torch.manual_seed(seed)
    model = DecoderTransformer(tiny_config(**overrides))
    # GPT-2 init gives nearly uniform logits; widen them so that greedy choices are not near-ties
    # and the equality tests below compare real decisions.
    with torch.no_grad():
        model.embed.weight.mul_(25.0)
    return model.eval()


@pytest.fixture(params=["sinusoidal", "learned", "rope"])
def pos_encoding(request) -> str:
    return request.param


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models gain nothing from intra-op threads, and on a busy 2-core machine the thread
    hand-offs cost more than the math (seen here: 10x slower). Restored after each test."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
