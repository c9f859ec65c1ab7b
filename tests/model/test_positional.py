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


def _complex_rotation(pairs: torch.Tensor, start: int) -> torch.Tensor:
    """Pairs ``[..., T, d/2, 2]`` as complex numbers times ``e^(j·p·θ_i)``, ``p = start ..``: the formula."""
    n_pairs = pairs.shape[-2]
    theta = 10000.0 ** (-torch.arange(0, 2 * n_pairs, 2, dtype=torch.float64) / (2 * n_pairs))
    angles = torch.outer(torch.arange(start, start + pairs.shape[-3], dtype=torch.float64), theta)  # [T, d/2]
    return torch.view_as_real(torch.view_as_complex(pairs.double().contiguous()) * torch.polar(torch.ones_like(angles), angles))


def test_rope_is_the_complex_product_of_each_pair_with_its_angle():
    """The pairs (x[i], x[i + d/2]) as complex numbers times e^(j·p·θ_i), p the position (from 3 on)."""
    rope = RotaryEmbedding(max_seq_len=16, d_head=8)
    x = torch.randn(2, 3, 5, 8)
    pairs = torch.stack(x.chunk(2, dim=-1), dim=-1)  # [..., T, 4, 2]: (x1[i], x2[i])
    expected = torch.cat(_complex_rotation(pairs, 3).unbind(-1), dim=-1)  # back to [x1, x2]
    torch.testing.assert_close(rope(x, start_pos=3).double(), expected, rtol=1e-5, atol=1e-6)


def test_a_model_saved_with_neighbour_pairs_loads_computing_what_it_computed():
    """A state dict of version 1 rotated the pairs (x[2i], x[2i+1]). Its attention, written out with
    that rotation, gives the same scores as the loaded model's queries and keys."""
    torch.manual_seed(0)
    config = ModelConfig(vocab_size=50, d_model=16, n_heads=2, n_layers=1, d_ff=32, max_seq_len=12, pos_encoding="rope")
    old_weights = DecoderTransformer(config).state_dict()
    old_weights._metadata["blocks.0.attn"]["version"] = 1  # as written before the pairs moved
    loaded = DecoderTransformer(config).eval()
    loaded.load_state_dict(old_weights)

    x = torch.randn(1, 7, 16)
    attn = loaded.blocks[0].attn
    q_old, k_old, _ = (x @ old_weights["blocks.0.attn.qkv.weight"].T + old_weights["blocks.0.attn.qkv.bias"]).chunk(3, -1)

    def rotate_neighbours(t):  # [1, 7, D] -> per head [1, 2, 7, 8], pairs (2i, 2i+1)
        pairs = t.view(1, 7, 2, 4, 2).transpose(1, 2)
        return _complex_rotation(pairs, 0).flatten(-2)

    old_scores = rotate_neighbours(q_old) @ rotate_neighbours(k_old).transpose(-2, -1)
    with torch.no_grad():
        q, k, _ = attn.qkv(x).view(1, 7, 3, 2, 8).permute(2, 0, 3, 1, 4)
        new_scores = attn.rope(q) @ attn.rope(k).transpose(-2, -1)
    torch.testing.assert_close(new_scores.double(), old_scores, rtol=1e-4, atol=1e-4)
    fresh = DecoderTransformer(config)
    fresh.load_state_dict(loaded.state_dict())  # a state dict of this version loads unchanged
    assert torch.equal(fresh.blocks[0].attn.qkv.weight, attn.qkv.weight)


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
    from tui_transformer.model.tools.explain import positional_matrix

    model = DecoderTransformer(ModelConfig(vocab_size=50, d_model=32, n_heads=4, n_layers=1, d_ff=64,
                                           max_seq_len=64, pos_encoding="alibi"))
    what, matrix = positional_matrix(model, 6)
    assert "ALiBi" in what and matrix.shape == (4, 6)
    slopes = [2.0 ** (-8 * (h + 1) / 4) for h in range(4)]
    assert torch.allclose(matrix, torch.tensor([[-m * d for d in range(6)] for m in slopes]))
