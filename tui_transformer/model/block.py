"""The pre-LN transformer block: attention and feed-forward around a residual stream.

::

    x = x + MultiHeadAttention(LayerNorm(x))      # tokens exchange information
    x = x + FeedForward(LayerNorm(x))             # each token is processed on its own

    x [B, T, D] in, [B, T, D] out

* **Residuals.** Each sub-layer *adds* its contribution to ``x`` instead of replacing it, so
  gradients flow straight through the ``+`` and deep stacks train. All blocks read and write one
  shared stream.
* **LayerNorm** rescales each token vector to mean 0 and variance 1, then applies a learned scale
  and shift: ``LN(x) = γ · (x − μ) / √(σ² + ε) + β`` (``2 · D`` parameters; ``D`` with ``bias=False``,
  which drops ``β``). ``norm="rmsnorm"`` uses :class:`~.rms_norm.RMSNorm` instead (``D`` parameters).
* **Pre-LN** (normalise the *input* of each sub-layer, as GPT-2 does) trains stably without a
  long warmup; the original transformer normalised after the addition (post-LN).
"""

from __future__ import annotations

import torch
from torch import nn

from tui_transformer.model.config import ModelConfig
from tui_transformer.model.feedforward import FeedForward
from tui_transformer.model.hook_point import HookPoint
from tui_transformer.model.kv_cache import Cache
from tui_transformer.model.multi_head import MultiHeadAttention
from tui_transformer.model.positional import RotaryEmbedding
from tui_transformer.model.rms_norm import make_norm


class Block(nn.Module):
    """Block ``layer`` of a model of shape ``config``; ``rope`` is the model's shared rotary table, if any."""

    def __init__(self, config: ModelConfig, rope: RotaryEmbedding | None = None, layer: int = 0) -> None:
        super().__init__()
        c = config
        self.ln1 = make_norm(c.norm, c.d_model, c.bias)
        self.attn = MultiHeadAttention(c.d_model, c.n_heads, c.dropout, c.attention, rope, layer, c.bias, c.qk_norm)
        self.ln2 = make_norm(c.norm, c.d_model, c.bias)
        self.ff = FeedForward(c.d_model, c.d_ff, c.dropout, c.activation, c.bias)
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
