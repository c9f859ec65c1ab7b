"""Head composition: which earlier head feeds which later one, read from the weights alone.

An induction head needs a partner: a previous-token head in an earlier layer writes "the token
before me" into each position's residual stream, and the induction head's *keys* read it
(:mod:`.induction`). Elhage et al. (2021, "A Mathematical Framework for Transformer Circuits") measure
such a connection without running the model. For head ``h`` write its two circuits as ``D × D``
matrices on the residual stream:

    W_QK^h = W_Q^hᵀ W_K^h      the bilinear form of its attention score, x_queryᵀ W_QK x_key
    W_OV^h = W_O^h W_V^h       what it writes for what it attends to

(``W_Q, W_K, W_V``: ``[d_head, D]``, the head's rows of ``W_qkv``; ``W_O``: ``[D, d_head]``, its
columns of the output projection). A later head ``h2`` *K-composes* with an earlier ``h1`` when its
keys read what ``h1`` writes, which is the product ``W_QK^{h2} W_OV^{h1}``. The K-composition score
is that product's size relative to the two circuits' own sizes:

    K(h1 -> h2) = ‖W_QK^{h2} W_OV^{h1}‖_F / (‖W_QK^{h2}‖_F ‖W_OV^{h1}‖_F)        in [0, 1]

It is 0 when ``h1`` writes only into directions the keys of ``h2`` ignore. (Q-composition puts
``W_OV`` on the query side instead, V-composition on the value side; the induction mechanism is the
K one, which is why pairing uses it. Activation patching would measure the same link on one chosen
input; the score needs no input and no choice of corrupted prompt.)

**Cheaply.** The matrices are ``D × D`` but of rank ``d_head``; with ``‖M‖_F² = tr(Mᵀ M)`` every norm
becomes a trace of ``d_head × d_head`` products (``G_Q = W_Q W_Qᵀ`` and so on), so a GPT-2-small-sized
model's pairs take milliseconds each.

**What it leaves out.** The later head's LayerNorm gain is folded into its ``W_Q, W_K, W_V``; the
LayerNorm's centring and scaling by the stream's size, the feed-forward layers in between, the
rotation of rotary positions and a ``qk_norm`` on the queries and keys are not modelled (the block's
norm gain is folded in the same way for RMSNorm). Random weights score about ``1 / √d_head``, not 0:
read the ranking of the earlier heads, not a score alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


def head_weights(model, layer: int, head: int) -> dict[str, torch.Tensor]:
    """Head ``head`` of ``layer``: ``W_Q, W_K, W_V [d_head, D]`` (this block's LayerNorm gain folded in)
    and ``W_O [D, d_head]``, in float32 on the CPU."""
    attn = model.blocks[layer].attn
    d_model, d_head = attn.out.weight.shape[0], attn.d_head
    rows = slice(head * d_head, (head + 1) * d_head)
    gain = model.blocks[layer].ln1.weight.detach().float().cpu()
    qkv = attn.qkv.weight.detach().float().cpu()
    q, k, v = (qkv[i * d_model:(i + 1) * d_model][rows] * gain for i in range(3))
    return {"q": q, "k": k, "v": v, "o": attn.out.weight.detach().float().cpu()[:, rows]}


def _trace_of_product(a: torch.Tensor, b: torch.Tensor) -> float:
    """``tr(A B) = Σ_ij A_ij B_ij`` for symmetric ``A`` and ``B`` of the same shape."""
    return float((a * b).sum())


def k_composition(writer: dict[str, torch.Tensor], reader: dict[str, torch.Tensor]) -> float:
    """``K(writer -> reader)`` of the module docstring, from :func:`head_weights` of both heads."""
    g_q, g_k = reader["q"] @ reader["q"].T, reader["k"] @ reader["k"].T  # [d_head, d_head]
    g_writer_v, g_writer_o = writer["v"] @ writer["v"].T, writer["o"].T @ writer["o"]
    x = reader["k"] @ writer["o"]  # [d_head, d_head]: the reader's keys of what the writer writes
    # ‖W_Qᵀ X W_V'‖² = tr(Xᵀ G_Q X G_V'), with W_V' the writer's values
    product = _trace_of_product(x.T @ g_q @ x, g_writer_v)
    qk = _trace_of_product(g_q, g_k)  # ‖W_Qᵀ W_K‖²
    ov = _trace_of_product(g_writer_o, g_writer_v)  # ‖W_O W_V‖²
    if qk <= 0 or ov <= 0:  # a head switched off (zero weights) composes with nothing
        return 0.0
    return max(product, 0.0) ** 0.5 / (qk * ov) ** 0.5


def k_composition_into(model, layer: int, head: int) -> torch.Tensor:
    """``[layer, n_heads]``: the K-composition score of every head of the layers before ``layer`` into
    head ``head`` of ``layer``."""
    reader = head_weights(model, layer, head)
    n_heads = model.config.n_heads
    scores = torch.zeros(layer, n_heads)
    for earlier in range(layer):
        for h in range(n_heads):
            scores[earlier, h] = k_composition(head_weights(model, earlier, h), reader)
    return scores


@dataclass(frozen=True)
class InductionPair:
    """An induction head, the K-composition of every earlier head into it, and its partner: the
    previous-token head that feeds its keys most (or, with no previous-token head before it, the
    earlier head that does)."""

    induction: tuple[int, int]  # (layer, head)
    scores: torch.Tensor  # [layer, n_heads]: K(earlier head -> induction head)
    partner: tuple[int, int] | None
    partner_is_previous_token: bool


def pair_induction_heads(model, induction_heads: list[tuple[int, int]],
                         previous_token_heads: set[tuple[int, int]]) -> list[InductionPair]:
    """Each induction head in a layer above 0, paired by K-composition (see the module docstring)."""
    pairs = []
    for layer, head in induction_heads:
        if layer == 0:  # nothing before it to compose with
            continue
        scores = k_composition_into(model, layer, head)
        ranked = sorted(((float(scores[li, h]), (li, h)) for li in range(layer) for h in range(scores.shape[1])),
                        reverse=True)
        previous = [at for _, at in ranked if at in previous_token_heads]
        partner = previous[0] if previous else ranked[0][1]
        pairs.append(InductionPair((layer, head), scores, partner, bool(previous)))
    return pairs
