"""The position-wise feed-forward network (FFN).

Attention moves information *between* tokens; the FFN then processes each token on its own, with
the same weights at every position (hence "position-wise")::

    FFN(x) = Dropout( W2 · GELU(W1 · x + b1) + b2 )

    x [B, T, D]  --W1-->  [B, T, F]  --GELU-->  [B, T, F]  --W2-->  [B, T, D]

``F`` (``d_ff``) is usually ``4 * D``: the network widens, applies a non-linearity, and narrows
back. Without the non-linearity the two matrices would collapse into one linear map. GELU,
``x · Φ(x)``, is a smooth ReLU used by GPT-2 and BERT. GPT-2 itself computed ``Φ`` with a tanh
approximation, ``0.5 · (1 + tanh(√(2/π) · (x + 0.044715 x³)))``; ``activation="gelu_tanh"`` uses it, so
that imported GPT-2 weights give GPT-2's outputs (the two differ by up to about 1e-3 per unit).

Parameters: ``2 · D · F`` weights plus ``F + D`` biases. Most of a transformer's per-layer
parameters (two thirds when ``F = 4D``) live here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn



class FeedForward(nn.Module):
    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.0, activation: str = "gelu") -> None:
        super().__init__()
        self.approximate = "tanh" if activation == "gelu_tanh" else "none"
        self.up = nn.Linear(d_model, d_ff)
        self.down = nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x [B, T, D]`` -> ``[B, T, D]``, each position independently."""
        return self.dropout(self.down(F.gelu(self.up(x), approximate=self.approximate)))
