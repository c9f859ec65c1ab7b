"""The language-modelling loss: next-token cross-entropy.

At every position ``t`` the model gives logits ``z [V]`` for the token at ``t + 1``. The loss is
the negative log-probability that the softmax of ``z`` gives the true next token ``y``::

    loss_t = -log softmax(z)_y = logsumexp(z) - z_y           (in nats)

    logits [B, T, V], targets [B, T]  ->  the mean over all B·T positions (or their sum)

A model that knows nothing (uniform over ``V`` tokens) scores ``ln V``; the perplexity
``exp(mean loss)`` reads as "how many tokens the model is choosing between".

The logits are upcast to float32 first: under bf16/fp16 autocast the ``logsumexp`` over a large
vocabulary would lose the small differences that the gradient is made of.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def lm_loss(logits: torch.Tensor, targets: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy of ``logits [..., V]`` against ``targets [...]``; ``reduction`` "mean" or "sum"."""
    return F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), targets.reshape(-1), reduction=reduction)
