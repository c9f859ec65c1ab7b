"""The Learn pages' numbers: checked against the model's own modules and the sampler itself."""

import math

import pytest
import torch

from tui_transformer.model import DecoderTransformer, ModelConfig, SamplingConfig
from tui_transformer.model.tools.explain import (
    component_table,
    kv_cache_bytes,
    kv_cache_table,
    logit_lens_table,
    nearest_neighbours,
    positional_matrix,
    residual_norms,
    sampler_stages,
)
from tui_transformer.model.tools.inspection import inspect
from tui_transformer.model.positional import sinusoidal_table
from tui_transformer.model.sampling import Sampler
from tui_transformer.model.transformer import count_parameters


def _model(**overrides) -> DecoderTransformer:
    torch.manual_seed(0)
    fields = dict(vocab_size=50, d_model=16, n_heads=2, n_layers=2, d_ff=32, max_seq_len=32) | overrides
    return DecoderTransformer(ModelConfig(**fields))


def test_nearest_neighbours_finds_a_planted_twin():
    embedding = torch.randn(20, 8)
    embedding[7] = 3.0 * embedding[3] + 0.01 * torch.randn(8)  # same direction, another length
    (near_3, near_7) = nearest_neighbours(embedding, [3, 7], k=4)
    assert near_3[0][0] == 7 and near_7[0][0] == 3
    assert near_3[0][1] == pytest.approx(1.0, abs=1e-3)
    assert all(token != 3 for token, _ in near_3)  # never itself
    cosines = [c for _, c in near_3]
    assert cosines == sorted(cosines, reverse=True) and len(cosines) == 4


@pytest.mark.parametrize("kind", ["sinusoidal", "learned", "rope"])
def test_positional_matrix_is_what_the_model_uses(kind):
    model = _model(pos_encoding=kind)
    what, matrix = positional_matrix(model, 10)
    if kind == "sinusoidal":
        assert torch.equal(matrix, sinusoidal_table(32, 16)[:10])
    elif kind == "learned":
        assert torch.equal(matrix, model.pos.weight[:10].detach())
    else:
        assert "angle" in what and matrix.shape == (10, model.config.d_head // 2)
        # position 1, pair 0 rotates by θ_0 = 1 radian; pair i by base^(-2i/d_head)
        assert matrix[1, 0].item() == pytest.approx(1.0, abs=1e-5)
        assert matrix[1, 1].item() == pytest.approx(10000 ** (-2 / model.config.d_head), rel=1e-4)
        assert matrix.abs().max().item() <= math.pi + 1e-6


def test_component_table_counts_every_parameter_once():
    model = _model(tie_weights=False, pos_encoding="learned")
    rows = component_table(model)
    names = [row.name for row in rows]
    assert names[:2] == ["embed", "pos"] and "blocks.1.attn" in names and names[-1] == "total"
    assert sum(row.parameters for row in rows[:-1]) == rows[-1].parameters == count_parameters(model.config)
    attn = rows[names.index("blocks.0.attn")]
    assert attn.shapes == ((48, 16), (48,), (16, 16), (16,))
    assert [row.name for row in component_table(model, blocks=(0,)) if row.name.startswith("blocks.1")] == []


def test_residual_norms_and_logit_lens_read_the_inspection():
    model = _model()
    seen = inspect(model, [1, 2, 3, 4])
    norms = residual_norms(seen)
    assert [name for name, _ in norms] == ["embed + pos", "block 0", "block 1"]
    assert norms[2][1] == pytest.approx(seen.residual[1].norm(dim=-1).mean().item())
    table = logit_lens_table(seen, decode=lambda ids: f"<{ids[0]}>")
    assert len(table) == 2 and len(table[0]) == 4
    last = torch.softmax(seen.logits[0], -1).max(-1)  # the lens at the last layer is the model's output
    assert [token for token, _ in table[1]] == [f"<{i}>" for i in last.indices.tolist()]
    assert [p for _, p in table[1]] == pytest.approx(last.values.tolist(), rel=1e-5)


def test_kv_cache_formula_matches_a_real_cache():
    model = _model()
    for length in (1, 7, 32):
        assert kv_cache_bytes(model.config, length) == model.new_cache(1, max_len=length).memory_bytes()
    table = kv_cache_table(model.config, prompt_length=5)
    assert [n for n, _ in table] == [5, 16, 32]
    assert table[-1][1] == 2 * table[1][1]  # linear in the length


@pytest.mark.parametrize("config", [
    SamplingConfig(temperature=0.7, top_k=10, top_p=0.8, min_p=0.05, repetition_penalty=1.3),
    SamplingConfig(temperature=1.5, top_p=0.5),
    SamplingConfig(temperature=0.0, repetition_penalty=2.0),
    SamplingConfig(),
])
def test_sampler_stages_end_in_the_distribution_the_sampler_draws_from(config):
    torch.manual_seed(1)
    logits, context = torch.randn(50) * 3, torch.tensor([4, 9, 9, 20])
    stages = sampler_stages(logits, context, config)
    assert [s.name.split()[0] for s in stages] == ["model", "rep-pen", "temp", "top-k", "top-p", "min-p"]
    assert torch.allclose(stages[0].probs, torch.softmax(logits, -1))
    expected = Sampler(config).distribution(logits.unsqueeze(0), context.unsqueeze(0))[0]
    assert torch.allclose(stages[-1].probs, expected, atol=1e-6)
    for stage in stages:
        assert stage.probs.sum().item() == pytest.approx(1.0, abs=1e-5)
    if config.top_k:
        assert (stages[3].probs > 0).sum().item() == config.top_k
    if config.repetition_penalty > 1 and not config.greedy:
        assert (stages[1].probs[context] != stages[0].probs[context]).all()
