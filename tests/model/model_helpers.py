"""Tiny models for the model tests: small enough that every test runs in about a second."""

import torch
from torch.overrides import TorchFunctionMode

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


class TorchCalls(TorchFunctionMode):
    """Records the name of every torch function and tensor method called inside the ``with`` block."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.names.append(getattr(func, "__name__", str(func)))
        return func(*args, **(kwargs or {}))
