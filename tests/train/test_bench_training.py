"""The training benchmark measures what it says (a smoke run on a toy shape; speed is not asserted)."""

from tui_transformer.bench.training import ReferenceGPT, flops_per_token, matmul_params, run_train_bench
from tui_transformer.model import DecoderTransformer, ModelConfig

TOY = ModelConfig(vocab_size=64, d_model=16, n_heads=2, n_layers=1, d_ff=32, max_seq_len=8)


def test_reference_has_the_same_shape_as_ours():
    ours = sum(p.numel() for p in DecoderTransformer(TOY).parameters())
    ref = sum(p.numel() for p in ReferenceGPT(TOY).parameters())
    assert ref - ours in (0, TOY.max_seq_len * TOY.d_model)  # only the learned position table may differ


def test_flop_count_formula():
    assert matmul_params(TOY) == 1 * (4 * 16 * 16 + 2 * 16 * 32) + 16 * 64
    assert flops_per_token(TOY) == 6 * matmul_params(TOY) + 12 * 1 * 16 * 8


def test_bench_reports_every_variant():
    result = run_train_bench(TOY, batch_size=2, steps_per_round=1, rounds=1, warmup_steps=1)
    assert [r["variant"] for r in result["rows"]] == ["ours-explicit", "ours-sdpa", "reference"]
    assert result["peak_flops"] > 1e6 and result["peak_memory_mb"] > 0
    for row in result["rows"]:
        assert row["tokens_per_s"] > 0 and 0 < row["mfu"] < 1
    assert result["rows"][-1]["vs_reference"] == 1.0
