"""Positional encodings: the sinusoidal formula, start offsets, and RoPE's relative property."""

import math

import torch

from tui_transformer.model.positional import (
    LearnedPositionalEncoding,
    RotaryEmbedding,
    SinusoidalPositionalEncoding,
    sinusoidal_table,
)


def test_sinusoidal_values_match_the_formula():
    d_model = 16
    table = sinusoidal_table(50, d_model)
    for p in (0, 1, 7, 49):
        for i in range(d_model // 2):
            angle = p / 10000 ** (2 * i / d_model)
            assert math.isclose(table[p, 2 * i].item(), math.sin(angle), abs_tol=1e-6)
            assert math.isclose(table[p, 2 * i + 1].item(), math.cos(angle), abs_tol=1e-6)


def test_sinusoidal_start_pos_is_respected():
    pe = SinusoidalPositionalEncoding(max_seq_len=40, d_model=8)
    x = torch.zeros(2, 3, 8)
    assert torch.equal(pe(x, start_pos=17)[0], sinusoidal_table(40, 8)[17:20])
    assert not torch.equal(pe(x, start_pos=17), pe(x, start_pos=0))


def test_learned_start_pos_is_respected():
    pe = LearnedPositionalEncoding(max_seq_len=40, d_model=8)
    x = torch.zeros(1, 2, 8)
    assert torch.equal(pe(x, start_pos=5)[0], pe.weight[5:7])


def test_rope_start_pos_is_respected():
    rope = RotaryEmbedding(max_seq_len=40, d_head=8)
    x = torch.randn(1, 2, 10, 8)
    whole = rope(x)
    tail = rope(x[:, :, 6:], start_pos=6)
    assert torch.allclose(whole[:, :, 6:], tail, atol=1e-6)
    assert torch.allclose(whole[:, :, 0], x[:, :, 0]), "position 0 is rotated by angle 0"


def test_rope_scores_depend_only_on_relative_position():
    rope = RotaryEmbedding(max_seq_len=64, d_head=8)
    q, k = torch.randn(8), torch.randn(8)

    def score(m, n):
        q_at_m = rope(q.expand(m + 1, 8))[m]
        k_at_n = rope(k.expand(n + 1, 8))[n]
        return (q_at_m @ k_at_n).item()

    assert math.isclose(score(10, 3), score(40, 33), rel_tol=1e-4, abs_tol=1e-5)
    assert not math.isclose(score(10, 3), score(10, 9), rel_tol=1e-3)
    # Rotations preserve length.
    assert torch.allclose(rope(q.expand(30, 8)).norm(dim=-1), q.norm().expand(30), atol=1e-5)
