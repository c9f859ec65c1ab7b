"""The pre-LN transformer block: attention and feed-forward around a residual stream.

::

    x = x + MultiHeadAttention(LayerNorm(x))      # tokens exchange information
    x = x + FeedForward(LayerNorm(x))             # each token is processed on its own

    x [B, T, D] in, [B, T, D] out

* **Residuals.** Each sub-layer *adds* its contribution to ``x`` instead of replacing it, so
  gradients flow straight through the ``+`` and deep stacks train. All blocks read and write one
  shared stream.
* **LayerNorm** rescales each token vector to mean 0 and variance 1, then applies a learned scale
  and shift: ``LN(x) = γ · (x − μ) / √(σ² + ε) + β`` (``2 · D`` parameters).
* **Pre-LN** (normalise the *input* of each sub-layer, as GPT-2 does) trains stably without a
  long warmup; the original transformer normalised after the addition (post-LN).
"""

from __future__ import annotations

import torch
from torch import nn

from tui_transformer.model.feedforward import FeedForward
from tui_transformer.model.hook_point import HookPoint
from tui_transformer.model.kv_cache import Cache
from tui_transformer.model.multi_head import MultiHeadAttention
from tui_transformer.model.positional import RotaryEmbedding


class Block(nn.Module):
    def __init__(
        self,
        d_model: int,
        n_heads: int,
        d_ff: int,
        dropout: float = 0.0,
        attention: str = "explicit",
        rope: RotaryEmbedding | None = None,
        layer: int = 0,
        activation: str = "gelu",
    ) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_heads, dropout, attention, rope, layer)
        self.ln2 = nn.LayerNorm(d_model)
        self.ff = FeedForward(d_model, d_ff, dropout, activation)
        self.hook_resid_pre, self.hook_resid_mid, self.hook_resid_post = HookPoint(), HookPoint(), HookPoint()

    def forward(
        self,
        x: torch.Tensor,
        start_pos: int = 0,
        mask: torch.Tensor | None = None,
        cache: Cache | None = None,
    ) -> torch.Tensor:
        x = self.hook_resid_pre(x)
        x = self.hook_resid_mid(x + self.attn(self.ln1(x), start_pos, mask, cache))
        return self.hook_resid_post(x + self.ff(self.ln2(x)))
