"""Shared pieces for the training tests: a tiny config over the small learnable corpus (tests/conftest.py)."""

import pytest

from tui_transformer.model.config import ModelConfig
from tui_transformer.train.config import TrainConfig


@pytest.fixture
def tiny_config(corpus, tmp_path):
    """A factory of tiny CPU configs (d32, 2 layers, T 16, a 300-token BPE): a step takes milliseconds."""

    def make(**overrides) -> TrainConfig:
        base = TrainConfig(
            preset="tiny",
            model=ModelConfig(vocab_size=300, d_model=32, n_heads=2, n_layers=2, d_ff=64, max_seq_len=16,
                              dropout=0.0, attention="explicit"),
            data=str(corpus), tokenizer="bpe-300", device="cpu", seed=3,
            batch_size=4, accumulation_steps=1, lr=3e-3, max_steps=20,
            eval_interval=10, eval_batches=2, sample_interval=1000, sample_tokens=8, checkpoint_interval=1000,
            run_dir=str(tmp_path / "runs"),
        )
        return base.with_overrides(**overrides)

    return make
