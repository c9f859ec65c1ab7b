"""Positional encodings: the sinusoidal formula, start offsets, and RoPE's relative property."""

import math

import torch

from tui_transformer.model import DecoderTransformer, ModelConfig
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


def test_rope_is_the_complex_product_of_each_pair_with_its_angle():
    """The pairs (x[2i], x[2i+1]) as complex numbers times e^(j·p·θ_i), p the position (from 3 on)."""
    rope = RotaryEmbedding(max_seq_len=16, d_head=8)
    x = torch.randn(2, 3, 5, 8)
    theta = 10000.0 ** (-torch.arange(0, 8, 2, dtype=torch.float64) / 8)
    angles = torch.outer(torch.arange(3, 8, dtype=torch.float64), theta)  # [5, 4]
    expected = torch.view_as_real(torch.view_as_complex(x.double().unflatten(-1, (-1, 2)).contiguous())
                                  * torch.polar(torch.ones_like(angles), angles)).flatten(-2)
    torch.testing.assert_close(rope(x, start_pos=3).double(), expected, rtol=1e-5, atol=1e-6)


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


def test_alibi_slopes_and_bias_for_8_heads_are_the_papers():
    from tui_transformer.model.positional import ALiBi

    alibi = ALiBi(8)
    assert torch.equal(alibi.slopes, torch.tensor([2.0 ** -(h + 1) for h in range(8)]))  # 1/2 .. 1/256
    bias = alibi(0, 5)
    assert bias.shape == (8, 5, 5)
    for h in range(8):
        for i in range(5):
            for j in range(5):
                expected = -(2.0 ** -(h + 1)) * (i - j) if j <= i else float("-inf")
                assert bias[h, i, j].item() == expected


def test_alibi_slopes_for_a_head_count_that_is_no_power_of_two():
    from tui_transformer.model.positional import alibi_slopes

    # the paper's rule: the 4-head slopes, then every other one of the 8-head slopes
    assert alibi_slopes(6).tolist() == [2.0**-2, 2.0**-4, 2.0**-6, 2.0**-8, 2.0**-1, 2.0**-3]


def test_alibi_bias_after_cached_keys_uses_the_queries_positions():
    from tui_transformer.model.positional import ALiBi

    alibi = ALiBi(2)
    full, tail = alibi(0, 7), alibi(4, 3)  # queries 4..6 over keys 0..6, as in a cached decode
    assert tail.shape == (2, 3, 7) and torch.equal(tail, full[:, 4:, :])


def test_alibi_bias_depends_only_on_relative_position():
    from tui_transformer.model.positional import ALiBi

    alibi = ALiBi(4)
    # six queries at positions 10..15 see keys 10..15 exactly as queries 0..5 see keys 0..5
    assert torch.equal(alibi(10, 6)[:, :, 10:], alibi(0, 6))


def test_the_learn_page_matrix_of_alibi_is_each_heads_penalty_by_distance():
    from tui_transformer.model.explain import positional_matrix

    model = DecoderTransformer(ModelConfig(vocab_size=50, d_model=32, n_heads=4, n_layers=1, d_ff=64,
                                           max_seq_len=64, pos_encoding="alibi"))
    what, matrix = positional_matrix(model, 6)
    assert "ALiBi" in what and matrix.shape == (4, 6)
    slopes = [2.0 ** (-8 * (h + 1) / 4) for h in range(4)]
    assert torch.allclose(matrix, torch.tensor([[-m * d for d in range(6)] for m in slopes]))
