"""Positional encodings: telling the model where each token is.

Attention is a weighted *sum* over tokens, and a sum ignores order: without help, "dog bites man"
and "man bites dog" would look the same. Four ways to inject position are implemented here.

**Sinusoidal** (the original transformer; the default). For position ``p`` and dimension pair
``i`` (``0 <= i < D/2``)::

    PE[p, 2i]   = sin(p / 10000^(2i/D))
    PE[p, 2i+1] = cos(p / 10000^(2i/D))
    x <- x + PE[start : start + T]                    x [B, T, D], PE [max_seq_len, D]

Each pair is a clock ticking at its own speed; together they give every position a unique
signature. ``start`` matters when decoding with a KV cache: the token at position ``N`` is fed
alone, and must get ``PE[N]``, not ``PE[0]``.

**Learned**: a trained table ``P [max_seq_len, D]`` added the same way. Simple, but it has no row
for positions past ``max_seq_len``.

**RoPE** (rotary, RoFormer / LLaMA). Nothing is added to ``x``. Instead every query and key is
rotated inside attention, two dimensions at a time. Split a head's ``d_head`` dimensions into halves
``x1 = x[:d/2]`` and ``x2 = x[d/2:]``; pair ``i`` is ``(x1[i], x2[i])``, and at position ``p`` it turns
by the angle ``p · θ_i`` with ``θ_i = base^(-2i/d_head)``::

    rot(x) = [ x1 · cos − x2 · sin ,  x2 · cos + x1 · sin ]          cos, sin of p · θ_i
           = x · COS + rotate_half(x) · SIN        rotate_half(x) = [−x2, x1]
                                                   q, k [B, H, T, d_head]

Each pair is a 2-D vector turned by a rotation matrix. Because ``rot(q, m) · rot(k, n) = q · rot(k, n − m)``,
the attention score between positions ``m`` and ``n`` depends only on their distance: attention
sees *relative* positions. Which dimensions form a pair is a convention: the RoFormer paper pairs
neighbours ``(2i, 2i+1)``, GPT-NeoX and LLaMA pair the halves as here; a model works the same with
either, as long as it trains and runs with one.

**ALiBi** (attention with linear biases, Press et al. 2021). Nothing is added or rotated: each head
``h`` subtracts a penalty proportional to the distance from every attention score::

    score[h, i, j] = q_i · k_j / √d_head  −  m_h · (i − j)          for keys j <= i

The slopes ``m_h`` are a geometric sequence, ``m_h = 2^(−8(h+1)/H)`` for ``H`` a power of two
(8 heads: 1/2, 1/4, ..., 1/256), so some heads look only nearby and others far. Like RoPE it sees
relative positions only; unlike RoPE it has no table sized by ``max_seq_len`` at all.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def sinusoidal_table(max_len: int, d_model: int) -> torch.Tensor:
    """The ``[max_len, d_model]`` table ``PE`` of the formula above (``d_model`` even)."""
    position = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)  # [T, 1]
    # 1 / 10000^(2i/D) for i = 0 .. D/2-1, computed in log space for precision.
    inv_freq = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64) * (-math.log(10000.0) / d_model))
    table = torch.zeros(max_len, d_model, dtype=torch.float64)
    table[:, 0::2] = torch.sin(position * inv_freq)
    table[:, 1::2] = torch.cos(position * inv_freq)
    return table.float()


class SinusoidalPositionalEncoding(nn.Module):
    """Adds the fixed sinusoidal table; no parameters (the table is a buffer)."""

    def __init__(self, max_seq_len: int, d_model: int) -> None:
        super().__init__()
        self.register_buffer("table", sinusoidal_table(max_seq_len, d_model), persistent=False)

    def forward(self, x: torch.Tensor, start_pos: int = 0) -> torch.Tensor:
        """``x [B, T, D]`` at positions ``start_pos .. start_pos + T - 1`` -> ``x + PE[those]``."""
        return x + self.table[start_pos : start_pos + x.shape[1]]


class LearnedPositionalEncoding(nn.Module):
    """Adds a trained ``[max_seq_len, D]`` table (``max_seq_len * D`` parameters)."""

    def __init__(self, max_seq_len: int, d_model: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(max_seq_len, d_model))
        nn.init.normal_(self.weight, mean=0.0, std=0.02)

    def forward(self, x: torch.Tensor, start_pos: int = 0) -> torch.Tensor:
        return x + self.weight[start_pos : start_pos + x.shape[1]]


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """``[x1, x2] -> [−x2, x1]`` over the last dimension: each pair ``(x1[i], x2[i])`` turned by 90°."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class RotaryEmbedding(nn.Module):
    """Rotates the dimension pairs of queries and keys by position-dependent angles (no parameters).

    The buffers ``cos`` and ``sin`` are ``[max_seq_len, d_head]``: row ``p`` holds ``cos(p · θ_i)``
    (and ``sin``) for ``i = 0 .. d_head/2 − 1``, twice over, so that both members of pair ``i`` (at
    ``i`` and ``i + d_head/2``) meet their angle.
    """

    def __init__(self, max_seq_len: int, d_head: int, base: float = 10000.0) -> None:
        super().__init__()
        theta = base ** (-torch.arange(0, d_head, 2, dtype=torch.float64) / d_head)  # [d_head/2]
        angles = torch.outer(torch.arange(max_seq_len, dtype=torch.float64), theta)  # [T, d_head/2]
        angles = torch.cat((angles, angles), dim=-1)  # [T, d_head]
        self.register_buffer("cos", angles.cos().float(), persistent=False)
        self.register_buffer("sin", angles.sin().float(), persistent=False)

    def forward(self, x: torch.Tensor, start_pos: int = 0) -> torch.Tensor:
        """``x [..., T, d_head]`` at positions ``start_pos ..`` -> the rotated ``x``, same shape.

        Any leading dims work, so queries and keys can be rotated in one call. The rotation runs in
        float32 (a 16-bit angle table would blur far positions) and the result keeps ``x``'s dtype.
        """
        n_tokens = x.shape[-2]
        cos = self.cos[start_pos : start_pos + n_tokens].float()
        sin = self.sin[start_pos : start_pos + n_tokens].float()
        x32 = x.float()
        return (x32 * cos + rotate_half(x32) * sin).type_as(x)


def alibi_slopes(n_heads: int) -> torch.Tensor:
    """The paper's slopes ``m_h``, ``[H]``: ``2^(−8(h+1)/H)`` for ``H`` a power of two.

    For other ``H`` the paper takes the slopes of the nearest lower power of two ``P``, then every
    other slope of ``2P`` heads for the rest (they fall between the first ones).
    """
    def geometric(n: int) -> list[float]:
        return [2.0 ** (-8.0 * (h + 1) / n) for h in range(n)]

    power = 2 ** math.floor(math.log2(n_heads))
    slopes = geometric(power) + geometric(2 * power)[0::2][: n_heads - power]
    return torch.tensor(slopes, dtype=torch.float32)


class ALiBi(nn.Module):
    """Each head's linear distance penalty on the attention scores, with the causal mask (no parameters)."""

    def __init__(self, n_heads: int) -> None:
        super().__init__()
        self.register_buffer("slopes", alibi_slopes(n_heads), persistent=False)

    def forward(self, start_pos: int, n_queries: int) -> torch.Tensor:
        """The float bias ``[H, Tq, Tk]`` to add to the scores of queries at ``start_pos ..``.

        Keys are positions ``0 .. start_pos + Tq − 1``; entry ``[h, i, j]`` is ``−m_h · (i' − j)`` for the
        query's position ``i' = start_pos + i``, and ``−∞`` for keys after it (the causal mask).
        """
        device = self.slopes.device
        queries = torch.arange(start_pos, start_pos + n_queries, device=device).unsqueeze(1)  # [Tq, 1]
        keys = torch.arange(start_pos + n_queries, device=device).unsqueeze(0)  # [1, Tk]
        distance = (queries - keys).float()  # [Tq, Tk], negative for future keys
        bias = -self.slopes.view(-1, 1, 1) * distance  # [H, Tq, Tk]
        return bias.masked_fill(distance < 0, float("-inf"))
