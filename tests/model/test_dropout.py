"""Dropout: nn.Dropout's results while it drops, and no PyTorch call at all while it is off."""

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from tests.model.model_helpers import tiny_model
from tui_transformer.model.dropout import Dropout


class _TorchCalls(TorchFunctionMode):
    """Records the name of every torch function called inside the ``with`` block."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.names.append(getattr(func, "__name__", str(func)))
        return func(*args, **(kwargs or {}))


def test_while_dropping_it_draws_what_nn_dropout_draws():
    x = torch.randn(4, 8, 16)
    torch.manual_seed(3)
    expected = nn.Dropout(0.25).train()(x)
    torch.manual_seed(3)
    assert torch.equal(Dropout(0.25).train()(x), expected)


def test_off_it_returns_its_input_without_calling_torch():
    x = torch.randn(2, 3, 8)
    for layer in (Dropout(0.25).eval(), Dropout(0.0).train()):
        with _TorchCalls() as calls:
            y = layer(x)
        assert y is x and calls.names == []
    with _TorchCalls() as calls:  # the contrast: nn.Dropout calls F.dropout even in eval mode
        nn.Dropout(0.25).eval()(x)
    assert "dropout" in calls.names


def test_the_model_uses_it_everywhere():
    model = tiny_model(dropout=0.1)
    kinds = {type(m) for m in model.modules() if isinstance(m, nn.Dropout)}
    assert kinds == {Dropout}
    assert sum(isinstance(m, nn.Dropout) for m in model.modules()) == 1 + 2 * model.config.n_layers
