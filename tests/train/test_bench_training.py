"""The training benchmark measures what it says: the FLOP count by hand and by torch's counter, the
reported rates from the timings (a run on a toy shape; speed itself is not asserted)."""

import pytest
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from tui_transformer.bench.training import ReferenceGPT, run_train_bench
from tui_transformer.model.tools.flops import flops_per_token, matmul_params
from tui_transformer.model import DecoderTransformer, ModelConfig

TOY = ModelConfig(vocab_size=64, d_model=16, n_heads=2, n_layers=1, d_ff=32, max_seq_len=8)


def test_reference_has_the_same_shape_as_ours():
    ours = sum(p.numel() for p in DecoderTransformer(TOY).parameters())
    ref = sum(p.numel() for p in ReferenceGPT(TOY).parameters())
    assert ref - ours in (0, TOY.max_seq_len * TOY.d_model)  # only the learned position table may differ


def test_flop_count_is_the_hand_count_of_a_training_step():
    V, D, F_, L, T = TOY.vocab_size, TOY.d_model, TOY.d_ff, TOY.n_layers, TOY.max_seq_len
    # A matmul of a [1, n] row by an [n, m] matrix is n·m multiply-adds: 2·n·m FLOPs. Per token, forward:
    per_layer = (2 * D * 3 * D      # W_qkv: 16 -> 48                      1,536
                 + 2 * T * D        # q·kᵀ against T keys, H heads of D/H      256
                 + 2 * T * D        # weights · v over T values                256
                 + 2 * D * D        # W_o: 16 -> 16                           512
                 + 2 * D * F_       # W_up: 16 -> 32                        1,024
                 + 2 * F_ * D)      # W_down: 32 -> 16                      1,024
    head = 2 * D * V                # LM head: 16 -> 64                     2,048
    forward = L * per_layer + head
    assert forward == 6_656
    # backward: each matmul again for the gradient of its input and once more for its weight's
    assert flops_per_token(TOY) == 3 * forward == 19_968
    # the weights those matmuls multiply, read from the model itself: every Linear, plus the tied head (= E)
    model = DecoderTransformer(TOY)
    linears = sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))
    assert matmul_params(TOY) == linears + model.embed.weight.numel() == 3_072


def test_flop_count_is_what_torch_counts_in_a_training_step():
    """torch's FlopCounterMode counts every matmul of the real forward and backward (explicit attention,
    which computes the full T x T square as the formula does)."""
    torch.manual_seed(0)
    model = DecoderTransformer(TOY)
    tokens = torch.randint(0, TOY.vocab_size, (2, TOY.max_seq_len))
    with FlopCounterMode(display=False) as counter:
        logits = model(tokens)
        F.cross_entropy(logits.reshape(-1, TOY.vocab_size), tokens.reshape(-1)).backward()
    assert counter.get_total_flops() == flops_per_token(TOY) * tokens.numel()


@pytest.mark.slow  # runs the training benchmark
def test_bench_reports_every_variant_from_its_timings():
    result = run_train_bench(TOY, batch_size=2, steps_per_round=1, rounds=1, warmup_steps=1)
    assert [r["variant"] for r in result["rows"]] == ["ours-explicit", "ours-sdpa", "reference"]
    assert result["flops_per_token"] == 19_968 and result["seq_len"] == 8 and result["batch_size"] == 2
    assert result["peak_flops"] > 1e6 and result["peak_memory_mb"] > 0
    ours = sum(p.numel() for p in DecoderTransformer(TOY).parameters())
    reference = sum(p.numel() for p in ReferenceGPT(TOY).parameters())
    assert [row["params"] for row in result["rows"]] == [ours, ours, reference]
    for row in result["rows"]:
        assert row["tokens_per_s"] == pytest.approx(2 * 8 / (row["step_ms"] / 1e3))
        assert row["mfu"] == pytest.approx(row["tokens_per_s"] * 19_968 / result["peak_flops"])
        assert 0 < row["mfu"] < 1
        assert row["vs_reference"] == pytest.approx(row["tokens_per_s"] / result["rows"][-1]["tokens_per_s"])
    assert result["rows"][-1]["vs_reference"] == 1.0


def test_each_variant_steps_with_the_optimizer_its_project_uses():
    from tui_transformer.bench.training import build_variant

    fused = {v: bool(build_variant(v, TOY, "cpu")[1].defaults["fused"]) for v in
             ("ours-sdpa", "reference", "reference-fused")}
    assert fused == {"ours-sdpa": True, "reference": False, "reference-fused": True}


def test_the_trainers_fused_adamw_steps_like_the_plain_one():
    from tui_transformer.model import DecoderTransformer
    from tui_transformer.train.config import TrainConfig
    from tui_transformer.train.optimizer import build_optimizer

    models = []
    for fused in (True, False):
        torch.manual_seed(0)
        model = DecoderTransformer(TOY)
        optimizer = build_optimizer(model, TrainConfig(model=TOY), "cpu").optimizers["adamw"] if fused else torch.optim.AdamW(
            [{"params": [p for p in model.parameters() if p.dim() >= 2], "weight_decay": 0.1},
             {"params": [p for p in model.parameters() if p.dim() < 2], "weight_decay": 0.0}],
            lr=1e-3, betas=(0.9, 0.95))
        assert bool(optimizer.defaults["fused"]) == fused
        x = torch.randint(0, TOY.vocab_size, (2, TOY.max_seq_len), generator=torch.Generator().manual_seed(1))
        for _ in range(3):
            model(x).logsumexp(-1).mean().backward()
            optimizer.step()
            optimizer.zero_grad()
        models.append(model)
    for a, b in zip(models[0].parameters(), models[1].parameters()):
        assert torch.allclose(a, b, atol=1e-6, rtol=1e-5)
