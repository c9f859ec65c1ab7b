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
rotated inside attention: the pair ``(x[2i], x[2i+1])`` of a vector at position ``p`` is rotated by
the angle ``p · θ_i`` with ``θ_i = base^(-2i/d_head)``. Seen as a complex number
``z_i = x[2i] + j·x[2i+1]`` the rotation is one multiplication::

    z_i <- z_i · exp(j · p · θ_i)                     q, k [B, H, T, d_head]

Because ``rot(q, m) · rot(k, n) = q · rot(k, n - m)``, the attention score between positions ``m``
and ``n`` depends only on their distance: attention sees *relative* positions.

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


class RotaryEmbedding(nn.Module):
    """Rotates query/key dimension pairs by position-dependent angles (no parameters).

    The rotation is written with real numbers (the complex product expanded), so the buffers
    survive ``model.to(torch.bfloat16)``, which would drop a complex buffer's imaginary part.
    For each pair ``(x[2i], x[2i+1])`` at angle ``a = p · θ_i``::

        rot(x)[2i]   = x[2i]   · cos a  −  x[2i+1] · sin a
        rot(x)[2i+1] = x[2i+1] · cos a  +  x[2i]   · sin a

    that is ``x · COS + swap(x) · SIN``, with ``swap`` exchanging the two members of every pair and
    the buffers ``[max_seq_len, d_head]`` holding ``COS = (cos a_0, cos a_0, cos a_1, cos a_1, ..)``
    and ``SIN = (−sin a_0, sin a_0, −sin a_1, sin a_1, ..)``. Written so, the rotation is three
    operations over whole contiguous vectors, about twice as fast (forward and backward) as
    splitting the pairs into strided halves, and bit for bit the same numbers.
    """

    def __init__(self, max_seq_len: int, d_head: int, base: float = 10000.0) -> None:
        super().__init__()
        theta = base ** (-torch.arange(0, d_head, 2, dtype=torch.float64) / d_head)  # [d_head/2]
        angles = torch.outer(torch.arange(max_seq_len, dtype=torch.float64), theta)  # [T, d_head/2]
        cos, sin = angles.cos().float(), angles.sin().float()
        self.register_buffer("cos", cos.repeat_interleave(2, dim=-1), persistent=False)  # [T, d_head]
        self.register_buffer("sin", torch.stack((-sin, sin), dim=-1).flatten(-2), persistent=False)

    def forward(self, x: torch.Tensor, start_pos: int = 0) -> torch.Tensor:
        """``x [..., T, d_head]`` at positions ``start_pos ..`` -> the rotated ``x``, same shape.

        Any leading dims work, so queries and keys can be rotated in one call.
        """
        n_tokens = x.shape[-2]
        cos = self.cos[start_pos : start_pos + n_tokens].float()
        sin = self.sin[start_pos : start_pos + n_tokens].float()
        x32 = x.float()
        swapped = x32.unflatten(-1, (-1, 2)).flip(-1).flatten(-2)  # (x[2i+1], x[2i]) for every pair
        return (x32 * cos + swapped * sin).type_as(x)


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
