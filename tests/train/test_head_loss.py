"""The trainer's chunked head-and-loss equals the model's plain loss: logits, cross-entropy, autograd."""

import pytest
import torch

from tests.model.model_helpers import tiny_model
from tui_transformer.model.tools.loss import lm_loss
from tui_transformer.train import head_loss as head_loss_module
from tui_transformer.train.head_loss import ChunkedHeadLoss, LinearCrossEntropy, head_loss


def _loss_and_grads(model, x, y, chunked: bool):
    model.zero_grad(set_to_none=True)
    loss = ChunkedHeadLoss(model)(x, targets=y) if chunked else model(x, targets=y)
    loss.backward()
    return loss.item(), {name: p.grad.clone() for name, p in model.named_parameters()}


@pytest.mark.parametrize("tie_weights,softcap", [(True, 0.0), (False, 0.0), (True, 2.0), (False, 2.0)])
def test_the_trainers_loss_and_gradients_equal_the_models_plain_loss(tie_weights, softcap, monkeypatch):
    """Several chunks and a short last one (CHUNK made small), tied head (two gradients into one table) or not,
    plain or soft-capped logits (a cap of 2 bends most of them: the tanh factor matters)."""
    monkeypatch.setattr(head_loss_module, "CHUNK", 7)
    model = tiny_model(tie_weights=tie_weights, logit_softcap=softcap).train()
    x = torch.randint(0, 61, (3, 20), generator=torch.Generator().manual_seed(1))  # 60 positions: 8 chunks of 7, then 4
    y = torch.roll(x, -1, dims=1)
    plain_loss, plain = _loss_and_grads(model, x, y, chunked=False)
    calls = []
    real_apply = LinearCrossEntropy.apply
    monkeypatch.setattr(LinearCrossEntropy, "apply", lambda *args: calls.append(1) or real_apply(*args))
    chunked_loss, chunked = _loss_and_grads(model, x, y, chunked=True)
    assert calls == [1], "the trainer's module took the chunked path"
    assert chunked_loss == pytest.approx(plain_loss, rel=1e-6)
    for name in plain:
        torch.testing.assert_close(chunked[name], plain[name], rtol=1e-5, atol=1e-7, msg=name)


def test_the_chunked_path_runs_when_training_and_not_otherwise(monkeypatch):
    calls = []
    real_apply = LinearCrossEntropy.apply
    monkeypatch.setattr(LinearCrossEntropy, "apply", lambda *args: calls.append(1) or real_apply(*args))
    hidden = torch.randn(2, 5, 8, requires_grad=True)
    weight = torch.randn(11, 8, requires_grad=True)
    targets = torch.randint(0, 11, (2, 5))
    trained = head_loss(hidden, weight, targets)
    assert calls == [1]
    with torch.no_grad():
        evaluated = head_loss(hidden, weight, targets)  # no gradients wanted: logits and their cross-entropy
    with torch.autocast("cpu", dtype=torch.bfloat16):
        head_loss(hidden, weight, targets)  # autocast chooses the logits' dtype: the plain path
    assert calls == [1]
    assert evaluated.item() == pytest.approx(trained.item(), rel=1e-6)


def test_backward_scales_by_the_incoming_gradient():
    """Under accumulation the loss is divided by n before backward: the saved gradients must follow."""
    hidden = torch.randn(9, 8, requires_grad=True)
    weight = torch.randn(11, 8, requires_grad=True)
    targets = torch.randint(0, 11, (9,))
    (LinearCrossEntropy.apply(hidden, weight, targets) * 0.25).backward()
    chunked = hidden.grad.clone(), weight.grad.clone()
    hidden.grad = weight.grad = None
    (lm_loss(hidden @ weight.t(), targets) * 0.25).backward()
    torch.testing.assert_close(chunked[0], hidden.grad, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(chunked[1], weight.grad, rtol=1e-5, atol=1e-7)


def test_only_the_gradients_asked_for_are_made():
    hidden = torch.randn(4, 8, requires_grad=True)
    weight = torch.randn(11, 8)  # a frozen head
    head_loss(hidden, weight, torch.randint(0, 11, (4,))).backward()
    assert hidden.grad is not None and weight.grad is None


def test_a_huge_logit_gives_a_finite_loss_like_the_plain_path():
    """The running max keeps exp from overflowing: logits of 1e4 are fine."""
    hidden = torch.tensor([[100.0, 0.0], [0.0, -100.0]], requires_grad=True)
    weight = torch.tensor([[100.0, 0.0], [0.0, 100.0], [-100.0, 0.0]], requires_grad=True)
    targets = torch.tensor([2, 0])
    chunked = LinearCrossEntropy.apply(hidden, weight, targets)
    plain = lm_loss(hidden @ weight.t(), targets)
    assert torch.isfinite(chunked) and chunked.item() == pytest.approx(plain.item(), rel=1e-6)
