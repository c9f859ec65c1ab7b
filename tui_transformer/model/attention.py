"""Scaled dot-product attention, written out.

Every token asks a question (its **query**), advertises what it holds (its **key**) and offers
content (its **value**). Attention lets each query gather the values of the keys that match it::

    Attention(Q, K, V) = softmax( Q Kᵀ / √d_k + M ) V

    Q [B, H, Tq, d_k]    K, V [B, H, Tk, d_k]    scores [B, H, Tq, Tk]    output [B, H, Tq, d_k]

* ``Q Kᵀ`` compares every query with every key: one score per (query, key) pair.
* Dividing by ``√d_k`` keeps the scores' variance near 1, so the softmax does not saturate into a
  one-hot whose gradient vanishes.
* ``M`` is the **causal mask**: 0 where the key's position is at or before the query's, ``-∞``
  after it. A token cannot look at the future, because at generation time it does not exist yet.
* ``softmax`` over the keys turns each row into weights >= 0 that sum to 1.
* Dropout on those weights (training only) randomly hides some keys from some queries.

With a KV cache the queries are the ``Tq`` newest tokens, at positions ``start .. start+Tq-1``,
and the keys are all ``Tk = start + Tq`` tokens so far, so query ``i`` may see keys ``0 .. start+i``.
A single decoded token (``Tq = 1``) may see every key, and needs no mask at all.

:func:`scaled_dot_product_attention` is the computation written out (``attention="explicit"``).
:func:`fused_attention` calls PyTorch's fused kernel instead (``attention="sdpa"``, what the presets
use): the same maths in one call, without ever storing the ``[Tq, Tk]`` weights, which is faster and
lets GPUs use flash attention. A test proves the two agree. To *see* the weights of a model that runs
the fused kernel, :mod:`~.inspection` recomputes them from its queries and keys with
:func:`attention_weights`, the first half of the explicit path.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def causal_mask(n_queries: int, n_keys: int, device: torch.device | str = "cpu") -> torch.Tensor | None:
    """Boolean ``[Tq, Tk]`` mask, True where the query may attend; None when nothing is hidden.

    The queries are the last ``Tq`` of the ``Tk`` positions, so query ``i`` sits at position
    ``Tk - Tq + i`` and sees keys up to and including that position.
    """
    if n_queries == 1:
        return None
    return torch.ones(n_queries, n_keys, dtype=torch.bool, device=device).tril(diagonal=n_keys - n_queries)


def attention_weights(q: torch.Tensor, k: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """``softmax(q kᵀ / √d_k + M)``: how each query spreads its attention, ``[B, H, Tq, Tk]``.

    ``mask`` is boolean (True = may attend), or a float bias added to the scores (``−∞`` hides a key,
    as ALiBi's does), broadcast over batch and heads. Each row sums to 1.
    """
    scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))
    if mask is not None and mask.dtype == torch.bool:
        scores = scores.masked_fill(~mask, float("-inf"))
    elif mask is not None:
        scores = scores + mask
    return torch.softmax(scores, dim=-1)


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    dropout_p: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``softmax(q kᵀ / √d_k + M) v``; returns ``(output [B,H,Tq,d_k], weights [B,H,Tq,Tk])``.

    ``dropout_p`` > 0 drops attention weights (pass 0 outside training).
    """
    weights = attention_weights(q, k, mask)
    if dropout_p > 0.0:
        weights = F.dropout(weights, p=dropout_p, training=True)
    return weights @ v, weights


def fused_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    dropout_p: float = 0.0,
) -> torch.Tensor:
    """The same computation through ``F.scaled_dot_product_attention`` (one fused kernel).

    ``mask`` is the :func:`causal_mask` for these shapes, or a float bias (ALiBi's). When a boolean
    mask covers the same positions for queries and keys (no cache) the kernel is told
    ``is_causal=True`` instead of given the mask, which lets GPUs use flash attention.
    """
    if mask is not None and mask.dtype == torch.bool and q.shape[-2] == k.shape[-2]:
        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=True)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p)
