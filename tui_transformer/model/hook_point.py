"""Hook points: named places in the forward pass where a probe may look.

A :class:`HookPoint` is the identity layer, ``x -> x``. The model passes the tensors a reader may
want to see through one, and each hook point is named by where it sits, as TransformerLens names
them::

    blocks.{l}.hook_resid_pre     [B, T, D]          the residual stream entering block l
    blocks.{l}.hook_resid_mid     [B, T, D]          after the attention's contribution is added
    blocks.{l}.hook_resid_post    [B, T, D]          after the feed-forward's: what block l writes
    blocks.{l}.attn.hook_q        [B, H, Tq, d_head] the queries (rotated, under rope)
    blocks.{l}.attn.hook_k        [B, H, Tk, d_head] the keys attended to (cached ones included)
    blocks.{l}.attn.hook_z        [B, H, Tq, d_head] each head's output, before the heads are merged

(TransformerLens puts the head axis after the position axis; here the heads come first, as the
attention computes them.) A hook point is an ordinary module, so a PyTorch forward hook on it sees
the tensor and may replace it; :mod:`~tui_transformer.model.tools.hooks` opens such hooks by name
for one thread at a time. With no hook attached it changes nothing.
"""

from __future__ import annotations

import torch
from torch import nn


class HookPoint(nn.Module):
    """The identity ``x -> x``: a named place for a forward hook."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x
