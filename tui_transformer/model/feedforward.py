"""The position-wise feed-forward network (FFN).

Attention moves information *between* tokens; the FFN then processes each token on its own, with
the same weights at every position (hence "position-wise")::

    FFN(x) = Dropout( W_down · act(W_up · x + b_up) + b_down )

    x [B, T, D]  --W_up-->  [B, T, F]  --act-->  [B, T, F]  --W_down-->  [B, T, D]

``F`` (``d_ff``) is usually ``4 * D``: the network widens, applies a non-linearity, and narrows
back. Without the non-linearity the two matrices would collapse into one linear map. The
non-linearity (``activation``):

* ``"gelu"``: ``x · Φ(x)``, a smooth ReLU used by GPT-2 and BERT (the default).
* ``"gelu_tanh"``: GPT-2 itself computed ``Φ`` with a tanh approximation,
  ``0.5 · (1 + tanh(√(2/π) · (x + 0.044715 x³)))``, so imported GPT-2 weights need it to give GPT-2's
  outputs (the two differ by up to about 1e-3 per unit).
* ``"relu2"``: ``max(0, x)²`` (So et al. 2021, "Primer"; the NanoGPT speedrun). Zero for negative
  inputs, so most hidden units are exactly 0 for a given token (a sparse code), and its slope ``2x``
  grows with the input where GELU's stays near 1. It trains faster per step at no extra cost.
* ``"swiglu"``: a *gated* unit (Shazeer 2020; Llama, Qwen). A third matrix ``W_gate [F, D]`` computes
  a gate that multiplies the hidden units one by one::

      FFN(x) = W_down · ( silu(W_gate · x) ⊙ (W_up · x) )       silu(u) = u · sigmoid(u)

  The hidden unit is a product of two linear views of ``x``, which a plain ``act(W_up · x)`` cannot
  form. ``F`` stays the hidden width, so the FFN costs ``3 · D · F`` weights instead of ``2 · D · F``
  (Llama takes ``F ≈ 8/3 · D`` to keep the count of a ``4 · D`` GELU network).

Parameters: ``2 · D · F`` weights (``3 · D · F`` for swiglu) plus ``F + D`` biases (``2 · F + D``
for swiglu; none with ``bias=False``). Most of a transformer's per-layer parameters (two thirds
when ``F = 4D``) live here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def feedforward_parameters(d_model: int, d_ff: int, activation: str = "gelu", bias: bool = True) -> int:
    """The FFN's parameter count (see the module docstring)."""
    matrices = 3 if activation == "swiglu" else 2  # up and down, and swiglu's gate
    return matrices * d_model * d_ff + (((matrices - 1) * d_ff + d_model) if bias else 0)


class FeedForward(nn.Module):
    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.0, activation: str = "gelu",
                 bias: bool = True) -> None:
        super().__init__()
        self.activation = activation
        self.gate = nn.Linear(d_model, d_ff, bias=bias) if activation == "swiglu" else None
        self.up = nn.Linear(d_model, d_ff, bias=bias)
        self.down = nn.Linear(d_ff, d_model, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x [B, T, D]`` -> ``[B, T, D]``, each position independently."""
        return self.dropout(self.down(self.hidden(x)))

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """``x [B, T, D]`` -> the activated hidden units ``[B, T, F]``."""
        if self.gate is not None:
            return F.silu(self.gate(x)) * self.up(x)
        h = self.up(x)
        if self.activation == "relu2":
            return F.relu(h).square()
        return F.gelu(h, approximate="tanh" if self.activation == "gelu_tanh" else "none")
