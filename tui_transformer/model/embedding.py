"""Token embedding: turning token ids into vectors.

A token id is only a name. The embedding table ``E`` of shape ``[V, D]`` gives every id a learned
vector of ``D`` floats; looking a token up is row indexing::

    x[b, t, :] = E[tokens[b, t], :]          tokens [B, T] (int64)  ->  x [B, T, D]

That is the same as multiplying a one-hot row vector by ``E``, without ever building the one-hot.

The LM head at the top of the model can reuse ``E`` (transposed) to turn vectors back into ``V``
scores: *weight tying*, which saves ``V * D`` parameters (see :mod:`.transformer`).
"""

from __future__ import annotations

import torch
from torch import nn


class TokenEmbedding(nn.Module):
    """A ``[V, D]`` table of learned vectors, one row per token id."""

    def __init__(self, vocab_size: int, d_model: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(vocab_size, d_model))
        nn.init.normal_(self.weight, mean=0.0, std=0.02)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """``tokens [B, T]`` -> ``[B, T, D]``: one row of the table per token."""
        return self.weight[tokens]
