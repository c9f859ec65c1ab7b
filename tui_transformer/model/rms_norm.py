"""RMSNorm, and the one place that picks the model's normalisation (``norm``).

LayerNorm (GPT-2's) centres each vector, scales it to variance 1, then scales and shifts it::

    LayerNorm(x) = γ · (x − μ) / √(σ² + ε) + β        μ, σ² the mean and variance of x's D entries

RMSNorm (Zhang & Sennrich 2019; Llama, Gemma, the NanoGPT speedrun) keeps only the scaling, by the
root mean square instead of the standard deviation::

    RMSNorm(x) = g · x / √(mean(x²) + ε)              x [..., D] -> [..., D], g [D]

Why it is enough: what the next layer needs is inputs of a steady size, and dividing by the RMS gives
that; re-centring adds little. It skips a mean and a subtraction, and it has no shift ``β``, so
``D`` parameters instead of ``2 · D``. It normalises the last axis whatever the others are, so the
same module normalises a token's ``[D]`` vector or, under ``qk_norm``, one head's ``[d_head]`` query.

Under 16-bit autocast the mean of squares is taken in float32, as LayerNorm's statistics are: squares
of bf16 values overflow and round far sooner.
"""

from __future__ import annotations

import torch
from torch import nn

NORM_EPS = 1e-5  # LayerNorm's default ε, used by both norms so that switching changes only the formula


class RMSNorm(nn.Module):
    """``g · x / √(mean(x²) + ε)`` over the last axis of width ``dim``; the gain ``g`` starts at 1."""

    def __init__(self, dim: int, eps: float = NORM_EPS) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x [..., dim]`` -> the same shape, each vector scaled to root mean square 1, then by ``g``."""
        x32 = x.float()
        normed = x32 * torch.rsqrt(x32.pow(2).mean(dim=-1, keepdim=True) + self.eps)
        return self.weight * normed.type_as(x)


def make_norm(kind: str, dim: int, bias: bool = True) -> nn.Module:
    """The normalisation the config asks for: ``"layernorm"`` (with its shift ``β`` only when ``bias``) or
    ``"rmsnorm"`` (which has none)."""
    if kind == "rmsnorm":
        return RMSNorm(dim)
    return nn.LayerNorm(dim, eps=NORM_EPS, bias=bias)
