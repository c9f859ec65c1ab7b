"""Gradient accumulation gives the gradient of the whole batch, also for a cut-short cycle."""

import pytest
import torch

from tui_transformer.model import DecoderTransformer, ModelConfig
from tui_transformer.train.accumulation import accumulate_gradients
from tui_transformer.train.config import TrainConfig
from tui_transformer.train.optimizer import build_optimizer


def make_model() -> DecoderTransformer:
    torch.manual_seed(0)
    return DecoderTransformer(ModelConfig(vocab_size=50, d_model=32, n_heads=2, n_layers=2, d_ff=64, max_seq_len=16))


def grads(model, micro_batches, expected):
    model.zero_grad(set_to_none=True)
    loss = accumulate_gradients(model, micro_batches, expected)
    return loss, {name: p.grad.clone() for name, p in model.named_parameters()}


@pytest.mark.slow  # steps a model through several micro-batch splits
@pytest.mark.parametrize("n_micro, expected", [(4, 4), (3, 4)])
def test_micro_batches_equal_one_big_batch(n_micro, expected):
    """4 micro-batches of 2 == one batch of 8; a partial cycle of 3 (of 4) == one batch of 6."""
    model = make_model()
    x = torch.randint(0, 50, (2 * n_micro, 16), generator=torch.Generator().manual_seed(1))
    y = torch.roll(x, -1, dims=1)
    big_loss, big = grads(model, [(x, y)], expected=1)
    micro = [(x[i:i + 2], y[i:i + 2]) for i in range(0, 2 * n_micro, 2)]
    small_loss, small = grads(model, micro, expected=expected)
    assert small_loss == pytest.approx(big_loss, rel=1e-6)
    for name in big:
        torch.testing.assert_close(small[name], big[name], rtol=1e-5, atol=1e-6, msg=name)


@pytest.mark.slow  # steps a model through several micro-batch splits
def test_weight_decay_only_on_matrices():
    model = make_model()
    optimizer = build_optimizer(model, TrainConfig(weight_decay=0.1), "cpu")
    decay, no_decay = optimizer.param_groups
    assert decay["weight_decay"] == 0.1 and all(p.dim() == 2 for p in decay["params"])
    assert no_decay["weight_decay"] == 0.0 and all(p.dim() == 1 for p in no_decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))
